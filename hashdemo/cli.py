"""Command line: python -m hashdemo train | train-attack | eval | encode | attack | bench | sweep | robustness
| leaderboard | transfer | protocols | zoo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .defaults import DEFAULT_MODEL
from .errors import HashdemoError, InvalidInputError


def emit(payload, as_json: bool, text: str) -> None:
    print(json.dumps(payload, indent=None if as_json else 2) if as_json else text)


def cmd_train(args) -> None:
    from .progress import StderrBar
    from .train import TrainConfig, train_and_save

    config = TrainConfig(
        args.dataset,
        args.backbone,
        args.method,
        args.bits,
        args.epochs,
        args.batch_size,
        args.lr,
        seed=args.seed,
        method_params=parse_params(args.method_params),
        split_seed=args.split_seed,
        width=args.width,
        data_root=args.data_root,
        topk=args.topk,
        device=args.device,
        download=args.download,
        defence=args.defence,
        defence_eps=args.defence_eps,
        defence_step=args.defence_step,
        defence_steps=args.defence_steps,
        init=args.init,
    )
    hardened = f"-{args.defence}" if args.defence else ""
    name = f"{args.dataset}-{args.method}-{args.backbone}-{args.bits}{hardened}-seed{args.seed}"
    meta = train_and_save(config, Path(args.out or f"runs/{name}"), StderrBar(), resume_run=not args.restart)
    out = Path(args.out or f"runs/{name}")
    emit(
        {**meta, "out": str(out)},
        args.json,
        f"saved {out} (clean MAP@{meta['topk']} = {meta['clean_map']:.4f}, {meta['train_seconds']:.0f} s)",
    )


def cmd_eval(args) -> None:
    from .metrics import mean_average_precision
    from .system import load_system

    system = load_system(args.model, args.device, args.data_root)
    data = system.dataset
    value = mean_average_precision(
        query_codes=system.query_codes(),
        database_codes=system.database_codes,
        query_labels=data.query.labels,
        database_labels=data.database.labels,
        topk=args.topk,
    )
    result = {
        "model": args.model,
        "map": round(value, 6),
        "topk": args.topk,
        "queries": len(data.query),
        "database": len(data.database),
        "bits": system.bits,
        "dataset": data.name,
    }
    emit(
        result,
        args.json,
        f"{args.model}: MAP@{args.topk} = {value:.4f} ({len(data.query)} queries, {len(data.database)} database items)",
    )


def cmd_encode(args) -> None:
    from .system import encode, load_system

    system = load_system(args.model, args.device, args.data_root)
    split = getattr(system.dataset, args.split)
    codes = {"database": system.database_codes, "train": system.train_codes}.get(args.split)
    if codes is None:
        codes = encode(system.model, split)
    np.savez_compressed(args.out, codes=codes.numpy().astype(np.int8), labels=split.labels.numpy().astype(np.uint8))
    emit(
        {"out": args.out, "split": args.split, "codes": list(codes.shape)},
        args.json,
        f"wrote {args.out}: {args.split} codes {tuple(codes.shape)} (+-1 int8) and labels",
    )


def parse_params(pairs: list[str]) -> dict:
    """--set t=-0.5 --set n_t=5 -> {"t": -0.5, "n_t": 5} (values read as JSON when they parse, else as text)."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--set takes name=value, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def overrides(args) -> dict:
    """The settings the user gave explicitly (flags left out keep the protocol's value)."""
    given = {
        "eps": args.eps,
        "step": args.step,
        "steps": args.steps,
        "random_start": args.random_start,
        "seed": args.seed,
        "topk": args.topk,
        "t_topk": args.t_topk,
        "queries": args.queries,
        "query_seed": args.query_seed,
        "batch_size": args.batch_size,
        "target_set": args.target_set,
    }
    return {k: v for k, v in given.items() if v is not None} | parse_params(args.method_params)


def cmd_attack(args) -> None:
    from .evaluation import run_attack
    from .progress import StderrBar
    from .protocols import resolve
    from .system import load_system

    system = load_system(args.model, args.device, args.data_root)
    settings = resolve(args.protocol, args.attack, overrides(args))
    report = run_attack(system, settings, use_cache=not args.no_cache, progress=StderrBar()).report
    text = (
        f"{report['title']} on {report['model']} ({report['protocol']} protocol), eps {report['eps']:g}/255, "
        f"{report['steps']} steps, {report['queries']} queries: MAP@{report['topk']} {report['map_clean']:.4f} -> "
        f"{report['map_adv']:.4f}"
    )
    if report["targeted"]:
        text += f", t-MAP@{report['t_topk']} {report['t_map_clean']:.4f} -> {report['t_map_adv']:.4f}"
    emit(
        report,
        args.json,
        text + f", RMSE {report['perceptibility_rmse']:.4f}, {report['seconds_per_image']:.4f} s/image",
    )


