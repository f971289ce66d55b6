"""Command line: python -m hashdemo train | train-attack | import | eval | encode | attack | bench | sweep |
robustness | leaderboard | transfer | protocols | zoo | lecture.

Every run flag and the `--set` help are generated from the settings' declarations (hashdemo.run.settings, the loop's
and each attack's Params); a bad value is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .core.errors import HashdemoError, InvalidInputError
from .core.params import Param, declared


def emit(payload, as_json: bool, text: str) -> None:
    print(json.dumps(payload) if as_json else text)


def parse_params(pairs: list[str], flag: str = "--set") -> dict:
    """--set t=-0.5 --set n_t=5 -> {"t": -0.5, "n_t": 5} (values read as JSON when they parse, else as text)."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"{flag} takes name=value, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


# ----- flags generated from the declarations -----------------------------------------------------------------------
def add_param(p: argparse.ArgumentParser, param: Param, default=None) -> None:
    """One flag for a declared setting; its value is checked by the Param (one message style everywhere)."""
    from .attacks import LOOP_PARAMS
    from .run.settings import RUN_PARAMS

    unit = f" {param.unit}" if param.unit else ""
    text = f"{param.help}; {param.range_text()}{unit}"
    if param.is_bool and (param.optional or param.default is None):
        p.add_argument(param.flag, dest=param.name, action=argparse.BooleanOptionalAction, default=None, help=text)
    elif param.is_bool:
        p.add_argument(param.flag, dest=param.name, action="store_true", help=text)
    else:
        shown = param.default if default is None else default
        if shown in (None, ""):
            text += " (default: the protocol's)" if param in RUN_PARAMS + LOOP_PARAMS else ""
        else:
            text += f" (default: {shown})"
        p.add_argument(param.flag, dest=param.name, default=default, metavar=param.name.upper(), help=text)


def model_flags(p: argparse.ArgumentParser, model: bool = True) -> None:
    """--model, --device, --data-root (every model of the command runs there), --json."""
    from .run.settings import DATA_ROOT, DEVICE
    from .systems.spec import DEFAULT_MODEL

    if model:
        p.add_argument("--model", default=DEFAULT_MODEL, help="zoo:<name>, a model folder ('train' or 'import')")
    add_param(p, DEVICE, DEVICE.default)
    add_param(p, DATA_ROOT)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run_flags(p: argparse.ArgumentParser) -> None:
    """--protocol, every run setting and loop option, --set for the attacks' own parameters, --no-cache."""
    from .attacks import LOOP_PARAMS
    from .run.protocols import DEFAULT_PROTOCOL, PROTOCOLS
    from .run.settings import RUN_PARAMS, method_param_lines

    p.add_argument(
        "--protocol",
        default=DEFAULT_PROTOCOL,
        choices=list(PROTOCOLS),
        help="a paper's table settings (see 'hashdemo protocols'); the flags below override single ones",
    )
    for param in RUN_PARAMS + LOOP_PARAMS:
        add_param(p, param)
    p.add_argument(
        "--set",
        dest="method_params",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an attack's own parameter (repeatable): " + "; ".join(method_param_lines()),
    )
    p.add_argument("--no-cache", action="store_true", help="recompute (and refresh the cache) even if cached")


def seeds_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seeds",
        default=None,
        metavar="0,1,2",
        help="run once per attack seed (random start, target labels, anchor items; the queries stay) and report "
        "mean ± sample std",
    )


def engine_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="ray: run the grid's attacks as Ray tasks (a local Ray unless --address), then report as here",
    )
    p.add_argument("--address", default=None, help="a Ray cluster: auto, or ray://<head>:10001")
    p.add_argument("--ray-cpus", type=int, default=None, help="CPUs of a local Ray (default: all)")


def format_flag(p: argparse.ArgumentParser, formats=("md", "csv", "json", "latex")) -> None:
    p.add_argument("--format", choices=formats, default="md")
    p.add_argument("--label", default="tab:hashdemo", help="the LaTeX \\label of a table")


# ----- what the flags mean ---------------------------------------------------------------------------------------
def spec_of(args, source: str | None = None):
    from .data import resolve_root
    from .run.settings import DEVICE
    from .systems.spec import ModelSpec

    return ModelSpec(source or args.model, DEVICE.check(args.device), resolve_root(args.data_root))


