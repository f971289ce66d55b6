"""Seconds from opening each lecture step to its result, as the app runs it (Streamlit's AppTest in this process,
one session, like a lecturer clicking through): from an empty cache, and from another empty cache after
`lecture --prepare` (timed too). The goals: under 30 s cold and under 3 s prepared on this 2-core CPU. Measured
in one run; the process keeps its loaded models between the two walks, as a running app server does.

    PYTHONPATH=. .venv/bin/python bench/lecture.py [--threads 2] [--smoke]

--smoke walks the first two steps only (seconds), so that CI runs this script.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from hashdemo.ui.frame import VIEWS

ROOT = Path(__file__).resolve().parent.parent


def walk(at, steps) -> list[float]:
    out = []
    for step in steps:
        for key in list(at.query_params):
            at.query_params.pop(key)
        for key, value in step.params.items():
            at.query_params[key] = value
        start = time.perf_counter()
        at.switch_page(VIEWS[step.view]).run()
        out.append(time.perf_counter() - start)
        assert not at.exception, (step.title, [e.value for e in at.exception])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="seconds: the first two steps")
    args = parser.parse_args(argv)
    import torch
    from streamlit.testing.v1 import AppTest

    from hashdemo.experiments.lecture import LECTURE, prepare

    torch.set_num_threads(args.threads)
    steps = LECTURE[:2] if args.smoke else LECTURE

    def session() -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
        walk(at, LECTURE[:1])  # the app's first page load (imports, the default model) is not a step's cost
        return at

    before = os.environ.get("HASHDEMO_CACHE")
    try:
        os.environ["HASHDEMO_CACHE"] = tempfile.mkdtemp(prefix="hashdemo-bench-lecture-")
        cold = walk(session(), steps)
        os.environ["HASHDEMO_CACHE"] = tempfile.mkdtemp(prefix="hashdemo-bench-lecture-")
        start = time.perf_counter()
        prepare(steps=steps)
        print(f"lecture --prepare: {time.perf_counter() - start:.0f} s")
        prepared = walk(session(), steps)
    finally:
        if before is None:
            os.environ.pop("HASHDEMO_CACHE", None)
        else:
            os.environ["HASHDEMO_CACHE"] = before
    print(f"| step | cold (s) | prepared (s) |  torch threads {args.threads}")
    print("|---|---|---|")
    for step, a, b in zip(steps, cold, prepared, strict=True):
        print(f"| {step.title} | {a:.1f} | {b:.1f} |")


if __name__ == "__main__":
    main()
