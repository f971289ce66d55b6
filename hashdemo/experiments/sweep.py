"""Sweep one setting (eps, step, iterations T, bit length, or a method parameter such as the margin t) for one
or more attacks. Iterations come from snapshots of one run per attack (HAG Table I, PgA Fig. 5a)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .. import attacks
from ..attacks.budget import STEPS
from ..core.errors import InvalidInputError
from ..core.params import Param
from ..core.progress import Progress, silent
from ..models import BITS
from ..run.driver import Job, StopCheck, execute, never
from ..run.results import AttackReport, SweepRow
from ..run.settings import Choices, RunSettings, user_fields
from ..systems.system import HashingSystem, load_system
from ..systems.zoo import all_cards

SWEPT_GROUPS = ("budget", "loop", "measure")  # a sweep's axes: every numeric setting of these


DEFAULT_VALUES = {
    "eps": [2, 4, 8, 16, 32],
    "step": [0.5, 1, 2, 4],
    "steps": [10, 20, 50, 100, 200],
    "bits": [16, 32, 64],
}


def default_values(param: Param) -> list:
    """Values a first sweep of `param` shows: the papers' grids for the budget, else five across its range."""
    if param.name in DEFAULT_VALUES:
        return DEFAULT_VALUES[param.name]
    if param.low is not None and param.high is not None:
        return [round(param.low + (param.high - param.low) * f, 4) for f in (0.1, 0.3, 0.5, 0.7, 0.9)]
    start = param.low if param.low is not None else 0
    if param.integer:
        return [int(start) + d for d in (0, 2, 4, 8, 16)]
    base = param.default or 1
    return [base * f for f in (0.25, 0.5, 1, 2, 4)]


class NotCached(Exception):
    """A sweep point asked for from the cache only has not been computed."""


def sibling_models(system: HashingSystem) -> dict[int, str]:
    """Models (zoo or the user's) that differ from `system` only in bit length: {bits: source}."""
    card = system.card
    mine = (*card.family(), card.variant)
    return {c.bits: c.source for c in all_cards() if (*c.family(), c.variant) == mine}


def sweepable(attack_names: list[str]) -> dict[str, Param]:
    """The settings one can sweep for these attacks: every numeric run setting (the budget first), the bit length,
    and numeric method parameters that every chosen attack declares alike (HAG's t in [0, 1] and PgA's t in
    (-1, 0) are swept apart)."""
    out = {b.name: b.param for b in user_fields() if b.param.numeric and b.group in SWEPT_GROUPS}
    out[BITS.name] = BITS
    declared = [{p.name: p for p in attacks.attack_class(n).parameters if p.numeric} for n in attack_names]
    if declared:
        for name, param in declared[0].items():
            if all(d.get(name) == param for d in declared[1:]):
                out[name] = param
    return out


def check(system: HashingSystem, param: str, values: list[Any], attack_names: list[str]) -> list[float | int]:
    """The values checked against the setting's declared range (in the user's units), or a clear error."""
    if not attack_names:
        raise InvalidInputError("choose at least one attack to sweep")
    for name in attack_names:
        attacks.attack_class(name)
    choices = sweepable(attack_names)
    if param not in choices:
        raise InvalidInputError(
            f"cannot sweep {param!r} for {', '.join(attack_names)}; choose one of {', '.join(choices)}"
        )
    if not values:
        raise InvalidInputError("give at least one value to sweep")
    checked = [choices[param].check(v, "the sweep") for v in values]
    if param == BITS.name:
        siblings = sibling_models(system)
        missing = [v for v in checked if v not in siblings]
        if missing:
            raise InvalidInputError(
                f"no zoo model like {system.name} with {', '.join(map(str, missing))} bits; "
                f"available: {', '.join(map(str, sorted(siblings)))}"
            )
    return checked


@dataclass(frozen=True)
class Point:
    """One run a sweep needs: the swept value, the system it runs on, its settings."""

    value: Any
    system: HashingSystem
    settings: RunSettings


def points(
    system: HashingSystem, param: str, values: list[Any], attack_names: list[str], choices: Choices = Choices()
) -> list[Point]:
    """The runs a sweep needs; a steps sweep is one run per attack, with snapshots at every value. Every chosen
    setting applies; a method parameter no chosen attack knows is an error. A bit-length sweep loads each sibling
    with the system's own device and data root."""
    values = check(system, param, values, attack_names)
    choices.check(attack_names)
    out = []
    for value in [max(values)] if param == STEPS.name else values:
        target = system
        if param == BITS.name and value != system.bits:
            target = load_system(replace(system.spec, source=sibling_models(system)[value], digest=""))
        for name in attack_names:
            extra: dict[str, Any] = {}
            if param == STEPS.name:
                extra = {"steps": value, "record_at": values}
            elif param != BITS.name:
                extra = {param: value}
            out.append(Point(value, target, choices.settings(name, target.spec, **extra)))
    return out


def run_sweep(
    system: HashingSystem,
    param: str,
    values: list[Any],
    attack_names: list[str],
    choices: Choices = Choices(),
    *,
    engine=None,
    progress: Progress = silent,
    stop: StopCheck = never,
    only_cached: bool = False,
) -> list[SweepRow]:
    """One row per (value, attack): the attack's report at that value (same queries at every point)."""
    values = check(system, param, values, attack_names)
    planned = points(system, param, values, attack_names, choices)
    jobs = [Job(point.system, point.settings) for point in planned]
    runs = execute(jobs, engine=engine, only_cached=only_cached, progress=progress, stop=stop)
    rows = []
    for point, run in zip(planned, runs, strict=True):
        if run is None:
            raise NotCached(f"{point.settings.attack_class.title} at {param} = {point.value:g}")
        if param == STEPS.name:
            rows += snapshot_rows(run.report, values)
        else:
            rows.append(SweepRow(param, point.value, run.report))
    return sorted(rows, key=lambda r: (r.value, attack_names.index(r.report.attack)))


def snapshot_rows(report: AttackReport, values: list[int]) -> list[SweepRow]:
    """Rows of a steps sweep: the run's report with the numbers of the iterate at each requested iteration."""
    by_iteration = {row.iteration: row for row in report.by_iteration}
    return [
        SweepRow(
            STEPS.name,
            n,
            replace(
                report,
                steps=n,
                map_adv=by_iteration[n].map_adv,
                t_map_adv=by_iteration[n].t_map_adv,
                perceptibility_rmse=by_iteration[n].perceptibility_rmse,
                linf_max=by_iteration[n].linf_max,
            ),
        )
        for n in values
    ]
