"""A class at once: `make class`'s server (python -m hashdemo.ui.serve --class) on a prepared lecture, N students
opening the lecturer's links in their own browser sessions at the same moment while the lecturer walks the steps;
measured in one run: the seconds from the lecturer's click to each step's result (p50, p95, worst), errors seen
by any session, and the server's peak resident memory. The goals: p95 <= 3 s, no error, <= 4 GB.

    PYTHONPATH=. .venv/bin/python bench/class_load.py [--students 20] [--smoke]

--smoke: 2 students and the first two steps (seconds), so that CI runs this script.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def peak_mb(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="seconds: 2 students, the first two steps")
    args = parser.parse_args(argv)
    from browsertools import CHROMIUM, free_port, serve_command, wait_healthy
    from playwright.sync_api import sync_playwright

    from hashdemo.experiments.lecture import LECTURE, prepare
    from hashdemo.ui.frame import PAGES, step_link

    students = 2 if args.smoke else args.students
    steps = list(range(1, 3 if args.smoke else len(LECTURE) + 1))
    cache = os.environ.get("HASHDEMO_CACHE") or tempfile.mkdtemp(prefix="hashdemo-bench-class-")
    env = {**os.environ, "HASHDEMO_CACHE": cache, "PYTHONPATH": str(ROOT)}
    os.environ["HASHDEMO_CACHE"] = cache
    prepare(steps=tuple(LECTURE[n - 1] for n in steps))  # what the lecturer does before class
    port = free_port()
    server = subprocess.Popen(
        serve_command(port, "--class"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    errors: list[str] = []
    times: list[float] = []
    try:
        wait_healthy(url)

        def link(n: int) -> str:
            page, params = step_link(n, present=True)
            query = urlencode(params, doseq=True)
            return f"{url}/{next(p.url_path for p in PAGES if p.path == page)}?{query}"

        def student(number: int, start: threading.Event) -> None:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1024, "height": 768})
                start.wait()
                for n in steps:
                    page.goto(link(n))
                    page.wait_for_selector(IDLE, timeout=300_000)
                    if page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count():
                        errors.append(f"student {number}, step {n}")
                browser.close()

        start = threading.Event()
        crowd = [threading.Thread(target=student, args=(i, start)) for i in range(students)]
        for thread in crowd:
            thread.start()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1024, "height": 768})
            page.goto(f"{url}/Lecture?present=true")
            page.wait_for_selector(IDLE, timeout=300_000)
            start.set()  # the students open their links as the lecturer starts
            for n in steps:  # as in class: the step's Open link on the Lecture page, then the browser's Back
                begin = time.perf_counter()
                page.get_by_role("link", name="Open").nth(n - 1).click()
                page.wait_for_timeout(200)
                page.wait_for_selector(IDLE, timeout=300_000)
                times.append(time.perf_counter() - begin)
                if page.locator('[data-testid="stException"]').count():
                    errors.append(f"lecturer, step {n}")
                page.go_back()
                page.wait_for_timeout(200)
                page.wait_for_selector(IDLE, timeout=300_000)
            browser.close()
        for thread in crowd:
            thread.join()
        memory = peak_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{students} students + the lecturer, {len(steps)} steps, prepared, one 2-core server (--class)")
    print(
        f"lecturer's click to result: median {statistics.median(times):.2f} s, p95 {p95:.2f} s, "
        f"worst {max(times):.2f} s; " + ", ".join(f"step {n} {t:.1f} s" for n, t in zip(steps, times, strict=True))
    )
    print(f"errors seen by any session: {len(errors)} {errors[:5]}; server peak resident memory {memory} MB")


if __name__ == "__main__":
    main()
