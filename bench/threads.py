"""Seconds per image of PgA (the pgd protocol: eps 8/255, T = 100) on the default model with 1 thread, 2 threads
and the default (`--threads` unset: the CPUs idle when a batch starts, hashdemo.core.devices.idle_cpus), on an idle
machine and beside a busy process (a one-thread torch loop in another process), measured in one run with the
settings alternating, so that a drift in machine speed hits each alike. The goal: the default never slower than
one thread (ratio default / 1 thread <= 1, within 10% noise), on either machine state.

    PYTHONPATH=. .venv/bin/python bench/threads.py [--queries 200] [--rounds 2] [--smoke]

--smoke: 8 queries, T = 5, one round (seconds), so that CI runs this script.
"""

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import replace

from hashdemo.run.driver import run_attack
from hashdemo.run.protocols import DEFAULT_PROTOCOL
from hashdemo.run.settings import resolve
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.system import load_system

BUSY = "import torch; torch.set_num_threads(1); a = torch.randn(400, 400)\nwhile True: a = (a @ a).tanh()"
CHOICES = {"1 thread": 1, "2 threads": 2, "default": None}


def seconds_per_image(system, settings) -> float:
    start = time.perf_counter()
    run_attack(system, settings, use_cache=False)
    return (time.perf_counter() - start) / settings.queries


def measure(system, base, rounds: int) -> dict[str, float]:
    times = {name: [] for name in CHOICES}
    for _ in range(rounds):
        for name, count in CHOICES.items():
            times[name].append(seconds_per_image(system, replace(base, threads=count)))
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="8 queries, T = 5, one round")
    args = parser.parse_args(argv)
    system = load_system(ModelSpec())
    queries, steps, rounds = (8, 5, 1) if args.smoke else (args.queries, None, args.rounds)
    extra = {"steps": steps} if steps else {}
    base = resolve(DEFAULT_PROTOCOL, "pga", {"queries": queries, **extra}, model=system.spec)
    seconds_per_image(system, base)  # warm-up
    rows = {"idle": measure(system, base, rounds)}
    neighbour = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        time.sleep(1.0)
        rows["beside a busy process"] = measure(system, base, rounds)
    finally:
        neighbour.kill()
        neighbour.wait()
    print(f"PgA, {queries} queries, T = {base.steps}, s/image (median of {rounds}); ratio to 1 thread")
    for state, row in rows.items():
        cells = ", ".join(f"{name} {value:.4f} ({value / row['1 thread']:.2f}x)" for name, value in row.items())
        print(f"{state}: {cells}")


if __name__ == "__main__":
    main()