def system_of(args, source: str | None = None):
    from .systems.system import load_system

    return load_system(spec_of(args, source))


def systems_of(args, names: str):
    return [system_of(args, source) for source in split_list(names)]


def overrides(args) -> dict:
    """The settings the user gave explicitly (flags left out keep the protocol's value)."""
    from .attacks import LOOP_PARAMS
    from .run.settings import RUN_PARAMS

    given = {p.name: getattr(args, p.name) for p in RUN_PARAMS + LOOP_PARAMS}
    return {k: v for k, v in given.items() if v is not None} | parse_params(args.method_params)


def attack_list(args) -> list[str]:
    from .run.protocols import get_protocol

    return split_list(args.attacks) if args.attacks else list(get_protocol(args.protocol).attacks)


def grid_engine(args):
    """Where a grid's missing runs are computed: here, or on Ray (--engine ray [--address ...])."""
    from .run.engines import engine

    return engine(args.engine, args.address, args.ray_cpus)


# ----- the commands ----------------------------------------------------------------------------------------------
def train_config(args):
    """The TrainConfig the `train` flags describe (each checked by its declaration)."""
    from .training.train import TrainConfig

    given = {p.name: p.check(getattr(args, p.name)) for p in declared(TrainConfig) if getattr(args, p.name) is not None}
    return TrainConfig(
        **given,
        method_params=parse_params(args.method_params),
        defence_params=parse_params(args.defence_params, "--defence-set"),
    )


def cmd_train(args) -> None:
    from .core.progress import StderrBar
    from .training.naming import model_name
    from .training.train import train_and_save

    config = train_config(args)
    name = model_name(config.dataset, config.method, config.backbone, config.bits, config.defence)
    out = Path(args.out or f"runs/{name}-seed{config.seed}")
    card = train_and_save(config, out, StderrBar(), resume_run=not args.restart)
    emit(
        {**card.to_json(), "out": str(out)},
        args.json,
        f"saved {out} (clean MAP@{card.topk} = {card.clean_map:.4f}, {card.record['train_seconds']:.0f} s)",
    )


def cmd_eval(args) -> None:
    from .retrieval.metrics import mean_average_precision

    system = system_of(args)
    data = system.dataset
    value = mean_average_precision(
        query_codes=system.query_codes(),
        database_codes=system.database_codes,
        query_labels=data.query.labels,
        database_labels=data.database.labels,
        topk=args.topk,
        ties=args.ties,
    )
    result = {
        **system.describe(),
        "map": round(value, 6),
        "topk": args.topk,
        "ties": args.ties,
        "queries": len(data.query),
        "database": len(data.database),
    }
    emit(
        result,
        args.json,
        f"{args.model}: MAP@{args.topk} = {value:.4f} ({len(data.query)} queries, "
        f"{len(data.database)} database items, ties {args.ties})",
    )


def cmd_encode(args) -> None:
    import numpy as np

    from .retrieval.encoding import encode

    system = system_of(args)
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


def seed_runs(args) -> list[dict]:
    """The explicit settings once per --seeds value (the attack seed; the queries stay), or once."""
    given = overrides(args)
    if not args.seeds:
        return [given]
    if "seed" in given:
        raise InvalidInputError("give either --seed or --seeds, not both")
    return [given | {"seed": seed} for seed in parse_seeds(args.seeds)]


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(v) for v in split_list(text)]
    except ValueError:
        raise InvalidInputError(f"--seeds takes whole numbers separated by commas, e.g. 0,1,2; got {text!r}") from None
    if len(set(seeds)) != len(seeds) or any(v < 0 for v in seeds):
        raise InvalidInputError(f"--seeds takes distinct seeds >= 0, got {text!r}")
    return seeds