def split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def grid_engine(args):
    """Where a grid's missing runs are computed: here, or on Ray (--engine ray [--address ...])."""
    from .engines import engine

    return engine(args.engine, args.address, args.ray_cpus)


def engine_options(p) -> None:
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="ray: run the grid's attacks as Ray tasks (a local Ray unless --address), then report as here",
    )
    p.add_argument("--address", default=None, help="a Ray cluster: auto, or ray://<head>:10001")
    p.add_argument("--ray-cpus", type=int, default=None, help="CPUs of a local Ray (default: all)")


def attack_list(args) -> list[str]:
    from .protocols import get_protocol

    return split_list(args.attacks) if args.attacks else list(get_protocol(args.protocol).attacks)


def cmd_bench(args) -> None:
    from .evaluation import run_attack
    from .progress import StderrBar
    from .protocols import resolve
    from .system import load_system
    from .tables import render

    system = load_system(args.model, args.device, args.data_root)
    given = overrides(args)
    settings = [resolve(args.protocol, name, given) for name in attack_list(args)]  # all checked before any runs
    if not args.no_cache:
        grid_engine(args).prefetch([(system.spec, s) for s in settings], progress=StderrBar())
    reports = [run_attack(system, s, use_cache=not args.no_cache, progress=StderrBar()).report for s in settings]
    print(render(reports, args.format))


def cmd_sweep(args) -> None:
    from .progress import StderrBar
    from .sweep import points, run_sweep
    from .system import load_system
    from .tables import render_sweep

    system = load_system(args.model, args.device, args.data_root)
    grid = (system, args.sweep_param, split_list(args.values), attack_list(args))
    common = {"protocol": args.protocol, "overrides": overrides(args)}
    planned = points(*grid, **common)
    grid_engine(args).prefetch([(spec, settings) for _, spec, _, settings in planned], progress=StderrBar())
    rows = run_sweep(*grid, **common, progress=StderrBar())
    print(render_sweep(rows, args.sweep_param, args.format))


def cmd_leaderboard(args) -> None:
    from .progress import StderrBar
    from .robustness import leaderboard, leaderboard_jobs
    from .tables import leaderboard_table, render_table

    specs = split_list(args.models) if args.models else None
    grid_engine(args).prefetch(leaderboard_jobs(specs, queries=args.queries), progress=StderrBar())
    rows = leaderboard(specs, queries=args.queries, progress=StderrBar())
    print(json.dumps(rows, indent=2) if args.format == "json" else render_table(leaderboard_table(rows), args.format))


def cmd_robustness(args) -> None:
    from .progress import StderrBar
    from .robustness import curves

    rows = curves(
        split_list(args.models),
        split_list(args.attacks),
        [float(v) for v in split_list(args.eps)],
        queries=args.queries,
        protocol=args.protocol,
        progress=StderrBar(),
    )
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return
    print("| model | attack | eps (1/255) | MAP / t-MAP | clean MAP |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['title']} | {r['eps']:g} | {r['value']:.4f} | {r['map_clean']:.4f} |")


def cmd_transfer(args) -> None:
    from .progress import StderrBar
    from .tables import render_table, transfer_table
    from .transfer import transfer

    result = transfer(
        split_list(args.sources),
        split_list(args.targets),
        args.attack,
        overrides=overrides(args),
        protocol=args.protocol,
        progress=StderrBar(),
    ).to_json()
    fmt = {"markdown": "md"}.get(args.format, args.format)
    print(json.dumps(result, indent=2) if fmt == "json" else render_table(transfer_table(result), fmt))


def cmd_protocols(args) -> None:
    from dataclasses import asdict

    from .protocols import PROTOCOLS

    if args.json:
        emit([{**asdict(p), "lines": p.lines()} for p in PROTOCOLS.values()], True, "")
        return
    blocks = []
    for p in PROTOCOLS.values():
        head = f"{p.name}: {p.title} ({'ours' if p.ours else p.source})"
        blocks.append(
            "\n".join([head] + [f"  - {line}" for line in p.lines()] + [f"  - attacks: {', '.join(p.attacks)}"])
        )
    print("\n\n".join(blocks))


