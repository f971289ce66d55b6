"""ProS-GAN's recipe piece by piece (README "ProS-GAN"): from hashdemo's first recipe, each change of the faithful
one added in turn, 3 epochs each against the default model; prints held-out t-MAP (whole database, 200 queries)
and RMSE after the last epoch, so that one sees which change moves perceptibility and which moves t-MAP.

    PYTHONPATH=. python bench/prosgan_recipe.py [--epochs 3] [--only N ...] [--smoke]

With --beta 10,50,200: the paper's Figure 4(b) instead, the shipped generators' recipe (training.ZOO_RECIPE) at
each reconstruction weight beta, also measured on the 1,000 test queries (t-MAP over the whole database).
--smoke trains each step for one epoch of tiny networks on 48 training images (seconds, numbers meaningless), so
that CI runs this script.
"""

import argparse
from dataclasses import replace

import torch

from hashdemo.prosgan.model import FILE
from hashdemo.prosgan.training import FIRST, ZOO_RECIPE, cached_run, train
from hashdemo.run.driver import run_attack
from hashdemo.run.settings import resolve
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.system import load_system

STEPS = [
    ("hashdemo's first recipe", {}),
    (
        "+ the script's loss balance (alpha 5, J_re on [-1,1], J_adv a mean)",
        {"alpha": 5.0, "j_re_scale": "[-1,1]", "j_adv": "mean"},
    ),
    ("+ D every third batch, spectral norm, raw outputs", {"d_every": 3, "spectral_norm": True, "d_sigmoid": False}),
    ("+ pre-trained, frozen PrototypeNet (detached)", {"prototype": "frozen"}),
    ("+ lr decay over the second half", {"decay": 0.5}),
    ("+ 3 + 3 residual blocks (the script's depth)", {"blocks": 6}),
    ("+ 32 base channels (the script: 64)", {"ngf": 32}),
]


SMOKE = {"batch_size": 16, "held_out": 8, "ngf": 8, "blocks": 1, "decoder_width": 8, "ndf": 8, "prototype_steps": 5}


def tiny(system):
    """The system with 48 training images: what a smoke run trains on."""
    data = system.dataset
    train = data.train.subset(torch.arange(48))
    return replace(system, dataset=replace(data, train=train), train_codes=system.train_codes[:48])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--only", type=int, nargs="*", default=None)
    parser.add_argument("--beta", default=None, help="comma-separated reconstruction weights: the beta sweep")
    parser.add_argument("--smoke", action="store_true", help="seconds: tiny networks, 48 images, one epoch")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    system = load_system(ModelSpec())
    smoke = SMOKE if args.smoke else {}
    if args.smoke:
        system, args.epochs = tiny(system), 1
    if args.beta:
        beta_sweep(system, [float(b) for b in args.beta.split(",")], args.epochs, smoke)
        return
    settings = replace(FIRST, epochs=args.epochs, **smoke)
    for i, (title, change) in enumerate(STEPS):
        settings = replace(settings, **{**change, **smoke})
        if args.only is not None and i not in args.only:
            continue
        log = train(system, settings, cached_run(system, settings))
        last = log["epochs"][-1]
        print(
            f"{i} | {title} | t-MAP {last['held_out_t_map']:.4f} | RMSE {last['held_out_rmse']:.4f} | "
            f"L-inf {last['held_out_linf_255']:.1f}/255 | {log['train_seconds']:.0f} s",
            flush=True,
        )


def beta_sweep(system, betas: list[float], epochs: int, smoke: dict) -> None:
    """ProS-GAN Figure 4(b): t-MAP and perceptibility against beta, one generator trained per value."""
    print("| beta | held-out t-MAP | held-out RMSE | test t-MAP | test MAP | test RMSE | L-inf (/255) |")
    print("|---|---|---|---|---|---|---|")
    for beta in betas:
        settings = replace(ZOO_RECIPE, beta=beta, epochs=epochs, **smoke)
        folder = cached_run(system, settings)
        last = train(system, settings, folder)["epochs"][-1]
        given = {"generator": str(folder / FILE), "queries": 8 if smoke else None}
        report = run_attack(system, resolve("prosgan", "prosgan", given, model=system.spec)).report
        print(
            f"| {beta:g} | {last['held_out_t_map']:.4f} | {last['held_out_rmse']:.4f} | {report.t_map_adv:.4f} | "
            f"{report.map_adv:.4f} | {report.perceptibility_rmse:.4f} | {report.linf_max:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
