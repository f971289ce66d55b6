"""Seconds per image of each attack, as a ratio to the floor T x (forward + backward to the input) of the same model
on the same batch, measured in one run: hashdemo without and with exact early exit, and a
plain PGD loop written the way public attack code writes it (one loop, the model's parameters left requiring
gradients so that backward computes their gradients too, the clean code recomputed each step), whose adversarial
images must equal hashdemo's. Everything alternates, so a drift in machine speed hits each alike.

    PYTHONPATH=. .venv/bin/python bench/attack_speed.py [--batch 250] [--steps 100] [--threads 2] [--eps 8] [--smoke]
"""

import argparse
import time

import torch

from hashdemo import attacks
from hashdemo.attacks.budget import Budget
from hashdemo.attacks.losses import hag_loss, pga_loss
from hashdemo.run.driver import attack_batch, run_attack
from hashdemo.run.protocols import DEFAULT_PROTOCOL
from hashdemo.run.settings import resolve
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.system import load_system
from hashdemo.targets.codes import pharos_code


def floor_seconds(model, x: torch.Tensor, steps: int) -> float:
    """The floor of an iterative attack: `steps` forward + backward passes to the input on batch x."""
    xi = x.clone().requires_grad_(True)
    start = time.perf_counter()
    for _ in range(steps):
        torch.autograd.grad(torch.tanh(model.pre_tanh(xi)).sum(), xi)
    return time.perf_counter() - start


def public_loop(system, name: str, x, y, budget: Budget) -> tuple[torch.Tensor, float]:
    """HAG (with its schedule) or PgA the way public code runs them: parameters requiring gradients, loss.backward(),
    model.zero_grad(), the clean output and the target recomputed inside the loop."""
    model = system.model
    model.requires_grad_(True)
    start = time.perf_counter()
    x_adv = x.clone()
    if name == "pga":
        x_adv = x_adv + torch.empty_like(x).uniform_(
            -budget.eps, budget.eps, generator=torch.Generator().manual_seed(budget.seed)
        )
        x_adv = torch.min(torch.max(x_adv, x - budget.eps), x + budget.eps).clamp(0, 1)
    for t in range(budget.steps):
        x_adv = x_adv.detach().requires_grad_(True)
        if name == "hag":
            scale = attacks.loop.hag_schedule(t, budget.steps)
            clean = torch.tanh(scale * model.pre_tanh(x)).detach()
            loss = hag_loss(torch.tanh(scale * model.pre_tanh(x_adv)), clean, 0.5)
        else:
            pharos = pharos_code(y, system.train_codes, system.dataset.train.labels).float()
            loss = pga_loss(torch.tanh(model.pre_tanh(x_adv)), pharos, -0.8)
        model.zero_grad()
        loss.sum().backward()
        with torch.no_grad():
            x_adv = x_adv - budget.step * x_adv.grad.sign()
            x_adv = torch.min(torch.max(x_adv, x - budget.eps), x + budget.eps).clamp(0, 1)
    seconds = time.perf_counter() - start
    model.requires_grad_(False)
    return x_adv.detach(), seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--eps", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="seconds: batch 8, T = 3, one round, 16 queries")
    args = parser.parse_args(argv)
    if args.smoke:
        args.batch, args.steps, args.rounds = 8, 3, 1
    torch.set_num_threads(args.threads)
    system = load_system(ModelSpec())
    data = system.dataset
    x, y = data.query.images(torch.arange(args.batch)), data.query.labels[: args.batch]
    print(
        f"{system.spec.source}, batch {args.batch}, T = {args.steps}, eps {args.eps:g}/255, {args.threads} threads; "
        f"best of {args.rounds}, alternating"
    )
    print(
        f"{'attack':12s} {'floor s/img':>11s} {'no early exit':>14s} {'early exit':>11s} {'public loop':>12s}"
        "  (ratios to the floor)  same images"
    )
    floor_seconds(system.model, x, 5)  # warm-up
    for name in ["hag", "sdha", "pga", "pga-dagger", "p2p", "dhta", "tha", "ifgsm", "feature"]:
        settings = resolve(DEFAULT_PROTOCOL, name, {"steps": args.steps, "eps": args.eps}, model=system.spec)
        attack = attacks.get(name, system, **settings.method_params)

        def run(images, labels, exact=True, attack=attack, settings=settings):
            return attack_batch(attack, images, labels, None, settings, early_exit=exact)

        run(x[:4], y[:4])  # warm-up (and the one-off PrototypeNet for THA)
        floors, slow, fast, public, same = [], [], [], [], None
        for _ in range(args.rounds):
            floors.append(floor_seconds(system.model, x, args.steps))
            slow.append(run(x, y, exact=False).seconds)
            result = run(x, y)
            fast.append(result.seconds)
            if name in ("hag", "pga"):
                images, seconds = public_loop(system, name, x, y, settings.budget)
                public.append(seconds)
                same = torch.equal(images, result.adversarial)
        floor = min(floors)
        line = f"{name:12s} {floor / args.batch:11.5f} {min(slow) / floor:14.3f} {min(fast) / floor:11.3f}"
        line += f" {min(public) / floor:12.3f}  {'':22s}{same}" if public else ""
        print(line, flush=True)
    start = time.perf_counter()
    queries = {"queries": 16} if args.smoke else {}
    given = {"steps": args.steps, "eps": args.eps, **queries}
    report = run_attack(system, resolve(DEFAULT_PROTOCOL, "pga", given, model=system.spec), use_cache=False).report
    print(
        f"PgA on {report.queries} queries (T = {args.steps}, eps {args.eps:g}/255): "
        f"{time.perf_counter() - start:.1f} s wall, MAP {report.map_clean:.4f} -> {report.map_adv:.4f}"
    )


if __name__ == "__main__":
    main()
