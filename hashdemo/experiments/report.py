"""The robustness report of one model, the numbers and figures a paper about a hashing model needs, in one call:
its card; clean MAP, P@N and the precision-recall curve; the worst case over the ensemble at 4, 8 and 16/255 with
each member's share; the breaking-budget distribution; MAP and t-MAP against eps; which zoo models' perturbations
hurt it as a black box; the most and the least robust queries; and how to reproduce it.

Each section is a plan for the driver, so the report is cached batch by batch: a stopped or killed report resumes
where it was, a second one on a warm cache only reads. `make_report(..., only_cached=True)` builds what is cached
and lists the sections still missing (a partial report says so).
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field

import torch

from .. import __version__
from ..core.progress import Progress, Stopped, silent
from ..models.card import ModelCard
from ..retrieval import metrics
from ..run.driver import StopCheck, execute, never
from ..run.results import CurvePoint, TransferResult, WorstCase, finite
from ..run.settings import Choices, user_fields
from ..systems.spec import ModelSpec
from ..systems.system import HashingSystem, load_system
from ..systems.zoo import zoo_cards
from .lab import LabRequest, LabRun, run_lab
from .leaderboard import clean_job
from .robustness import (
    BREAK_ATTACK,
    BREAK_LARGEST,
    ENSEMBLE,
    Member,
    breaking_eps,
    median_eps,
    member_jobs,
    worst_case,
)
from .transfer import transfer

REPORT_EPS = (4.0, 8.0, 16.0)  # the worst case and the curves (1/255)
REPORT_QUERIES = 500  # the default size: the report of the default model within 10 min on 2 CPU cores
TRANSFER_ATTACK = "pga"  # the perturbations the black-box section sends, at the middle budget
TRANSFER_SOURCES = 4  # zoo models, one per (backbone, method) family other than the model's own
P_AT = (10, 100, 1000)
SECTIONS = {
    "card": "The model",
    "clean": "Clean retrieval",
    "worst": "Worst case over the ensemble",
    "breaking": "Breaking budget per query",
    "curves": "MAP and t-MAP against epsilon",
    "transfer": "Transfer: other models' perturbations as a black box",
    "examples": "The most and the least robust queries",
    "provenance": "How to reproduce it",
}


@dataclass(frozen=True)
class Clean:
    """Clean retrieval on the report's queries: MAP@K, precision at N and the precision-recall curve."""

    map: float
    topk: int
    precision_at: dict[int, float]
    pr_precision: tuple[float, ...]
    pr_recall: tuple[float, ...]

    def to_json(self) -> dict:
        return {
            "map": self.map,
            "topk": self.topk,
            "precision_at": {str(n): p for n, p in self.precision_at.items()},
            "pr_curve": {"precision": list(self.pr_precision), "recall": list(self.pr_recall)},
        }


@dataclass(frozen=True)
class Breaking:
    """The smallest budget (1/255) that breaks each query (inf: still standing at `largest`)."""

    eps: tuple[float, ...]
    largest: int
    rule: str

    @property
    def median(self) -> float:
        return median_eps(torch.tensor(self.eps, dtype=torch.float64))

    def to_json(self) -> dict:
        return {
            "median": finite(self.median),
            "largest": self.largest,
            "rule": self.rule,
            "standing": sum(e == float("inf") for e in self.eps),
            "eps": [finite(e) for e in self.eps],
        }


@dataclass(frozen=True)
class Example:
    """One query the report shows: why it was chosen and its Attack Lab run (the worst member at the middle budget)."""

    role: str  # "least robust" | "most robust"
    worst_ap: float
    run: LabRun

    def to_json(self) -> dict:
        return {
            "role": self.role,
            "query": self.run.request.query,
            "worst_ap": self.worst_ap,
            **self.run.numbers.to_json(),
        }


