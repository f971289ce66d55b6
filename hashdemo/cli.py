"""Command line: python -m hashdemo train | train-attack | import | eval | encode | attack | bench | sweep |
robustness | leaderboard | transfer | report | protocols | zoo | lecture.

Every run command's flags are generated from the run settings' fields (hashdemo.run.settings: each field bound to
its Param, the model's and the loop's included) and each attack's own Params (`--set`); a bad value is one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .core.errors import HashdemoError, InvalidInputError
from .core.params import Param, declared

FORMATS = ("md", "csv", "json", "latex")
LATEX_LABEL = "tab:hashdemo"


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


def values_of(param: Param, text: str) -> list:
    """A comma-separated list of one setting's values, each checked by its Param ('2,4,8' for --eps)."""
    values = [param.check(v, "") for v in split_list(text.replace(";", ","))]
    if not values:
        raise InvalidInputError(f"{param.flag} takes at least one value ({param.wanted()})")
    return values


# ----- flags generated from the declarations -----------------------------------------------------------------------
def add_param(p: argparse.ArgumentParser, param: Param, *, many: bool = False, default=None, note: str = "") -> None:
    """One flag for a declared setting (comma-separated values with `many`); its value is checked by the Param
    (one message style everywhere). A flag left out is None: the protocol's value, or the declared default."""
    unit = f" {param.unit}" if param.unit else ""
    text = f"{param.help}; {'comma-separated, each ' if many else ''}{param.range_text()}{unit}"
    if param.is_bool and not many and (param.optional or param.default is not False):  # on by default: --no-<flag>
        p.add_argument(param.flag, dest=param.name, action=argparse.BooleanOptionalAction, default=None, help=text)
        return
    if param.is_bool and not many:
        p.add_argument(param.flag, dest=param.name, action="store_true", help=text)
        return
    shown = param.default if default is None else default
    if note:
        text += f" (default: {note})"
    elif shown not in (None, ""):
        text += f" (default: {', '.join(f'{v:g}' for v in shown) if many else shown})"
    p.add_argument(param.flag, dest=param.name, default=default, metavar=param.name.upper(), help=text)


def run_flags(
    p: argparse.ArgumentParser,
    *,
    models: str = "one",
    skip: tuple[str, ...] = (),
    many: dict[str, tuple] | None = None,
    groups: tuple[str, ...] | None = None,
) -> None:
    """The run settings as flags: the model (`models`: "one" --model, "many" --models, "none" for a command that
    names its models itself), every other field of RunSettings but `skip` (`many`: fields taking a list, with its
    default), --set for the attacks' own parameters, --json. `groups` limits the fields to some groups."""
    from .run.settings import method_param_lines, model_fields, user_fields
    from .systems.spec import MODEL

    many = many or {}
    if models == "one":
        add_param(p, MODEL, default=MODEL.default)
    elif models == "many":
        p.add_argument("--models", default=None, help="comma-separated zoo:<name> or model folders")
    for b in model_fields():
        if b.name != MODEL.name:
            add_param(p, b.param)
    for b in user_fields():
        if b.name in skip or (groups is not None and b.group not in groups):
            continue
        if b.name in many:
            add_param(p, b.param, many=True, default=many[b.name])
        else:
            default = b.param.default
            add_param(
                p, b.param, note="the protocol's" if default is None else f"{default}, unless the protocol sets it"
            )
    if groups is None:
        set_flag(
            p, "--set", "method_params", "an attack's own parameter (repeatable): " + "; ".join(method_param_lines())
        )
        p.add_argument("--no-cache", action="store_true", help="recompute (and refresh the cache) even if cached")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def set_flag(p: argparse.ArgumentParser, flag: str, dest: str, text: str) -> None:
    """A repeatable NAME=VALUE flag for parameters declared by what they belong to (an attack, a loss, a defence)."""
    p.add_argument(flag, dest=dest, action="append", default=[], metavar="NAME=VALUE", help=text)


def seeds_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seeds",
        default=None,
        metavar="0,1,2",
        help="run once per attack seed (random start, target labels, anchor items; the queries stay) and report "
        "mean ± sample std",
    )


def engine_flags(p: argparse.ArgumentParser) -> None:
    from .run.driver import InProcess
    from .run.engines import RayEngine

    p.add_argument(
        "--engine",
        choices=(InProcess.name, RayEngine.name),
        default=InProcess.name,
        help="ray: run the batches as Ray tasks (a local Ray unless --address), then report as here",
    )
    p.add_argument("--address", default=None, help="a Ray cluster: auto, or ray://<head>:10001")
    p.add_argument("--ray-cpus", type=int, default=None, help="CPUs of a local Ray (default: all)")


