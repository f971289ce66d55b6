"""Fixtures of the real-browser tests: one `streamlit run` (as `make app` starts it) and one Chromium for all of
them (one xdist worker runs them: tests/conftest.py), a page per module, and the lecture prepared in the server's
cache."""

import os
import subprocess

import pytest
from browsertools import CHROMIUM, ROOT, SHOTS, free_port, serve_command, wait_healthy


@pytest.fixture(scope="session")
def server():
    SHOTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = serve_command(port)
    with open(SHOTS.parent / f"streamlit-test-{port}.log", "w") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:  # busy to the end: it must not outlive the tests
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def prepared():
    """The lecture prepared (what a lecturer does before class); the server shares this cache."""
    from hashdemo.experiments import lecture

    lecture.prepare()
