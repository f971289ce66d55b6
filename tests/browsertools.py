"""Helpers of the real-browser tests (tests/ui/test_browser_*.py): where Chromium is, the screens, the clip
check run in the page, waiting for Streamlit to settle, full-page screenshots."""

import os
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / ".cache" / "screenshots"
PAGES = {
    "home": "",
    "how_hashing_works": "How_hashing_works",
    "attack_lab": "Attack_Lab",
    "compare": "Compare",
    "sweep": "Sweep",
    "prosgan": "ProS-GAN",
    "robustness": "Robustness",
    "report": "Report",
    "transfer": "Transfer",
    "lecture": "Lecture",
}
# a laptop, and a projector's 1024x768 at 150% zoom (the browser then lays out 683x512 CSS pixels)
SCREENS = {"1280x800": ({"width": 1280, "height": 800}, 1), "1024x768_150": ({"width": 683, "height": 512}, 1.5)}
CLIPPED = """() => {
  const out = [];
  const selectors = ['button p', '[data-testid="stMetricLabel"] *', '[data-testid="stMetricValue"] *',
    '[data-testid="stWidgetLabel"] p', '[data-baseweb="select"] [title]', 'th', 'h1', 'h2', 'h3'];
  for (const el of document.querySelectorAll(selectors.join(','))) {
    if (!el.offsetParent || !el.innerText) continue;
    const sidebar = el.closest('[data-testid="stSidebar"]');
    if (sidebar && sidebar.getBoundingClientRect().width < 1) continue;  // a collapsed sidebar shows nothing
    if (el.scrollWidth > el.clientWidth + 1) out.push('text: ' + el.innerText.slice(0, 60));
  }
  const right = document.documentElement.clientWidth;
  for (const img of document.querySelectorAll('[data-testid="stImage"] img')) {
    const box = img.getBoundingClientRect();
    if (box.width && box.right > right + 1)
      out.push('image past the edge: ' + Math.round(box.right) + ' > ' + right + ' ('
               + img.closest('[data-testid="stImage"]').innerText + ')');
  }
  for (const svg of document.querySelectorAll('.js-plotly-plot .main-svg')) {
    const title = svg.querySelector('.gtitle');
    if (title && title.getBoundingClientRect().right > svg.getBoundingClientRect().right + 1)
      out.push('chart title: ' + title.textContent.slice(0, 60));
  }
  return out;
}"""
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def browser_missing_reason() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (make test installs Debian's chromium with apt-get)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


def browser_mark():
    """Skip the module without a browser, except in CI, where a missing browser fails."""
    reason = browser_missing_reason()
    if reason and os.environ.get("CI"):
        pytest.fail(f"the browser test cannot be skipped in CI: {reason}", pytrace=False)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(port: int, *extra: str) -> list[str]:
    """`python -m hashdemo.ui.serve` (what `make app` runs) headless on 127.0.0.1:port, `extra` flags first."""
    return [
        sys.executable,
        "-m",
        "hashdemo.ui.serve",
        *extra,
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]


def wait_healthy(url: str) -> None:
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail("streamlit did not become healthy in 60 s; see .cache/streamlit-test-<port>.log")


RENDERED = """() => [...document.querySelectorAll('[data-testid="stImage"] img')].every(img => img.complete)
  && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'))"""


def settle(page, timeout=120_000) -> None:
    """Until the script has run (a click's rerun takes a moment to reach the browser) and its images and charts
    are drawn."""
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_function(RENDERED, timeout=timeout)
    page.wait_for_timeout(200)


def screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport to the content first."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height + 40)})
    page.wait_for_function(RENDERED)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)
