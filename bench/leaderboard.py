"""The leaderboard's cost against the number of models: `hashdemo leaderboard` over the first 1, 2, 4 and 8 zoo
models (undefended, on the default data), each from an empty cache, measured in one run; the cost per model should
stay flat (the board is one driver plan: its work grows linearly with models and with queries).

    PYTHONPATH=. .venv/bin/python bench/leaderboard.py [--queries 100] [--counts 1,2,4,8] [--smoke]

--smoke ranks 1 and 2 models on 2 queries with 2 iterations (seconds), so that CI runs this script.
"""

import argparse
import contextlib
import io
import os
import tempfile
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--counts", default="1,2,4,8")
    parser.add_argument("--smoke", action="store_true", help="seconds: 1 and 2 models, 2 queries, 2 iterations")
    args = parser.parse_args(argv)
    from hashdemo.cli import main as hashdemo
    from hashdemo.systems.zoo import zoo_cards

    counts = [1, 2] if args.smoke else [int(c) for c in args.counts.split(",")]
    size = ["--queries", "2", "--steps", "2"] if args.smoke else ["--queries", str(args.queries)]
    models = [c.source for c in zoo_cards() if c.dataset == "fashion" and not c.defence and not c.held_out_classes]
    before = os.environ.get("HASHDEMO_CACHE")
    print(f"| models | seconds | seconds per model |  ({' '.join(size)}, every run from an empty cache)")
    print("|---|---|---|")
    try:
        for count in counts:
            os.environ["HASHDEMO_CACHE"] = tempfile.mkdtemp(prefix="hashdemo-bench-board-")
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # the board itself is not the measurement
                assert hashdemo(["leaderboard", "--models", ",".join(models[:count]), *size, "--format", "json"]) == 0
            seconds = time.perf_counter() - start
            print(f"| {count} | {seconds:.0f} | {seconds / count:.1f} |", flush=True)
    finally:
        if before is None:
            os.environ.pop("HASHDEMO_CACHE", None)
        else:
            os.environ["HASHDEMO_CACHE"] = before


if __name__ == "__main__":
    main()
