"""The robustness report of the default model at its default size (report.REPORT_QUERIES queries), as
`python -m hashdemo report` makes it, measured in one run: from an empty cache (wall time, peak resident memory of
the process that makes it), killed half-way and started again (how many finished batches it computed again: the
goal is none), and a second time on the warm cache. The goals: <= 10 min and <= 3 GB on this 2-core CPU, <= 30 s
warm.

    PYTHONPATH=. .venv/bin/python bench/report.py [--queries N] [--kill-after 120] [--smoke]

--smoke makes a 2-query, 1-iteration report in this process and kills another after 2 s (seconds in all), so
that CI runs this script.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEAK = "import resource, runpy, sys; sys.argv = ['hashdemo', *sys.argv[1:]]; "
MEASURED = (
    PEAK + "import atexit; atexit.register(lambda: print('peak_rss_mb', "
    "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)); "
    "runpy.run_module('hashdemo', run_name='__main__')"
)


def report(args: list[str], env: dict, timeout: float | None = None) -> tuple[float, int | None, int]:
    """Wall seconds, peak resident MB (None when killed) and the exit status of one `hashdemo report`."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", MEASURED, *args],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return time.perf_counter() - start, None, -9
    found = re.search(r"peak_rss_mb (\d+)", err)  # after the progress bar's last line, on the same line
    peak = int(found.group(1)) if found else None
    if proc.returncode:
        print(err.strip().splitlines()[-1], file=sys.stderr)
    return time.perf_counter() - start, peak, proc.returncode


def batches(cache: Path) -> set[str]:
    return {p.stem for p in (cache / "batches").glob("*.json")}


def resumed(args: list[str], cache: Path) -> dict:
    """The command run again in this process, recording the key of every batch it computes and stores."""
    os.environ["HASHDEMO_CACHE"] = str(cache)
    from hashdemo.cli import main
    from hashdemo.run import driver

    stored: set[str] = set()
    real = driver.store_batch

    def recording(job, prepared, batch):
        stored.add(driver.batch_key(job, prepared, batch.first))
        real(job, prepared, batch)

    driver.store_batch = recording
    start = time.perf_counter()
    try:
        main(args)
    finally:
        driver.store_batch = real
    return {"seconds": time.perf_counter() - start, "stored": stored, "computed": len(stored)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=None, help="default: the report's own size")
    parser.add_argument("--kill-after", type=float, default=120, help="seconds before the run that is killed")
    parser.add_argument("--smoke", action="store_true", help="seconds: 4 queries, 2 iterations, killed after 5 s")
    a = parser.parse_args(argv)
    size = ["--queries", "2", "--steps", "1"] if a.smoke else (["--queries", str(a.queries)] if a.queries else [])
    kill_after = 2 if a.smoke else a.kill_after
    out = Path(tempfile.mkdtemp(prefix="hashdemo-bench-report-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["report", *size, "--out", str(out / "report")]

    cold = out / "cold"
    if a.smoke:  # in this process: the code paths, not the numbers
        seconds, peak, status = resumed(args, cold)["seconds"], None, 0
    else:
        seconds, peak, status = report(args, {**env, "HASHDEMO_CACHE": str(cold)})
    print(f"from an empty cache: {seconds:.0f} s, peak resident memory {peak} MB, exit {status}")
    seconds, _, status = report(args, {**env, "HASHDEMO_CACHE": str(cold)}) if not a.smoke else (0.0, None, 0)
    print(f"again, on the warm cache: {seconds:.1f} s (a new process: its start included), exit {status}")

    killed = out / "killed"
    seconds, _, status = report(args, {**env, "HASHDEMO_CACHE": str(killed)}, timeout=kill_after)
    kept = batches(killed)
    print(f"killed after {seconds:.0f} s: {len(kept)} finished batches of an unfinished run on disk")
    if a.smoke:
        return  # killed before it began: starting again would be the cold run once more
    again = resumed(args, killed)
    print(
        f"started again: {again['seconds']:.0f} s to the end; {again['computed']} batches computed, of which "
        f"{len(again['stored'] & kept)} were among the {len(kept)} kept (the goal: 0)"
    )


if __name__ == "__main__":
    main()