def cmd_train_attack(args) -> None:
    from .progress import StderrBar
    from .prosgan.training import TrainSettings, train
    from .system import load_system

    system = load_system(args.model, args.device, args.data_root)
    settings = TrainSettings(epochs=args.epochs, beta=args.beta, seed=args.seed, batch_size=args.batch_size)
    out = Path(args.out or f"runs/prosgan-{system.name}-beta{args.beta:g}-seed{args.seed}")

    def epoch_line(entry: dict) -> None:
        if not args.json:
            print(
                f"epoch {entry['epoch']}: generator {entry['loss_generator']:.4f} (J_ham {entry['j_ham']:.4f}, "
                f"J_re {entry['j_re']:.5f}, J_adv {entry['j_adv']:.4f}), "
                f"discriminator {entry['loss_discriminator']:.4f}, "
                f"held-out t-MAP {entry['held_out_t_map']:.4f}, RMSE {entry['held_out_rmse']:.4f} "
                f"({entry['seconds']:.0f} s)",
                flush=True,
            )

    log = train(system, settings, out, resume=not args.restart, progress=StderrBar(), on_epoch=epoch_line)
    emit({**log, "out": str(out)}, args.json, f"saved {out / 'prosgan.safetensors'} ({log['train_seconds']:.0f} s)")


