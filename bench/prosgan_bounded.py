"""What a bounded ProS-GAN is up against (README "ProS-GAN"): on the held-out query images and target labels its
training log monitors (200 queries, t-MAP over the whole database), each shipped bounded generator of the default
model beside
- one perturbation per target label, the same for every image (a universal perturbation, found by sign steps on
  the generator's own J_ham over training images without that label): what a generator that ignores its input
  image could reach;
- DHTA by 100 PGD steps of 1/255 with a fixed loss tanh(H), and with HAG's schedule (the goal's reference).

    PYTHONPATH=. python bench/prosgan_bounded.py [--eps 8] [--steps 150] [--images 256] [--smoke]

--smoke: 8 queries, 8 training images per target, 2 steps (seconds, numbers meaningless), so that CI runs it.
"""

import argparse
import time
from dataclasses import replace

import torch

from hashdemo import attacks
from hashdemo.attacks.budget import Budget
from hashdemo.attacks.loop import Loop
from hashdemo.core.units import from_255
from hashdemo.prosgan import losses
from hashdemo.prosgan.gallery import shipped_files
from hashdemo.prosgan.model import load, training_settings
from hashdemo.prosgan.training import TrainSettings, held_out_draw
from hashdemo.retrieval.metrics import perceptibility_rmse
from hashdemo.run.report import map_at
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.system import load_system


def universal_perturbations(system, net, eps: float, steps: int, images: int, ham_scale: float) -> torch.Tensor:
    """One L-inf-bounded perturbation per label vector the generator knows (M, C, H, W): sign steps of eps/25 on
    the mean J_ham (Eq. 7, on tanh(ham_scale H)) towards its prototype code, over `images` training images that
    share no class with it."""
    data = system.dataset
    train_labels = data.train.labels.bool()
    out = []
    for label in net.labels:
        pool = torch.nonzero(~(train_labels & label).any(1)).flatten()[:images]
        x = data.train.images(pool)
        code = net.prototype_codes(label[None]).expand(len(x), -1)
        delta = torch.zeros_like(x[:1], requires_grad=True)
        for _ in range(steps):
            pre = system.model.pre_tanh((x + delta).clamp(0, 1))
            (grad,) = torch.autograd.grad(losses.hamming_loss(pre, code, ham_scale).mean(), delta)
            with torch.no_grad():
                delta -= eps / 25 * grad.sign()
                delta.clamp_(-eps, eps)
        out.append(delta.detach()[0])
    return torch.stack(out)


def row(system, title: str, x: torch.Tensor, x_adv: torch.Tensor, targets: torch.Tensor, seconds: float) -> None:
    with torch.no_grad():
        t_map = map_at(system, system.model.encode(x_adv), targets, -1)
    rmse = float(perceptibility_rmse(x, x_adv).mean())
    linf = float((x_adv - x).abs().amax()) * 255
    print(f"| {title} | {t_map:.4f} | {rmse:.4f} | {linf:.1f} | {seconds:.0f} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--eps", type=float, default=8.0, help="the budget (1/255) of the universal and DHTA rows")
    parser.add_argument("--steps", type=int, default=150, help="sign steps of each universal perturbation")
    parser.add_argument("--images", type=int, default=256, help="training images each is found on")
    parser.add_argument("--ham-scale", type=float, default=0.1, help="their J_ham on tanh(s H) (README)")
    parser.add_argument("--smoke", action="store_true", help="seconds: 8 queries, 8 images, 2 steps")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    system = load_system(ModelSpec())
    held_out = 8 if args.smoke else TrainSettings.held_out
    steps, images, dhta_steps = (2, 8, 2) if args.smoke else (args.steps, args.images, 100)
    index, targets = held_out_draw(system, replace(TrainSettings(), held_out=held_out))
    data = system.dataset
    x, labels = data.query.images(index), data.query.labels[index]
    eps = from_255(args.eps)
    print(f"{system.name}, {len(index)} held-out queries; eps {args.eps:g}/255 for the rows that take one")
    print("| attack | t-MAP | RMSE | L-inf (/255) | s |\n|---|---|---|---|---|")
    row(system, "clean", x, x, targets, 0)
    bounded = [p for p in shipped_files(system) if 0 < training_settings(p)["bound"] < 255]
    for path in bounded:
        net, _ = load(path, system)
        start = time.perf_counter()
        with torch.no_grad():
            x_adv, _ = net(x, targets)
        row(system, f"ProS-GAN {path.stem} (one pass)", x, x_adv, targets, time.perf_counter() - start)
    if bounded:
        net, _ = load(bounded[0], system)
        start = time.perf_counter()
        deltas = universal_perturbations(system, net, eps, steps, images, args.ham_scale)
        x_adv = (x + deltas[net.rows(targets)]).clamp(0, 1)
        title = f"one perturbation per target label ({steps} steps on {images} training images)"
        row(system, title, x, x_adv, targets, time.perf_counter() - start)
    budget = Budget.from_255(eps=args.eps, steps=dhta_steps)
    for schedule, title in (("none", "fixed tanh(H)"), ("hag", "HAG's schedule")):
        start = time.perf_counter()
        result = attacks.get("dhta", system)(x, labels, targets, budget=budget, loop=Loop(schedule=schedule))
        row(system, f"DHTA, PGD-{dhta_steps}, {title}", x, result.adversarial, targets, time.perf_counter() - start)


if __name__ == "__main__":
    main()