def format_flag(p: argparse.ArgumentParser, formats=FORMATS) -> None:
    p.add_argument("--format", choices=formats, default=formats[0])
    p.add_argument("--label", default=LATEX_LABEL, help="the LaTeX \\label of a table")


def table_format(args) -> str:
    """--format, or json where --json was given (every command's flag for scripts)."""
    return "json" if getattr(args, "json", False) else args.format


# ----- what the flags mean ---------------------------------------------------------------------------------------
def spec_of(args, source: str | None = None):
    """The ModelSpec the model flags name (each field checked by its Param; a data root made absolute)."""
    from .data import resolve_root
    from .run.settings import model_fields
    from .systems.spec import ModelSpec

    values = {}
    for b in model_fields():
        field = b.path[-1]
        given = source if field == "source" and source else getattr(args, b.name, None)
        values[field] = b.param.check(b.param.default if given is None else given)
    values["data_root"] = resolve_root(values["data_root"])
    return ModelSpec(**values)


def system_of(args, source: str | None = None):
    from .systems.system import load_system

    return load_system(spec_of(args, source))


def systems_of(args, names: str):
    return [system_of(args, source) for source in split_list(names)]


def overrides(args, skip: tuple[str, ...] = ()) -> dict:
    """The settings the user gave explicitly (flags left out keep the protocol's value), --set's included."""
    from .run.settings import user_fields

    given = {b.name: getattr(args, b.name, None) for b in user_fields() if b.name not in ("attack", "protocol", *skip)}
    return {k: v for k, v in given.items() if v is not None} | parse_params(getattr(args, "method_params", []))


def choices_of(args, skip: tuple[str, ...] = ()):
    """The protocol and explicit settings of a grid command (every attack and model of it takes them)."""
    from .run.settings import Choices

    return Choices.of(getattr(args, "protocol", None), overrides(args, skip))


def attack_list(args) -> list[str]:
    from .run.protocols import get_protocol
    from .run.settings import PROTOCOL

    return split_list(args.attacks) if args.attacks else list(get_protocol(args.protocol or PROTOCOL.default).attacks)


def grid_engine(args):
    """Where a grid's missing batches are computed: here, or on Ray (--engine ray [--address ...])."""
    from .run.engines import engine

    return engine(args.engine, args.address, args.ray_cpus)


def print_rows(rows: list, fmt: str, table) -> None:
    if fmt == "json":
        print(json.dumps([r.to_json() for r in rows], indent=2))
        return
    from .figures.tables import render_table

    print(render_table(table, fmt))


def train_config(args):
    """The TrainConfig the `train` flags describe (each checked by its declaration)."""
    from .training.train import TrainConfig

    given = {p.name: p.check(getattr(args, p.name)) for p in declared(TrainConfig) if getattr(args, p.name) is not None}
    return TrainConfig(
        **given,
        method_params=parse_params(args.method_params),
        defence_params=parse_params(args.defence_params, "--defence-set"),
    )


# ----- the commands ----------------------------------------------------------------------------------------------
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
    """Clean MAP of a model's queries: the clean codes of a run (noise at eps 0), so it is every page's number."""
    from .core.progress import StderrBar
    from .experiments.leaderboard import clean_job
    from .run.driver import execute

    system = system_of(args)
    (run,) = execute([clean_job(system, choices_of(args))], progress=StderrBar())
    report = run.report
    settings = run.report.settings
    result = {
        **system.describe(),
        "map": report.map_clean,
        "topk": report.topk,
        "ties": settings["ties"],
        "queries": report.queries,
        "database": len(system.dataset.database),
        "settings": settings,
    }
    emit(
        result,
        args.json,
        f"{system.spec.source}: MAP@{report.topk} = {report.map_clean:.4f} ({report.queries} queries, "
        f"{len(system.dataset.database)} database items, ties {settings['ties']})",
    )


def seed_runs(args) -> list[dict]:
    """The explicit settings once per --seeds value (the attack seed; the queries stay), or once."""
    given = overrides(args)
    if not args.seeds:
        return [given]
    if "seed" in given:
        raise InvalidInputError("give either --seed or --seeds, not both")
    return [given | {"seed": seed} for seed in parse_seeds(args.seeds)]