def cmd_attack(args) -> None:
    from .core.progress import StderrBar
    from .figures.tables import Spread
    from .run.driver import run_attack
    from .run.settings import resolve

    system = system_of(args)
    runs = [resolve(args.protocol, args.attack, given, model=system.spec) for given in seed_runs(args)]
    reports = [run_attack(system, s, use_cache=not args.no_cache, progress=StderrBar()).report for s in runs]
    spread = {
        key: Spread(tuple(getattr(r, key) for r in reports))
        for key in ("map_adv", "t_map_adv", "perceptibility_rmse", "seconds_per_image")
        if getattr(reports[0], key) is not None
    }
    first = reports[0]
    text = (
        f"{first.title} on {first.model} ({first.protocol} protocol), eps {first.eps:g}/255, "
        f"{first.steps} steps, {first.queries} queries"
        + (f", seeds {args.seeds} (mean ± std)" if args.seeds else "")
        + f": MAP@{first.topk} {first.map_clean:.4f} -> {spread['map_adv']:.4f}"
    )
    if first.targeted:
        text += f", t-MAP@{first.t_topk} {first.t_map_clean:.4f} -> {spread['t_map_adv']:.4f}"
    text += f", RMSE {spread['perceptibility_rmse']:.4f}, {spread['seconds_per_image']:.4f} s/image"
    payload = (
        {"seeds": [r.to_json() for r in reports], "mean_std": {k: v.to_json() for k, v in spread.items()}}
        if args.seeds
        else first.to_json()
    )
    emit(payload, args.json, text)


def cmd_bench(args) -> None:
    from .core.progress import StderrBar
    from .figures.tables import render
    from .run.driver import run_attack
    from .run.settings import resolve

    system = system_of(args)
    grid = [
        [resolve(args.protocol, name, given, model=system.spec) for name in attack_list(args)]
        for given in seed_runs(args)
    ]
    if not args.no_cache:
        grid_engine(args).prefetch([(system, s) for run in grid for s in run], progress=StderrBar())
    runs = [
        [run_attack(system, s, use_cache=not args.no_cache, progress=StderrBar()).report for s in run] for run in grid
    ]
    print(render(runs[0], args.format, args.label, seeds=runs if args.seeds else None))


def cmd_sweep(args) -> None:
    from .core.progress import StderrBar
    from .experiments.sweep import points, run_sweep
    from .figures.tables import render_sweep

    system = system_of(args)
    grid = (system, args.sweep_param, split_list(args.values), attack_list(args))
    common = {"protocol": args.protocol, "overrides": overrides(args)}
    planned = points(*grid, **common)
    grid_engine(args).prefetch([(point.system, point.settings) for point in planned], progress=StderrBar())
    rows = run_sweep(*grid, **common, progress=StderrBar())
    print(render_sweep(rows, args.sweep_param, args.format))


def cmd_leaderboard(args) -> None:
    from .core.progress import StderrBar
    from .experiments.robustness import ENSEMBLE, leaderboard, leaderboard_jobs
    from .figures.tables import leaderboard_table, render_table
    from .systems.zoo import zoo_entries

    names = args.models or ",".join(e.source for e in zoo_entries())
    systems = systems_of(args, names)
    grid_engine(args).prefetch(leaderboard_jobs(systems, queries=args.queries), progress=StderrBar())
    rows = leaderboard(systems, queries=args.queries, progress=StderrBar())
    if args.format == "json":
        print(json.dumps([r.to_json() for r in rows], indent=2))
        return
    table = leaderboard_table(rows, ensemble=", ".join(m.label for m in ENSEMBLE))
    table.label = args.label
    print(render_table(table, args.format))


def cmd_robustness(args) -> None:
    from .core.progress import StderrBar
    from .experiments.robustness import curves

    eps_values = [float(v) for v in split_list(args.eps_values)]
    rows = curves(
        systems_of(args, args.models),
        split_list(args.attacks),
        eps_values,
        queries=args.queries,
        protocol=args.protocol,
        progress=StderrBar(),
    )
    if args.format == "json":
        print(json.dumps([r.to_json() for r in rows], indent=2))
        return
    print("| model | attack | eps (1/255) | MAP / t-MAP | clean MAP |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.label} | {r.title} | {r.eps:g} | {r.value:.4f} | {r.map_clean:.4f} |")


def cmd_transfer(args) -> None:
    from .core.progress import StderrBar
    from .experiments.transfer import transfer
    from .figures.tables import render_table, transfer_table

    result = transfer(
        systems_of(args, args.sources),
        systems_of(args, args.targets),
        args.attack,
        overrides=overrides(args),
        protocol=args.protocol,
        progress=StderrBar(),
    )
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2))
        return
    table = transfer_table(result)
    table.label = args.label
    print(render_table(table, args.format))


