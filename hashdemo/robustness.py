"""How robust is a model: MAP against eps for several attacks and models, the worst case per query over an
ensemble of attacks (the hashing analogue of AutoAttack's ensemble), the smallest budget that breaks each query,
and a leaderboard of every zoo model. Everything is cached like Compare: a finished leaderboard opens at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from . import attacks, cache, metrics
from .budget import UNIT
from .errors import InvalidInputError
from .evaluation import batch_seed, run_attack, select_queries
from .progress import Progress, silent
from .protocols import resolve
from .report import precision_per_query
from .system import HashingSystem, load_system
from .zoo import list_models


@dataclass(frozen=True)
class Member:
    """One attack of an ensemble: its name in the registry and the settings it runs with."""

    label: str
    attack: str
    overrides: tuple[tuple[str, object], ...] = ()


ENSEMBLE = (
    Member("HAG", "hag"),
    Member("PgA", "pga"),
    Member("PgA†", "pga-dagger"),
    Member("PgA† (APGD)", "pga-dagger", (("optimiser", "apgd"),)),
)
BREAK_P_AT = 10  # a query is broken when its P@10 falls to
BREAK_THRESHOLD = 0.2  # this or less
BREAK_ATTACK = Member("PgA", "pga", (("random_start", False),))  # from x: a query's result is its own


@dataclass
class WorstCase:
    """Per query the lowest AP over the ensemble: its mean, which member won how often, each member's MAP."""

    map: float
    wins: dict[str, int]
    member_maps: dict[str, float]
    worst_ap: torch.Tensor  # (Q,)


def worst_case(
    system: HashingSystem,
    eps: float,
    *,
    queries: int | None = 1000,
    protocol: str = "pgd",
    members: tuple[Member, ...] = ENSEMBLE,
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
    only_cached: bool = False,
) -> WorstCase | None:
    """Each member attacks the same queries at `eps` (1/255); per query the lowest AP@K counts (ties: the first
    member). None when only_cached and a member has not run."""
    aps, maps = [], {}
    for i, member in enumerate(members):
        settings = resolve(protocol, member.attack, {**dict(member.overrides), "eps": eps, "queries": queries})
        run = run_attack(
            system,
            settings,
            only_cached=only_cached,
            should_stop=should_stop,
            progress=lambda d, t, text, i=i: progress(i * t + d, len(members) * t, text),
        )
        if run is None:
            return None
        labels = system.dataset.query.labels[run.query_index]
        aps.append(
            metrics.average_precision(
                query_codes=run.adversarial_codes,
                database_codes=system.database_codes,
                query_labels=labels,
                database_labels=system.dataset.database.labels,
                topk=settings.topk,
            )
        )
        maps[member.label] = round(float(aps[-1].mean()), 4)
    stacked = torch.stack(aps)
    worst, winner = stacked.min(0)
    wins = {m.label: int((winner == i).sum()) for i, m in enumerate(members)}
    return WorstCase(round(float(worst.mean()), 4), wins, maps, worst)


