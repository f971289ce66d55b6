"""A class at once: `make class`'s server (python -m hashdemo.ui.serve --class) on a prepared lecture, N students
opening each of the lecturer's links at the same moment while the lecturer walks the steps in Chromium; each student
is a session of its own over Streamlit's websocket, as a browser opening the link makes one (the page, its query,
every element sent until the script ends; drawing is left out, since 20 browsers here would share the server's two
cores). Measured in one run: the seconds from the lecturer's click to each step's result (p50, p95, worst) over
--walks walks of the lecture (8 clicks alone make the p95 their worst), the students' openings alike, errors seen
by any session, the server's peak resident memory. The goals: the lecturer's p95 <= 3 s, no error, <= 4 GB.

    PYTHONPATH=. .venv/bin/python bench/class_load.py [--students 20] [--walks 3] [--smoke]

--smoke: 1 student and the first step (seconds), so that CI runs this script.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from hashdemo.ui.warm import NOT_WARM_LINE, WARM_LINE, WARM_STEPS, open_link

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def peak_mb(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


FAULT = '[data-testid="stException"], [data-testid="stAlertContentError"]'
SCREEN = {"width": 1024, "height": 768}
PATIENCE_MS = 120_000  # a step that takes longer is reported as a fault


STEP_SHOWN = """([path, results]) => location.pathname.endsWith(path)
    && document.querySelector('[data-testid="stApp"]')?.getAttribute("data-test-script-state") === "notRunning"
    && [...document.querySelectorAll("a")].some((a) => a.textContent.includes("Back to the lecture"))
    && document.querySelector(results) !== null"""
LECTURE_SHOWN = """() => location.pathname.endsWith("/Lecture")
    && document.querySelector('[data-testid="stApp"]')?.getAttribute("data-test-script-state") === "notRunning"
    && [...document.querySelectorAll("a")].some((a) => a.textContent.endsWith("Open"))"""
RESULTS = ", ".join(
    f'[data-testid="stMain"] {r}'
    for r in ("table", ".js-plotly-plot", '[data-testid="stImage"] img', '[data-testid="stMetric"]')
)


async def walk(url: str, steps: list[int], students: int, link, errors: list[str], times: dict) -> None:
    """The lecturer in Chromium clicks each step's Open link on the Lecture page (then the browser's Back), and at
    the same moment every student opens that step's link; the next step starts when all of them have their page."""
    from browsertools import CHROMIUM
    from playwright.async_api import async_playwright

    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"

    async def student(number: int, n: int) -> None:
        try:
            begin = time.perf_counter()
            faults = await open_link(ws_url, *link(n))
            times["students"].append(time.perf_counter() - begin)
            errors.extend(f"student {number}, step {n}: {fault}" for fault in faults)
        except Exception as exc:  # a refused or dropped connection is what the bench looks for
            errors.append(f"student {number}, step {n}: {type(exc).__name__} {exc}")

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        lecturer = await browser.new_page(viewport=SCREEN)
        await lecturer.goto(f"{url}/Lecture?present=true", timeout=PATIENCE_MS)
        await lecturer.wait_for_function(LECTURE_SHOWN, timeout=PATIENCE_MS)

        async def lecturer_opens(n: int) -> None:
            """Click to the step's result on screen (its page, idle, with its result element), then Back."""
            begin = time.perf_counter()
            await lecturer.get_by_role("link", name="Open").nth(n - 1).click(timeout=PATIENCE_MS)
            path = "/" + link(n)[0]
            await lecturer.wait_for_function(STEP_SHOWN, arg=[path, RESULTS], timeout=PATIENCE_MS)
            times["lecturer"].append(time.perf_counter() - begin)
            if await lecturer.locator(FAULT).count():
                errors.append(f"lecturer, step {n}: an error on the page")

        for n in steps:
            await asyncio.gather(lecturer_opens(n), *(student(i, n) for i in range(students)))
            await lecturer.go_back(timeout=PATIENCE_MS)
            await lecturer.wait_for_function(LECTURE_SHOWN, timeout=PATIENCE_MS)
        await browser.close()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--walks", type=int, default=3, help="walks of the lecture, one after another")
    parser.add_argument("--smoke", action="store_true", help="seconds: 1 student, the first step, one walk")
    args = parser.parse_args(argv)
    from browsertools import free_port, serve_command, wait_healthy

    from hashdemo.experiments.lecture import LECTURE, prepare
    from hashdemo.ui.frame import PAGES, step_link

    students = 1 if args.smoke else args.students
    steps = list(range(1, 2 if args.smoke else len(LECTURE) + 1))
    walks = 1 if args.smoke else args.walks
    cache = os.environ.get("HASHDEMO_CACHE") or tempfile.mkdtemp(prefix="hashdemo-bench-class-")
    warmed_steps = ",".join(map(str, steps))  # the server opens only the steps walked here
    env = {**os.environ, "HASHDEMO_CACHE": cache, "PYTHONPATH": str(ROOT), WARM_STEPS: warmed_steps}
    os.environ["HASHDEMO_CACHE"] = cache
    prepare(steps=tuple(LECTURE[n - 1] for n in steps))  # what the lecturer does before class
    port = free_port()
    log = Path(cache) / "class-server.log"
    with log.open("w") as out:
        server = subprocess.Popen(serve_command(port, "--class"), cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    errors: list[str] = []
    times: dict[str, list[float]] = {"lecturer": [], "students": []}
    try:
        wait_healthy(url)
        begin = time.perf_counter()
        while WARM_LINE not in log.read_text():  # the server opens each ready step once before the class comes
            if NOT_WARM_LINE in log.read_text() or server.poll() is not None or time.perf_counter() - begin > 600:
                raise RuntimeError(f"the class server did not warm up: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        warmed = time.perf_counter() - begin
        if "faults: none" not in log.read_text():
            errors.append("the server's own opening of the steps: " + log.read_text().split(WARM_LINE)[1][:300])

        def link(n: int) -> tuple[str, str]:
            page, params = step_link(n, present=True)
            return next(p.url_path for p in PAGES if p.path == page), urlencode(params, doseq=True)

        asyncio.run(walk(url, steps * walks, students, link, errors, times))
        memory = peak_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=120)
    lecturer, crowd = times["lecturer"], times["students"]
    print(
        f"{students} students + the lecturer, {len(steps)} steps walked {walks} times, prepared, one 2-core server "
        f"(--class), which opened the ready steps once in {warmed:.0f} s after it answered"
    )
    print(
        f"lecturer's click to result: median {statistics.median(lecturer):.2f} s, p95 {p95(lecturer):.2f} s, "
        f"worst {max(lecturer):.2f} s over {len(lecturer)} clicks; by step: "
        + ", ".join(f"{n}: " + "/".join(f"{t:.1f}" for t in lecturer[i :: len(steps)]) for i, n in enumerate(steps))
    )
    if crowd:
        print(
            f"a student's link to its last element: median {statistics.median(crowd):.2f} s, p95 {p95(crowd):.2f} s, "
            f"worst {max(crowd):.2f} s over {len(crowd)} openings"
        )
    print(f"errors seen by any session: {len(errors)} {errors[:5]}; server peak resident memory {memory} MB")


if __name__ == "__main__":
    main()