def cmd_attack(args) -> None:
    from .core.progress import StderrBar
    from .figures.tables import Spread
    from .run.driver import run_attack
    from .run.settings import ATTACK, PROTOCOL, resolve

    system = system_of(args)
    attack, protocol = args.attack or ATTACK.default, args.protocol or PROTOCOL.default
    runs = [resolve(protocol, attack, given, model=system.spec) for given in seed_runs(args)]
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
    from .run.driver import Job, execute
    from .run.settings import Choices

    system = system_of(args)
    names = attack_list(args)
    grid = [
        [Job(system, Choices.of(args.protocol, given).settings(n, system.spec)) for n in names]
        for given in seed_runs(args)
    ]
    runs = execute(
        [job for row in grid for job in row],
        engine=grid_engine(args),
        use_cache=not args.no_cache,
        progress=StderrBar(),
    )
    reports = [[run.report for run in runs[i * len(names) : (i + 1) * len(names)]] for i in range(len(grid))]
    print(render(reports[0], table_format(args), args.label, seeds=reports if args.seeds else None))


def cmd_sweep(args) -> None:
    from .core.progress import StderrBar
    from .experiments.sweep import run_sweep
    from .figures.tables import render_sweep

    system = system_of(args)
    rows = run_sweep(
        system,
        args.sweep_param,
        split_list(args.values),
        attack_list(args),
        choices_of(args, skip=(args.sweep_param,)),
        engine=grid_engine(args),
        progress=StderrBar(),
    )
    print(render_sweep(rows, args.sweep_param, table_format(args)))


def cmd_leaderboard(args) -> None:
    """Every zoo model and every model of yours ($HASHDEMO_MODELS), or --models; with --out, leaderboard.html
    (sortable) and leaderboard.json, and each model's report beside them, built from the board's runs."""
    from .core.progress import StderrBar
    from .experiments.leaderboard import board_choices, leaderboard
    from .experiments.report import make_report
    from .experiments.robustness import ENSEMBLE
    from .figures.leaderboard_doc import folder_name, write_leaderboard
    from .figures.report_doc import writable, write_report
    from .figures.tables import leaderboard_table
    from .run.settings import field_param
    from .systems.zoo import all_cards

    if args.out:
        writable(Path(args.out))
    names = args.models or ",".join(c.source for c in all_cards())
    budgets = tuple(values_of(field_param("eps"), args.eps) if isinstance(args.eps, str) else args.eps)
    choices = board_choices(choices_of(args, skip=("eps",)))
    systems = systems_of(args, names)
    rows = leaderboard(systems, choices, budgets=budgets, engine=grid_engine(args), progress=StderrBar())
    ensemble = ", ".join(m.label for m in ENSEMBLE)
    if args.out:
        settings = {"protocol": choices.protocol, **choices.given, "budgets": list(budgets)}
        write_leaderboard(rows, settings, ensemble, Path(args.out))
        by_source = {s.spec.source: s for s in systems}
        for row in rows:
            system = by_source[row.model.source]
            report = make_report(system, choices, budgets=budgets, only_cached=True)
            write_report(report, Path(args.out) / folder_name(row), system)
    table = leaderboard_table(rows, ensemble, choices.protocol)
    table.label = args.label
    print_rows(rows, table_format(args), table)


def cmd_robustness(args) -> None:
    from .core.progress import StderrBar
    from .experiments.robustness import curves
    from .figures.tables import curve_table
    from .run.settings import field_param

    if not args.models:
        raise InvalidInputError("robustness needs --models (comma-separated zoo:<name> or model folders)")
    eps_values = values_of(field_param("eps"), args.eps) if isinstance(args.eps, str) else list(args.eps)
    rows = curves(
        systems_of(args, args.models),
        split_list(args.attacks),
        eps_values,
        choices_of(args, skip=("eps",)),
        engine=grid_engine(args),
        progress=StderrBar(),
    )
    print_rows(rows, table_format(args), curve_table(rows))


def cmd_transfer(args) -> None:
    from .core.progress import StderrBar
    from .experiments.transfer import transfer
    from .figures.tables import render_table, transfer_table
    from .run.settings import ATTACK

    result = transfer(
        systems_of(args, args.sources),
        systems_of(args, args.targets),
        args.attack or ATTACK.default,
        choices_of(args),
        engine=grid_engine(args),
        progress=StderrBar(),
    )
    if table_format(args) == "json":
        print(json.dumps(result.to_json(), indent=2))
        return
    table = transfer_table(result)
    table.label = args.label
    print(render_table(table, args.format))