def broken(system: HashingSystem, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Queries whose P@10 is 0.2 or less (bool per query)."""
    return precision_per_query(system, codes, labels, BREAK_P_AT) <= BREAK_THRESHOLD + 1e-9


def breaking_eps(
    system: HashingSystem,
    *,
    queries: int | None = 1000,
    largest: int = 32,
    member: Member = BREAK_ATTACK,
    protocol: str = "pgd",
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
    only_cached: bool = False,
) -> torch.Tensor | None:
    """Per query the smallest eps on the grid 0, 1, ..., `largest` (in 1/255) at which the attack brings its P@10
    to 0.2 or less, by bisection (it assumes a larger budget breaks at least what a smaller one does); inf for a
    query still standing at `largest`. Cached; None when only_cached and not computed."""
    settings = resolve(protocol, member.attack, {**dict(member.overrides), "queries": queries})
    key = cache.key_of(
        {
            "model": system.name,
            "meta": system.meta,
            "settings": settings.to_json(),
            "largest": largest,
            "rule": [BREAK_P_AT, BREAK_THRESHOLD],
        }
    )
    cached = cache.load("breaking", key)
    if cached is not None:
        return torch.tensor(cached[0]["eps"], dtype=torch.float64)
    if only_cached:
        return None
    data = system.dataset
    index = select_queries(queries, len(data.query), settings.query_seed)
    labels = data.query.labels[index]
    attack = attacks.get(member.attack, system, **settings.params)

    def broken_at(rows: torch.Tensor, eps: int) -> torch.Tensor:
        if eps == 0:
            return broken(system, system.model.encode(data.query.images(index[rows])).cpu(), labels[rows])
        codes = []
        for first in range(0, len(rows), settings.batch_size):
            if should_stop():
                raise cache.Stopped("the breaking-budget search was stopped; nothing was kept")
            part = rows[first : first + settings.batch_size]
            budget = replace(settings.budget, eps=eps * UNIT, seed=batch_seed(settings.budget.seed, 0))
            codes.append(
                attack(
                    data.query.images(index[part]), labels[part], budget=budget, loop=settings.loop
                ).adversarial_codes
            )
        return broken(system, torch.cat(codes), labels[rows])

    everyone = torch.arange(len(index))
    low = torch.zeros(len(index), dtype=torch.long)  # the query stands at low
    high = torch.full((len(index),), largest, dtype=torch.long)  # and falls at high
    result = torch.full((len(index),), float("inf"), dtype=torch.float64)
    at_zero = broken_at(everyone, 0)
    result[at_zero] = 0
    candidates = everyone[~at_zero]
    reachable = candidates[broken_at(candidates, largest)]
    open_rows = reachable
    rounds = max(1, largest.bit_length())
    for r in range(rounds + 1):
        open_rows = open_rows[high[open_rows] - low[open_rows] > 1]
        progress(r, rounds, f"breaking budget: {len(open_rows)} queries left")
        if not len(open_rows):
            break
        middle = (low[open_rows] + high[open_rows]) // 2
        for eps in torch.unique(middle).tolist():
            rows = open_rows[middle == eps]
            now = broken_at(rows, eps)
            high[rows[now]] = eps
            low[rows[~now]] = eps
    result[reachable] = high[reachable].double()
    cache.store("breaking", key, {"eps": result.tolist(), "queries": len(index)})
    return result


def median_eps(values: torch.Tensor) -> float:
    """The median breaking eps (inf when more than half the queries stand at the largest budget)."""
    return float(values.sort().values[(len(values) - 1) // 2])


def curves(
    specs: list[str],
    attack_names: list[str],
    eps_values: list[float],
    *,
    queries: int | None = 1000,
    protocol: str = "pgd",
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
    only_cached: bool = False,
) -> list[dict] | None:
    """MAP (t-MAP for targeted attacks) against eps, one row per (model, attack, eps); None if a point is missing
    and only_cached."""
    rows, total, done = [], len(specs) * len(attack_names) * len(eps_values), 0
    for spec in specs:
        system = load_system(spec)
        for name in attack_names:
            for eps in eps_values:
                run = run_attack(
                    system,
                    resolve(protocol, name, {"eps": eps, "queries": queries}),
                    only_cached=only_cached,
                    should_stop=should_stop,
                )
                if run is None:
                    return None
                r = run.report
                rows.append(
                    {
                        "model": spec,
                        "defence": system.meta.get("defence"),
                        "attack": name,
                        "title": r["title"],
                        "eps": eps,
                        "targeted": r["targeted"],
                        "value": r["t_map_adv"] if r["targeted"] else r["map_adv"],
                        "map_clean": r["map_clean"],
                    }
                )
                done += 1
                progress(done, total, f"{spec} {name} eps {eps:g}")
    return rows


def leaderboard_jobs(
    specs: list[str] | None = None, *, queries: int | None = 1000, budgets: tuple[float, float] = (8, 16)
) -> list[tuple[str, object]]:
    """The attack runs a leaderboard reads (for an engine to compute in parallel first)."""
    specs = specs or [f"zoo:{m['name']}" for m in list_models()]
    jobs = [(spec, resolve("pgd", "noise", {"queries": queries})) for spec in specs]
    for spec in specs:
        for eps in budgets:
            for member in ENSEMBLE:
                jobs.append(
                    (spec, resolve("pgd", member.attack, {**dict(member.overrides), "eps": eps, "queries": queries}))
                )
    return jobs


def leaderboard(
    specs: list[str] | None = None,
    *,
    queries: int | None = 1000,
    budgets: tuple[float, float] = (8, 16),
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
    only_cached: bool = False,
) -> list[dict] | None:
    """Every zoo model (or `specs`): clean MAP, worst-case MAP over the ensemble at each budget, the median
    breaking eps of PgA; sorted from the most robust (highest worst-case MAP at the first budget)."""
    specs = specs or [f"zoo:{m['name']}" for m in list_models()]
    if not specs:
        raise InvalidInputError("no models to rank: the zoo is empty (make zoo)")
    rows = []
    for i, spec in enumerate(specs):
        system = load_system(spec)
        row = {
            "model": spec,
            "method": system.meta["method"],
            "bits": system.bits,
            "backbone": system.meta["backbone"],
            "defence": system.meta.get("defence") or "none",
        }
        for eps in budgets:
            worst = worst_case(
                system,
                eps,
                queries=queries,
                only_cached=only_cached,
                should_stop=should_stop,
                progress=lambda d, t, text, i=i, spec=spec: progress(i, len(specs), f"{spec}: {text}"),
            )
            if worst is None:
                return None
            row[f"worst_map_{eps:g}"] = worst.map
            row[f"wins_{eps:g}"] = worst.wins
        clean = run_attack(system, resolve("pgd", "noise", {"queries": queries}), only_cached=only_cached)
        if clean is None:
            return None
        row["clean_map"] = clean.report["map_clean"]
        eps_values = breaking_eps(system, queries=queries, only_cached=only_cached, should_stop=should_stop)
        if eps_values is None:
            return None
        row["median_breaking_eps"] = median_eps(eps_values)
        rows.append(row)
        progress(i + 1, len(specs), spec)
    return sorted(rows, key=lambda r: -r[f"worst_map_{budgets[0]:g}"])
