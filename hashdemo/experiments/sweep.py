"""Sweep one setting (eps, step, iterations T, bit length, or a method parameter such as the margin t) for one
or more attacks. Iterations come from snapshots of one run per attack (HAG Table I, PgA Fig. 5a)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .. import attacks
from ..attacks.budget import EPS, STEP, STEPS
from ..core.errors import InvalidInputError
from ..core.params import Param
from ..core.progress import Progress, silent
from ..run.driver import run_attack
from ..run.results import AttackReport, SweepRow
from ..run.settings import RunSettings, resolve
from ..systems.system import HashingSystem, load_system
from ..systems.zoo import all_entries

BITS = Param(
    "bits", 32, "code length K (zoo models that differ only in bits)", 1, None, integer=True, label="bit length"
)
BUDGET_PARAMS = {"eps": EPS, "step": STEP, "steps": STEPS, "bits": BITS}


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
    return [start + d for d in (0, 2, 4, 8, 16)] if param.integer else [param.default * f for f in (0.25, 0.5, 1, 2, 4)]


class NotCached(Exception):
    """A sweep point asked for from the cache only has not been computed."""


def sibling_models(system: HashingSystem) -> dict[int, str]:
    """Models (zoo or the user's) that differ from `system` only in bit length: {bits: source}."""
    card = system.card
    mine = (card.dataset, card.backbone, card.method, card.width, card.variant)
    return {e.bits: e.source for e in all_entries() if (*e.family(), e.variant) == mine}


def sweepable(attack_names: list[str]) -> dict[str, Param]:
    """The settings one can sweep for these attacks: the budget, bit length, and numeric method parameters
    that every chosen attack declares alike (HAG's t in [0, 1] and PgA's t in (-1, 0) are swept apart)."""
    out = dict(BUDGET_PARAMS)
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
    if param == "bits":
        siblings = sibling_models(system)
        missing = [v for v in checked if v not in siblings]
        if missing:
            raise InvalidInputError(
                f"no zoo model like {system.name} with {', '.join(map(str, missing))} bits; "
                f"available: {', '.join(map(str, sorted(siblings)))}"
            )
    return checked


def split_overrides(overrides: dict[str, Any], name: str) -> dict[str, Any]:
    """The settings that apply to one attack: run and loop settings always, method parameters if it declares them."""
    own = {p.name for p in attacks.attack_class(name).parameters}
    every = {p.name for n in attacks.ATTACKS for p in attacks.attack_class(n).parameters}
    return {k: v for k, v in overrides.items() if k in own or k not in every}


@dataclass(frozen=True)
class Point:
    """One run a sweep needs: the swept value, the system it runs on, its settings."""

    value: Any
    system: HashingSystem
    settings: RunSettings


def points(
    system: HashingSystem,
    param: str,
    values: list[Any],
    attack_names: list[str],
    *,
    protocol: str,
    overrides: dict[str, Any] | None = None,
) -> list[Point]:
    """The runs a sweep needs; a steps sweep is one run per attack, with snapshots at every value. Every override
    applies (loop options included); a key no chosen attack knows is an error. A bit-length sweep loads each
    sibling with the system's own device and data root."""
    values = check(system, param, values, attack_names)
    overrides = dict(overrides or {})
    known = {p.name for n in attack_names for p in attacks.attack_class(n).parameters}
    stray = {p.name for n in attacks.ATTACKS for p in attacks.attack_class(n).parameters} - known
    if set(overrides) & stray:
        raise InvalidInputError(
            f"{', '.join(sorted(set(overrides) & stray))} is not a setting of {', '.join(attack_names)}"
        )
    out = []
    for value in [max(values)] if param == "steps" else values:
        target = system
        if param == "bits" and value != system.bits:
            target = load_system(replace(system.spec, source=sibling_models(system)[value]))
        for name in attack_names:
            given = split_overrides(overrides, name)
            if param == "steps":
                given.update(steps=value, record_at=values)
            elif param != "bits":
                given[param] = value
            out.append(Point(value, target, resolve(protocol, name, given, model=target.spec)))
    return out


def run_sweep(
    system: HashingSystem,
    param: str,
    values: list[Any],
    attack_names: list[str],
    *,
    protocol: str,
    overrides: dict[str, Any] | None = None,
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
    only_cached: bool = False,
) -> list[SweepRow]:
    """One row per (value, attack): the attack's report at that value (same queries at every point)."""
    values = check(system, param, values, attack_names)
    planned = points(system, param, values, attack_names, protocol=protocol, overrides=overrides)
    rows = []
    for done, point in enumerate(planned, start=1):
        run = run_attack(point.system, point.settings, should_stop=should_stop, only_cached=only_cached)
        if run is None:
            raise NotCached(f"{point.settings.attack_class.title} at {param} = {point.value:g}")
        if param == "steps":
            rows += snapshot_rows(run.report, values)
        else:
            rows.append(SweepRow(param, point.value, run.report))
        progress(done, len(planned), f"{param}={point.value} {point.settings.attack}")
    return sorted(rows, key=lambda r: (r.value, attack_names.index(r.report.attack)))


def snapshot_rows(report: AttackReport, values: list[int]) -> list[SweepRow]:
    """Rows of a steps sweep: the run's report with the numbers of the iterate at each requested iteration."""
    by_iteration = {row.iteration: row for row in report.by_iteration}
    return [
        SweepRow(
            "steps",
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
