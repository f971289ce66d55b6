"""Seconds per image of each attack and its ratio to the physical floor T x (forward + backward) of the same
model on the same batch, measured in one run; plus PgA on all 1,000 fashion queries."""

import argparse
import time

import torch

from hashdemo import attacks
from hashdemo.evaluation import run_attack
from hashdemo.protocols import resolve
from hashdemo.system import load_system

MODEL = "zoo:fashion-dpsh-smallcnn-32"


def floor_seconds(model, x: torch.Tensor, steps: int) -> float:
    """The physical floor of an iterative attack: `steps` forward + backward passes to the input on batch x."""
    xi = x.clone().requires_grad_(True)
    start = time.perf_counter()
    for _ in range(steps):
        torch.autograd.grad(torch.tanh(model.pre_tanh(xi)).sum(), xi)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    system = load_system(MODEL)
    data = system.dataset
    x, y = data.query.images(torch.arange(args.batch)), data.query.labels[: args.batch]
    print(f"{MODEL}, batch {args.batch}, T = {args.steps}, {args.threads} threads; each attack timed right after")
    print("its floor T x (forward+backward to the input, same model, same batch); best of three, alternating")
    print(f"{'attack':12s} {'s/image':>9s} {'floor s/image':>14s} {'ratio':>7s}")
    floor_seconds(system.model, x, 5)  # warm-up
    for name in ["hag", "sdha", "pga", "pga-dagger", "p2p", "dhta", "tha", "ifgsm", "feature"]:
        settings = resolve("pgd", name, {"steps": args.steps})
        attack = attacks.get(name, system, **settings.params)
        run = {"budget": settings.budget, "loop": settings.loop}
        attack(x[:4], y[:4], **run)  # warm-up (and the one-off PrototypeNet for THA)
        floors, times = [], []
        for _ in range(3):  # alternate, so a drift in machine speed hits both alike
            floors.append(floor_seconds(system.model, x, args.steps))
            times.append(attack(x, y, **run).seconds)
        floor, seconds = min(floors), min(times)
        print(f"{name:12s} {seconds / args.batch:9.5f} {floor / args.batch:14.5f} {seconds / floor:7.3f}")
    start = time.perf_counter()
    report = run_attack(system, resolve("pgd", "pga", {"steps": args.steps}), use_cache=False).report
    total = time.perf_counter() - start
    print(
        f"PgA on all 1,000 queries (T = {args.steps}, eps 8/255): {total:.1f} s wall, MAP {report['map_clean']:.4f} "
        f"-> {report['map_adv']:.4f}"
    )


if __name__ == "__main__":
    main()
