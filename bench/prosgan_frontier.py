"""ProS-GAN on the t-MAP / RMSE frontier (README "ProS-GAN"): on the same queries and target labels (the `prosgan`
protocol: t-MAP over the whole database), DHTA by PGD-100 with HAG's schedule and by 2000 sign steps over eps,
DHTA + I-FGSM and + FGSM over eps, and every ProS-GAN generator shipped beside the model (or given), one point
each; the reconstruction floor is the faithful generator's RMSE when asked for the query's own label. For each
generator it says who wins at its RMSE (hashdemo.experiments.frontier).

    PYTHONPATH=. python bench/prosgan_frontier.py [--queries 200] [--model zoo:...] [--generator PATH ...] [--smoke]

--smoke: 4 queries, two budgets, 3 iterations (seconds), so that CI runs this script.
"""

import argparse
from dataclasses import replace
from pathlib import Path

from hashdemo.experiments.frontier import CURVES, measure
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.system import load_system


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--model", default="zoo:fashion-dpsh-smallcnn-32")
    parser.add_argument("--generator", action="append", default=[], help="a trained prosgan.safetensors besides")
    parser.add_argument("--smoke", action="store_true", help="seconds: 4 queries, two budgets, 3 iterations")
    args = parser.parse_args(argv)
    system = load_system(ModelSpec(args.model))
    curves = CURVES
    if args.smoke:
        curves = tuple(replace(c, loop={**c.loop, "steps": 3} if c.loop else {}, budgets=c.budgets[:2]) for c in CURVES)
    frontier = measure(system, 4 if args.smoke else args.queries, curves, tuple(map(Path, args.generator)))
    print(f"{args.model}, `prosgan` protocol (t-MAP over the whole database), {frontier.queries} queries, seed 0")
    print("| attack | eps (/255) | RMSE | t-MAP |\n|---|---|---|---|")
    for p in frontier.points:
        print(f"| {p.series} | {'-' if p.eps is None else f'{p.eps:g}'} | {p.rmse:.4f} | {p.t_map:.4f} |")
    print(f"| reconstruction floor (faithful generator, the query's own label) | - | {frontier.floor:.4f} | - |\n")
    print("\n".join(frontier.verdicts()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