@dataclass(frozen=True)
class RobustnessReport:
    """Everything the report shows; a section that is None is missing (not computed yet)."""

    model: ModelCard
    choices: Choices
    queries: int
    settings: dict  # the clean run's resolved settings: the protocol's values and the user's
    command: str
    clean: Clean | None = None
    worst: tuple[WorstCase, ...] | None = None
    breaking: Breaking | None = None
    curves: tuple[CurvePoint, ...] | None = None
    transfer: TransferResult | None = None
    examples: tuple[Example, ...] | None = None
    provenance: dict = field(default_factory=dict)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in SECTIONS if name not in ("card", "provenance") and getattr(self, name) is None)

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_json(self) -> dict:
        """Every number of the report, with its settings and the model card."""
        return {
            "model": {**self.model.describe(), "card": self.model.to_json()},
            "choices": {"protocol": self.choices.protocol, **self.choices.given},
            "queries": self.queries,
            "settings": self.settings,
            "command": self.command,
            "complete": self.complete,
            "missing": list(self.missing),
            "clean": None if self.clean is None else self.clean.to_json(),
            "worst": None if self.worst is None else [w.to_json() for w in self.worst],
            "ensemble": [member_json(m) for m in ENSEMBLE],
            "breaking": None if self.breaking is None else self.breaking.to_json(),
            "curves": None if self.curves is None else [c.to_json() for c in self.curves],
            "transfer": None if self.transfer is None else self.transfer.to_json(),
            "examples": None if self.examples is None else [e.to_json() for e in self.examples],
            "provenance": self.provenance,
        }


def member_json(member: Member) -> dict:
    return {"label": member.label, "attack": member.attack, **dict(member.overrides)}


def report_choices(choices: Choices) -> Choices:
    """The user's choices, the report's default size where they set no query count."""
    return (
        choices
        if "queries" in choices.given
        else Choices.of(choices.protocol, {**choices.given, "queries": REPORT_QUERIES})
    )


def command_line(system: HashingSystem, choices: Choices) -> str:
    """The exact command that reproduces the report."""
    flags = {b.name: b.param.flag for b in user_fields()}
    parts = ["python", "-m", "hashdemo", "report", "--model", system.spec.source, "--protocol", choices.protocol]
    for name, value in choices.given.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        parts += [flags[name], text] if name in flags else ["--set", f"{name}={text}"]
    if system.spec.device != ModelSpec().device:
        parts += ["--device", system.spec.device]
    if system.spec.data_root:
        parts += ["--data-root", system.spec.data_root]
    return shlex.join([*parts, "--out", "DIR"])


def transfer_sources(system: HashingSystem) -> list[HashingSystem]:
    """Up to TRANSFER_SOURCES zoo models on the same data, one per (backbone, method) family but the model's own,
    without a defence or held-out classes, loaded on the model's device."""
    mine, seen, out = (system.card.backbone, system.card.method), set(), []
    for card in zoo_cards():
        family = (card.backbone, card.method)
        same_data = card.dataset == system.card.dataset and card.split_seed == system.card.split_seed
        plain = not card.defence and not card.held_out_classes
        if same_data and plain and family != mine and family not in seen and card.source != system.spec.source:
            seen.add(family)
            out.append(load_system(ModelSpec(card.source, system.spec.device, system.spec.data_root)))
        if len(out) == TRANSFER_SOURCES:
            break
    return out


def clean_section(system: HashingSystem, choices: Choices, engine, progress, stop, only_cached) -> Clean | None:
    job = clean_job(system, choices)
    (run,) = execute([job], engine=engine, only_cached=only_cached, progress=progress, stop=stop)
    if run is None:
        return None
    data = system.dataset
    common = {
        "query_codes": run.clean_codes,
        "database_codes": system.database_codes,
        "query_labels": data.query.labels[run.query_index],
        "database_labels": data.database.labels,
    }
    precision = metrics.precision_at(**common, ns=P_AT).tolist()
    pr_p, pr_r = metrics.pr_curve(**common)
    return Clean(
        run.report.map_clean,
        run.report.topk,
        {n: round(p, 4) for n, p in zip(P_AT, precision, strict=True)},
        tuple(round(float(v), 4) for v in pr_p),
        tuple(round(float(v), 4) for v in pr_r),
    )


def curves_from(system: HashingSystem, choices: Choices, budgets: tuple[float, ...]) -> tuple[CurvePoint, ...] | None:
    """MAP (t-MAP for targeted members) against eps from the worst case's own runs (nothing runs twice)."""
    jobs = [job for eps in budgets for job in member_jobs(system, eps, choices, ENSEMBLE)]
    runs = execute(jobs, only_cached=True)
    if any(run is None for run in runs):
        return None
    members = [m for _ in budgets for m in ENSEMBLE]
    return tuple(
        CurvePoint(
            system.card, m.attack, m.label, j.settings.eps, r.report.targeted, r.report.value, r.report.map_clean
        )
        for m, j, r in zip(members, jobs, runs, strict=True)
    )