def cmd_protocols(args) -> None:
    from dataclasses import asdict

    from .run.protocols import PROTOCOLS

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
    from .core.progress import StderrBar
    from .prosgan.training import TrainSettings, cached_run, train

    system = system_of(args)
    given = {
        p.name: p.check(getattr(args, p.name)) for p in declared(TrainSettings) if getattr(args, p.name) is not None
    }
    settings = TrainSettings(**given)
    out = Path(args.out) if args.out else cached_run(system, settings)

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


def cmd_import(args) -> None:
    from .core.progress import StderrBar
    from .systems.importers import import_model

    card = import_model(
        args.source,
        args.arch,
        args.bits,
        Path(args.weights),
        args.dataset,
        Path(args.out),
        data_root=args.data_root,
        split_seed=args.split_seed,
        image_size=args.image_size,
        hash_layer=args.hash_layer,
        database_codes=args.database_codes,
        database_labels=args.database_labels,
        topk=args.topk,
        device=args.device,
        progress=StderrBar(),
    )
    emit(
        {**card.to_json(), "out": args.out},
        args.json,
        f"wrote {args.out}: {card.backbone} {card.bits} bits on {card.dataset}, clean MAP@{card.topk} "
        f"{card.clean_map:.4f}; use it with --model {args.out}",
    )


def cmd_lecture(args) -> None:
    from dataclasses import asdict

    from .core.progress import StderrBar
    from .experiments import lecture

    if args.prepare:
        lecture.prepare(StderrBar())
    found = {step.title: None if step.live else lecture.status(step) for step in lecture.LECTURE}
    rows = [{"step": title, "live": s is None} | (asdict(s) if s else {}) for title, s in found.items()]
    lines = [f"{title}: {s.text() if s else 'computed on arrival (one query)'}" for title, s in found.items()]
    emit(rows, args.json, "\n".join(lines))