def cmd_report(args) -> None:
    """The robustness report of one model: report.html, report.pdf and report.json in --out. A stopped run
    (Ctrl-C) writes what is done as a partial report naming what is missing, and exits 2; the same command again
    resumes (finished batches are cached)."""
    from .core.progress import StderrBar
    from .experiments.report import report_or_partial
    from .figures.report_doc import writable, write_report

    system = system_of(args)
    out = Path(args.out)
    writable(out)
    report, stopped = report_or_partial(system, choices_of(args), engine=grid_engine(args), progress=StderrBar())
    files = write_report(report, out, system)
    if stopped:
        raise InvalidInputError(
            f"stopped ({stopped}); {out} holds a partial report without {', '.join(report.missing)}: run the same "
            "command again to complete it"
        )
    summary = {"out": str(out), "files": {k: str(v) for k, v in files.items()}, "complete": report.complete}
    emit(
        summary, args.json, f"wrote {', '.join(str(f) for f in files.values())} ({report.provenance['seconds']:.0f} s)"
    )


def cmd_protocols(args) -> None:
    from dataclasses import asdict

    from .run.protocols import PROTOCOLS
    from .run.settings import protocol_lines

    if args.json:
        emit([{**asdict(p), "lines": protocol_lines(p)} for p in PROTOCOLS.values()], True, "")
        return
    blocks = []
    for p in PROTOCOLS.values():
        head = f"{p.name}: {p.title} ({'ours' if p.ours else p.source})"
        lines = [f"  - {line}" for line in protocol_lines(p)] + [f"  - attacks: {', '.join(p.attacks)}"]
        blocks.append("\n".join([head, *lines]))
    print("\n\n".join(blocks))