def cmd_zoo(args) -> None:
    from .zoo import list_models

    if args.build:
        from .zoo_build import build

        entries = build(args.only, args.jobs)
    else:
        entries = list_models()
    lines = [f"zoo:{m['name']:<34} MAP@{m['topk']} {m['clean_map']:.4f}" for m in entries]
    emit(entries, args.json, "\n".join(lines) or "the zoo is empty (run make zoo)")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"hashdemo: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .attacks import ATTACKS
    from .data import DATASETS
    from .defences import DEFENCES
    from .hashing import METHODS
    from .models import BACKBONES

    parser = Parser(prog="hashdemo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def set_option(p, help_text: str):
        p.add_argument("--set", dest="method_params", action="append", default=[], metavar="NAME=VALUE", help=help_text)

    def common(p, model: bool = True):
        if model:
            p.add_argument("--model", default=DEFAULT_MODEL, help="zoo:<name> or a folder written by 'train'")
        p.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
        p.add_argument("--data-root", default=None, help="your copy of the dataset (not needed for fashion*)")
        p.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    p = sub.add_parser("train", help="train a hashing model and write a checkpoint folder")
    p.add_argument("--dataset", default="fashion", choices=DATASETS)
    p.add_argument("--backbone", default="smallcnn", choices=BACKBONES)
    p.add_argument("--method", default="dpsh", choices=list(METHODS))
    p.add_argument("--bits", type=int, default=32)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--width", type=int, default=None, help="stage width of resnet18-cifar (64 = standard)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--topk", type=int, default=1000)
    p.add_argument("--download", action="store_true", help="allow downloading data or ImageNet weights")
    p.add_argument("--out", default=None, help="output folder (default runs/<name>); a stopped run there resumes")
    p.add_argument("--restart", action="store_true", help="start over instead of resuming the run in --out")
    p.add_argument("--defence", choices=list(DEFENCES), default=None, help="adversarial training (ATRDH or PgA Eq. 16)")
    p.add_argument("--defence-eps", type=float, default=8.0, help="the inner attack's eps in 1/255 units (ATRDH: 8)")
    p.add_argument("--defence-step", type=float, default=2.0, help="its PGD step in 1/255 units (ATRDH: 2)")
    p.add_argument("--defence-steps", type=int, default=7, help="its PGD iterations (ATRDH: 7)")
    p.add_argument(
        "--init", default=None, help="start from a trained model's weights, e.g. zoo:fashion-dph-smallcnn-32"
    )
    set_option(p, "loss parameter, e.g. eta=1.0 for DPSH or lam=1e-4 for CSQ (repeatable)")
    common(p, model=False)
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("eval", help="clean MAP of a model on its query set")
    p.add_argument("--topk", type=int, default=1000, help="MAP@K; -1 = the whole database")
    common(p)
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("encode", help="write codes (+-1 int8) and labels of a split to .npz")
    p.add_argument("--split", choices=("query", "database", "train"), default="query")
    p.add_argument("--out", required=True)
    common(p)
    p.set_defaults(run=cmd_encode)

    def attack_options(p):
        from .protocols import DEFAULT_PROTOCOL, PROTOCOLS

        p.add_argument(
            "--protocol",
            default=DEFAULT_PROTOCOL,
            choices=list(PROTOCOLS),
            help="a paper's table settings (see 'hashdemo protocols'); the flags below override single ones",
        )
        p.add_argument("--queries", type=int, default=None, help="how many queries (a seeded sample if < all)")
        p.add_argument("--query-seed", type=int, default=None)
        p.add_argument("--eps", type=float, default=None, help="L-inf budget in 1/255 units (papers: 8)")
        p.add_argument(
            "--step", "--alpha", dest="step", type=float, default=None, help="PGD step size in 1/255 units (papers: 1)"
        )
        p.add_argument("--steps", type=int, default=None, help="iterations T (PgA: 100)")
        p.add_argument(
            "--random-start",
            dest="random_start",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="start from x + U(-eps, eps) (default: each attack's paper; only PgA does)",
        )
        p.add_argument("--seed", type=int, default=None, help="random start and target-label draw")
        p.add_argument("--topk", type=int, default=None, help="MAP@K; -1 = whole database")
        p.add_argument("--t-topk", type=int, default=None, help="t-MAP@K; -1 = whole database")
        p.add_argument("--batch-size", type=int, default=None)
        p.add_argument(
            "--target-set",
            choices=("closed", "open"),
            default=None,
            help="targeted attacks: labels seen in training (closed) or the open-set model's held-out ones",
        )
        set_option(
            p,
            "a method parameter (t=-0.8, n_t=9, omega=differentiable) or loop option (optimiser=sgd, "
            "lr=0.0077, momentum=0.9, schedule=hag); repeatable",
        )
        p.add_argument(
            "--no-cache", action="store_true", help="recompute (and refresh the cache) even if a cached result exists"
        )
        common(p)

    p = sub.add_parser("attack", help="attack a query set and report MAP / t-MAP / perceptibility / time")
    p.add_argument("--attack", default="pga", choices=list(ATTACKS))
    attack_options(p)
    p.set_defaults(run=cmd_attack)

    p = sub.add_parser("bench", help="compare attacks on the same queries: the papers' table")
    p.add_argument("--attacks", default=None, help="comma-separated (default: the protocol's table rows)")
    p.add_argument("--format", choices=("md", "csv", "json", "latex"), default="md")
    attack_options(p)
    engine_options(p)
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("sweep", help="sweep eps, step, steps, bits or a method parameter for some attacks")
    p.add_argument("--param", dest="sweep_param", required=True, help="eps, step, steps, bits, or e.g. t, n_t")
    p.add_argument("--values", required=True, help="comma-separated, e.g. 2,4,8,16,32")
    p.add_argument("--attacks", default="pga")
    p.add_argument("--format", choices=("md", "csv", "json", "latex"), default="md")
    attack_options(p)
    engine_options(p)
    p.set_defaults(run=cmd_sweep)

    p = sub.add_parser("train-attack", help="train a generative attack (ProS-GAN) against a model")
    p.add_argument("attack_name", choices=("prosgan",), metavar="prosgan")
    p.add_argument("--epochs", type=int, default=10, help="ProS-GAN trains 100; the zoo's generators fewer")
    p.add_argument("--beta", type=float, default=50.0, help="weight of the reconstruction loss (paper: 50 or 100)")
    p.add_argument("--batch-size", type=int, default=24)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="run folder (default runs/prosgan-<model>-beta<beta>-seed<seed>)")
    p.add_argument("--restart", action="store_true", help="start over instead of resuming the run in --out")
    common(p)
    p.set_defaults(run=cmd_train_attack)

    p = sub.add_parser("transfer", help="perturbations made on source models, used on target models")
    p.add_argument("--sources", required=True, help="comma-separated zoo:<name> that make the perturbations")
    p.add_argument("--targets", required=True, help="comma-separated zoo:<name> attacked with them")
    p.add_argument("--attack", default="pga", choices=list(ATTACKS))
    p.add_argument("--format", choices=("md", "markdown", "csv", "json", "latex"), default="md")
    attack_options(p)
    engine_options(p)
    p.set_defaults(run=cmd_transfer)

    p = sub.add_parser("leaderboard", help="rank models by worst-case MAP over an ensemble and breaking budget")
    p.add_argument("--models", default=None, help="comma-separated zoo:<name> (default: every zoo model)")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--format", choices=("md", "csv", "json", "latex"), default="md")
    engine_options(p)
    p.set_defaults(run=cmd_leaderboard)

    p = sub.add_parser("robustness", help="MAP against eps for several models and attacks (robustness curves)")
    p.add_argument("--models", required=True, help="comma-separated zoo:<name>")
    p.add_argument("--attacks", default="pga,hag")
    p.add_argument("--eps", default="2,4,8,16", help="comma-separated, 1/255 units")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--protocol", default="pgd")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.set_defaults(run=cmd_robustness)

    p = sub.add_parser("protocols", help="list the papers' protocols and what each sets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_protocols)

    p = sub.add_parser("zoo", help="list the shipped models, or rebuild them (--build)")
    p.add_argument("--build", action="store_true", help="train the zoo from scratch (about an hour on 2 cores)")
    p.add_argument("--only", nargs="*", default=None, help="names to rebuild")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_zoo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except HashdemoError as exc:
        print(f"hashdemo: error: {exc}", file=sys.stderr)
        return 2
    return 0