def cmd_zoo(args) -> None:
    from .systems.zoo import all_entries

    if args.build:
        from .training.zoo_build import build

        entries = build(args.only, args.jobs)
    else:
        entries = all_entries()
    lines = [
        f"{e.source if e.origin == 'zoo' else e.name + ' (' + e.source + ')':<40} MAP@{e.topk} "
        + (f"{e.clean_map:.4f}" if e.clean_map is not None else "-")
        for e in entries
    ]
    emit(
        [e.to_index() | {"source": e.source} for e in entries],
        args.json,
        "\n".join(lines) or "no models (run make zoo)",
    )


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"hashdemo: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .attacks import ATTACKS
    from .prosgan.training import TrainSettings
    from .training.train import TrainConfig

    parser = Parser(prog="hashdemo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("train", help="train a hashing model and write a model folder")
    for param in declared(TrainConfig):
        add_param(p, param)
    p.add_argument(
        "--set",
        dest="method_params",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a loss parameter, e.g. eta=1.0 for DPSH or lam=1e-4 for CSQ (repeatable)",
    )
    p.add_argument(
        "--defence-set",
        dest="defence_params",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a defence parameter, e.g. codes=memory for ATRDH (repeatable)",
    )
    p.add_argument("--out", default=None, help="output folder (default runs/<name>-seed<seed>); a stopped run resumes")
    p.add_argument("--restart", action="store_true", help="start over instead of resuming the run in --out")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("eval", help="clean MAP of a model on its query set")
    p.add_argument("--topk", type=int, default=1000, help="MAP@K; -1 = the whole database")
    p.add_argument(
        "--ties",
        choices=("stable", "deephash"),
        default="stable",
        help="stable: ties broken by database index; deephash: as DeepHash-pytorch's CalcTopMap ranks",
    )
    model_flags(p)
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("encode", help="write codes (+-1 int8) and labels of a split to .npz")
    p.add_argument("--split", choices=("query", "database", "train"), default="query")
    p.add_argument("--out", required=True)
    model_flags(p)
    p.set_defaults(run=cmd_encode)

    p = sub.add_parser("attack", help="attack a query set and report MAP / t-MAP / perceptibility / time")
    p.add_argument("--attack", default="pga", choices=ATTACKS.names())
    run_flags(p)
    seeds_flag(p)
    model_flags(p)
    p.set_defaults(run=cmd_attack)

    p = sub.add_parser("bench", help="compare attacks on the same queries: the papers' table")
    p.add_argument("--attacks", default=None, help="comma-separated (default: the protocol's table rows)")
    format_flag(p)
    run_flags(p)
    seeds_flag(p)
    model_flags(p)
    engine_flags(p)
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("sweep", help="sweep eps, step, steps, bits or a method parameter for some attacks")
    p.add_argument("--param", dest="sweep_param", required=True, help="eps, step, steps, bits, or e.g. t, n_t")
    p.add_argument("--values", required=True, help="comma-separated, e.g. 2,4,8,16,32")
    p.add_argument("--attacks", default="pga")
    format_flag(p)
    run_flags(p)
    model_flags(p)
    engine_flags(p)
    p.set_defaults(run=cmd_sweep)

    p = sub.add_parser("train-attack", help="train a generative attack (ProS-GAN) against a model")
    p.add_argument("attack_name", choices=("prosgan",), metavar="prosgan")
    for param in declared(TrainSettings):
        add_param(p, param)
    p.add_argument(
        "--out",
        default=None,
        help="run folder (default: the cache's folder for this model and these settings, where the attack's "
        "generator=auto finds it; elsewhere, pass --set generator=<out>/prosgan.safetensors)",
    )
    p.add_argument("--restart", action="store_true", help="start over instead of resuming the run in --out")
    model_flags(p)
    p.set_defaults(run=cmd_train_attack)

    p = sub.add_parser("transfer", help="perturbations made on source models, used on target models")
    p.add_argument("--sources", required=True, help="comma-separated models that make the perturbations")
    p.add_argument("--targets", required=True, help="comma-separated models attacked with them")
    p.add_argument("--attack", default="pga", choices=ATTACKS.names())
    format_flag(p)
    run_flags(p)
    model_flags(p, model=False)
    engine_flags(p)
    p.set_defaults(run=cmd_transfer)

    p = sub.add_parser("leaderboard", help="rank models by worst-case MAP over an ensemble and breaking budget")
    p.add_argument("--models", default=None, help="comma-separated models (default: every zoo model)")
    p.add_argument("--queries", type=int, default=1000)
    format_flag(p)
    model_flags(p, model=False)
    engine_flags(p)
    p.set_defaults(run=cmd_leaderboard)

    p = sub.add_parser("robustness", help="MAP against eps for several models and attacks (robustness curves)")
    p.add_argument("--models", required=True, help="comma-separated zoo:<name> or model folders")
    p.add_argument("--attacks", default="pga,hag")
    p.add_argument("--eps", dest="eps_values", default="2,4,8,16", help="comma-separated, 1/255 units")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--protocol", default="pgd")
    p.add_argument("--format", choices=("md", "json"), default="md")
    model_flags(p, model=False)
    p.set_defaults(run=cmd_robustness)

    from .data import DATASETS
    from .systems.importers import ARCHS, SOURCES

    p = sub.add_parser("import", help="a DeepHash-pytorch, THA, ProS-GAN or torchvision checkpoint as a model folder")
    p.add_argument("--from", dest="source", required=True, choices=SOURCES, help="which code saved the weights")
    p.add_argument("--arch", required=True, help=f"{', '.join(ARCHS)} (torchvision:NAME with --from state-dict)")
    p.add_argument("--bits", type=int, required=True, help="code length K of the hash layer")
    p.add_argument(
        "--weights", required=True, help="the state_dict (.pt/.pth, read with weights_only=True) or .safetensors"
    )
    p.add_argument("--dataset", required=True, choices=DATASETS.names(), help="the data it was trained on")
    p.add_argument("--out", required=True, help="the model folder to write")
    p.add_argument("--hash-layer", default=None, help="--from state-dict: the layer that is the hash layer (fc, ...)")
    p.add_argument("--image-size", type=int, default=224, help="the crop the net takes (Resize 256, CenterCrop 224)")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--topk", type=int, default=1000, help="the clean MAP@K recorded with the model")
    p.add_argument("--database-codes", default=None, help="skip encoding: DeepHash-pytorch's *-trn_binary.npy")
    p.add_argument("--database-labels", default=None, help="their labels (*-trn_label.npy), checked against the data")
    model_flags(p, model=False)
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("protocols", help="list the papers' protocols and what each sets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_protocols)

    p = sub.add_parser("lecture", help="each lecture step: ready, or what it still computes; --prepare computes it")
    p.add_argument("--prepare", action="store_true", help="compute every step's results ahead of class (cached)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_lecture)

    p = sub.add_parser("zoo", help="list the shipped models and yours ($HASHDEMO_MODELS), or rebuild the zoo")
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


__all__ = ["build_parser", "main"]
