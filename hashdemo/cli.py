"""Command line: python -m hashdemo train | eval | encode | attack | bench | sweep | protocols | zoo."""

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
    )
    out = Path(args.out or f"runs/{args.dataset}-{args.method}-{args.backbone}-{args.bits}-seed{args.seed}")
    meta = train_and_save(config, out, StderrBar())
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
    reports = [run_attack(system, s, use_cache=not args.no_cache, progress=StderrBar()).report for s in settings]
    print(render(reports, args.format))


def cmd_sweep(args) -> None:
    from .progress import StderrBar
    from .sweep import run_sweep
    from .system import load_system
    from .tables import render_sweep

    system = load_system(args.model, args.device, args.data_root)
    rows = run_sweep(
        system,
        args.sweep_param,
        split_list(args.values),
        attack_list(args),
        protocol=args.protocol,
        overrides=overrides(args),
        progress=StderrBar(),
    )
    print(render_sweep(rows, args.sweep_param, args.format))


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
    p.add_argument("--out", default=None, help="output folder (default runs/<name>)")
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
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("sweep", help="sweep eps, step, steps, bits or a method parameter for some attacks")
    p.add_argument("--param", dest="sweep_param", required=True, help="eps, step, steps, bits, or e.g. t, n_t")
    p.add_argument("--values", required=True, help="comma-separated, e.g. 2,4,8,16,32")
    p.add_argument("--attacks", default="pga")
    p.add_argument("--format", choices=("md", "csv", "json", "latex"), default="md")
    attack_options(p)
    p.set_defaults(run=cmd_sweep)

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