def cmd_import(args) -> None:
    from .core.progress import StderrBar
    from .experiments.leaderboard import CLEAN
    from .systems.importers import import_model

    spec = spec_of(args, args.out)
    measure = choices_of(args).settings(CLEAN, spec)
    card = import_model(
        args.source,
        args.arch,
        args.bits,
        Path(args.weights),
        args.dataset,
        Path(args.out),
        method=args.method,
        data_root=spec.data_root,
        list_dir=spec.list_dir,
        split_seed=args.split_seed,
        image_size=spec.image_size,
        resize=spec.resize,
        hash_layer=args.hash_layer,
        database_codes=args.database_codes,
        database_labels=args.database_labels,
        topk=measure.topk,
        ties=measure.ties,
        device=spec.device,
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
    from .prosgan.gallery import generator_summaries
    from .systems.zoo import all_cards, resolve_folder

    if args.build:
        from .training.zoo_build import build

        build(args.only, args.jobs)
    cards = all_cards()
    lines = [
        f"{c.source if c.origin == 'zoo' else c.name + ' (' + c.source + ')':<40} MAP@{c.topk} "
        + (f"{c.clean_map:.4f}" if c.clean_map is not None else "-")
        for c in cards
    ]
    emit(
        [
            {
                "source": c.source,
                "name": c.name,
                **c.describe(),
                **c.to_json(),
                "attacks": list(c.attacks),
                "generators": generator_summaries(resolve_folder(c.source)),
            }
            for c in cards
        ],
        args.json,
        "\n".join(lines) or "no models (run make zoo)",
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


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(v) for v in split_list(text)]
    except ValueError:
        raise InvalidInputError(f"--seeds takes whole numbers separated by commas, e.g. 0,1,2; got {text!r}") from None
    if len(set(seeds)) != len(seeds) or any(v < 0 for v in seeds):
        raise InvalidInputError(f"--seeds takes distinct seeds >= 0, got {text!r}")
    return seeds


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


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"hashdemo: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .data import DATASETS
    from .experiments.leaderboard import BUDGETS
    from .experiments.robustness import CURVE_ATTACKS, CURVE_EPS
    from .prosgan.training import TrainSettings
    from .systems.importers import ARCHS, METHODS, SOURCES
    from .training.train import TrainConfig

    parser = Parser(prog="hashdemo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("train", help="train a hashing model and write a model folder")
    for param in declared(TrainConfig):
        add_param(p, param)
    set_flag(p, "--set", "method_params", "a loss parameter, e.g. eta=1.0 for DPSH or lam=1e-4 for CSQ (repeatable)")
    set_flag(p, "--defence-set", "defence_params", "a defence parameter, e.g. codes=memory for ATRDH (repeatable)")
    p.add_argument("--out", default=None, help="output folder (default runs/<name>-seed<seed>); a stopped run resumes")
    p.add_argument("--restart", action="store_true", help="start over instead of resuming the run in --out")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("eval", help="clean MAP of a model on its query set")
    run_flags(p, groups=("queries", "measure", "machine"))
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("encode", help="write codes (+-1 int8) and labels of a split to .npz")
    p.add_argument("--split", choices=("query", "database", "train"), default="query")
    p.add_argument("--out", required=True)
    run_flags(p, groups=())
    p.set_defaults(run=cmd_encode)

    p = sub.add_parser("attack", help="attack a query set and report MAP / t-MAP / perceptibility / time")
    run_flags(p)
    seeds_flag(p)
    p.set_defaults(run=cmd_attack)

    p = sub.add_parser("bench", help="compare attacks on the same queries: the papers' table")
    p.add_argument("--attacks", default=None, help="comma-separated (default: the protocol's table rows)")
    format_flag(p)
    run_flags(p, skip=("attack",))
    seeds_flag(p)
    engine_flags(p)
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("sweep", help="sweep eps, step, steps, bits or a method parameter for some attacks")
    p.add_argument("--param", dest="sweep_param", required=True, help="eps, step, steps, bits, or e.g. t, n_t")
    p.add_argument("--values", required=True, help="comma-separated, e.g. 2,4,8,16,32")
    p.add_argument("--attacks", default=None, help="comma-separated (default: the protocol's table rows)")
    format_flag(p)
    run_flags(p, skip=("attack",))
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
    run_flags(p, groups=())
    p.set_defaults(run=cmd_train_attack)

    p = sub.add_parser("transfer", help="perturbations made on source models, used on target models")
    p.add_argument("--sources", required=True, help="comma-separated models that make the perturbations")
    p.add_argument("--targets", required=True, help="comma-separated models attacked with them")
    format_flag(p)
    run_flags(p, models="none")
    engine_flags(p)
    p.set_defaults(run=cmd_transfer)

    p = sub.add_parser("leaderboard", help="rank models by worst-case MAP over an ensemble and breaking budget")
    p.add_argument("--out", default=None, help="write leaderboard.html, leaderboard.json and each model's report")
    format_flag(p)
    run_flags(p, models="many", skip=("attack",), many={"eps": BUDGETS})
    engine_flags(p)
    p.set_defaults(run=cmd_leaderboard)

    p = sub.add_parser("robustness", help="MAP against eps for several models and attacks (robustness curves)")
    p.add_argument("--attacks", default=",".join(CURVE_ATTACKS), help="comma-separated")
    format_flag(p, ("md", "csv", "json", "latex"))
    run_flags(p, models="many", skip=("attack",), many={"eps": CURVE_EPS})
    engine_flags(p)
    p.set_defaults(run=cmd_robustness)

    p = sub.add_parser("import", help="a DeepHash-pytorch, THA, ProS-GAN or torchvision checkpoint as a model folder")
    p.add_argument("--from", dest="source", required=True, choices=SOURCES, help="which code saved the weights")
    p.add_argument("--arch", required=True, help=f"{', '.join(ARCHS)} (torchvision:NAME with --from state-dict)")
    p.add_argument("--bits", type=int, required=True, help="code length K of the hash layer")
    p.add_argument(
        "--weights", required=True, help="the state_dict (.pt/.pth, read with weights_only=True) or .safetensors"
    )
    p.add_argument("--dataset", required=True, choices=DATASETS.names(), help="the data it was trained on")
    p.add_argument("--method", default=METHODS[-1], choices=METHODS, help="the hashing loss it was trained with")
    p.add_argument("--out", required=True, help="the model folder to write")
    p.add_argument("--hash-layer", default=None, help="--from state-dict: the layer that is the hash layer (fc, ...)")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--database-codes", default=None, help="skip encoding: DeepHash-pytorch's *-trn_binary.npy")
    p.add_argument("--database-labels", default=None, help="their labels (*-trn_label.npy), checked against the data")
    run_flags(p, models="none", groups=("measure", "machine"))
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("report", help="the robustness report of one model: HTML, PDF and JSON")
    p.add_argument("--out", required=True, help="the folder to write report.html, report.pdf and report.json into")
    run_flags(p, skip=("attack",))
    engine_flags(p)
    p.set_defaults(run=cmd_report)

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


RUN_COMMANDS = (
    "attack",
    "bench",
    "sweep",
    "transfer",
    "leaderboard",
    "robustness",
    "report",
)  # every run setting a flag


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except HashdemoError as exc:
        print(f"hashdemo: error: {exc}", file=sys.stderr)
        return 2
    return 0


__all__ = ["RUN_COMMANDS", "build_parser", "main"]