def examples_section(system: HashingSystem, choices: Choices, worst: WorstCase) -> tuple[Example, ...]:
    """The query with the lowest and the one with the highest worst-case AP at `worst`'s budget, each attacked
    again in the Attack Lab by the member that did worst on it, at the target that member drew for it (one image:
    a second; its random start is the Lab's, not its batch's)."""
    jobs = {m.label: job for m, job in zip(ENSEMBLE, member_jobs(system, worst.eps, choices, ENSEMBLE), strict=True)}
    data = system.dataset
    out = []
    for role, row in (("least robust", int(worst.worst_ap.argmin())), ("most robust", int(worst.worst_ap.argmax()))):
        job = jobs[worst.winners[row]]
        (run,) = execute([job], only_cached=True)
        position = int(run.query_index[row])
        target = None if run.target_labels is None else tuple(bool(v) for v in run.target_labels[row])
        request = LabRequest(job.settings, f"query-{position}", target, LAB_K)
        lab = run_lab(system, request, data.query.images([position]), data.query.labels[[position]])
        out.append(Example(role, round(float(worst.worst_ap[row]), 4), lab))
    return tuple(out)


LAB_K = 10


def make_report(
    system: HashingSystem,
    choices: Choices = Choices(),
    *,
    budgets: tuple[float, ...] = REPORT_EPS,
    engine=None,
    progress: Progress = silent,
    stop: StopCheck = never,
    only_cached: bool = False,
) -> RobustnessReport:
    """The report, section by section (progress says which: "worst case 2/8: ..."); with only_cached, the
    sections that are cached and the missing ones named. A Stop raises Stopped after the batch it was in."""
    choices = report_choices(choices)
    start = time.perf_counter()
    names = [n for n in SECTIONS if n not in ("card", "provenance")]

    def step(name: str, part: int = 0, parts: int = 1):
        """Progress of one section (of its part `part` of `parts`): the whole report counts sections alike."""
        i = names.index(name)

        def report(done: int, total: int, text: str) -> None:
            share = (part + done / max(total, 1)) / parts
            progress(round(1000 * (i + share)), 1000 * len(names), f"{SECTIONS[name]} ({i + 1}/{len(names)}): {text}")

        return report

    common = {"engine": engine, "stop": stop, "only_cached": only_cached}
    clean = clean_section(system, choices, progress=step("clean"), **common)
    worst = []
    for part, eps in enumerate(budgets):
        found = worst_case(system, eps, choices, progress=step("worst", part, len(budgets)), **common)
        if found is not None:
            worst.append(found)
    worst_done = tuple(worst) if len(worst) == len(budgets) else None
    breaking = breaking_eps(system, choices, progress=step("breaking"), **common)
    broke = None if breaking is None else Breaking(tuple(breaking.tolist()), BREAK_LARGEST, BREAK_RULE)
    curves = curves_from(system, choices, budgets)
    sources = transfer_sources(system)
    moved = None
    if sources:
        middle = budgets[len(budgets) // 2]
        given = Choices.of(choices.protocol, {**choices.given, "eps": middle})
        moved = transfer(sources, [system], TRANSFER_ATTACK, given, combine=False, progress=step("transfer"), **common)
    examples = None
    if worst_done is not None and clean is not None:
        examples = examples_section(system, choices, worst_done[len(budgets) // 2])
    settings = execute([clean_job(system, choices)], only_cached=True)[0]
    return RobustnessReport(
        model=system.card,
        choices=choices,
        queries=choices.given["queries"],
        settings={} if settings is None else settings.report.settings,
        command=command_line(system, choices),
        clean=clean,
        worst=worst_done,
        breaking=broke,
        curves=curves,
        transfer=moved,
        examples=examples,
        provenance={
            "hashdemo": __version__,
            "torch": torch.__version__,
            "device": system.device.type,
            "seconds": round(time.perf_counter() - start, 1),
            "ensemble": ", ".join(m.label for m in ENSEMBLE),
            "breaking": BREAK_RULE,
        },
    )


BREAK_RULE = f"{BREAK_ATTACK.label} from x, P@10 <= 0.2, bisection on 0..{BREAK_LARGEST} (1/255)"


def report_or_partial(system: HashingSystem, choices: Choices = Choices(), **kwargs) -> tuple[RobustnessReport, str]:
    """The whole report, or, when it is stopped, what is cached with the missing sections named: (report, why)."""
    try:
        return make_report(system, choices, **kwargs), ""
    except (Stopped, KeyboardInterrupt) as exc:
        kwargs = {k: v for k, v in kwargs.items() if k in ("budgets",)}
        return make_report(system, choices, only_cached=True, **kwargs), str(exc) or "stopped"
