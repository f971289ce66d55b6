"""How robust is a model: MAP against eps for several attacks and models, the worst case per query over an
ensemble of attacks (the hashing analogue of AutoAttack's ensemble), the smallest budget that breaks each query,
and a leaderboard of models. Everything is cached like Compare: a finished leaderboard opens at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from .. import attacks
from ..core.errors import InvalidInputError
from ..core.progress import Progress, Stopped, silent
from ..core.units import from_255
from ..retrieval import metrics
from ..run import cache
from ..run.driver import batch_seed, run_attack, select_queries
from ..run.report import precision_per_query
from ..run.results import CurvePoint, LeaderboardRow, WorstCase
from ..run.settings import resolve
from ..systems.system import HashingSystem


@dataclass(frozen=True)
class Member:
    """One attack of an ensemble: its name in the registry and the settings it runs with."""

    label: str
    attack: str
    overrides: tuple[tuple[str, object], ...] = ()


ENSEMBLE = (
    Member("HAG", "hag"),
    Member("PgA", "pga"),
    Member("PgA (APGD)", "pga", (("optimiser", "apgd"),)),
    Member("PgA†", "pga-dagger"),
    Member("PgA† (APGD)", "pga-dagger", (("optimiser", "apgd"),)),
    Member("DHTA", "dhta"),  # targeted: pulling the code to another class lowers the query's own MAP too
)
BREAK_P_AT = 10  # a query is broken when its P@10 falls to
BREAK_THRESHOLD = 0.2  # this or less
BREAK_ATTACK = Member("PgA", "pga", (("random_start", False),))  # from x: a query's result is its own


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
    """Each member attacks the same queries at `eps` (1/255); per query the lowest AP@K counts, and a query where
    several members tie is shared among them. None when only_cached and a member has not run."""
    aps, maps = [], {}
    for i, member in enumerate(members):
        overrides = {**dict(member.overrides), "eps": eps, "queries": queries}
        settings = resolve(protocol, member.attack, overrides, model=system.spec)
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
    worst = stacked.min(0).values
    tied = (stacked == worst).double()  # (members, Q): every member at the minimum shares the query
    shares = tied / tied.sum(0)
    wins = {m.label: round(float(shares[i].sum()), 2) for i, m in enumerate(members)}
    return WorstCase(eps, round(float(worst.mean()), 4), wins, maps, worst)


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
    settings = resolve(protocol, member.attack, {**dict(member.overrides), "queries": queries}, model=system.spec)
    key = cache.key_of(
        {
            "system": system.identity(),
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
    attack = attacks.get(member.attack, system, **settings.method_params)

    def broken_at(rows: torch.Tensor, eps: int) -> torch.Tensor:
        if eps == 0:
            images = data.query.images(index[rows]).to(system.device)
            return broken(system, system.model.encode(images).cpu(), labels[rows])
        codes = []
        for first in range(0, len(rows), settings.batch_size):
            if should_stop():
                raise Stopped("the breaking-budget search was stopped; nothing was kept")
            part = rows[first : first + settings.batch_size]
            budget = replace(settings.budget, eps=from_255(eps), seed=batch_seed(settings.budget.seed, 0))
            images = data.query.images(index[part]).to(system.device)
            codes.append(attack(images, labels[part], budget=budget, loop=settings.loop).adversarial_codes.cpu())
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
    systems: list[HashingSystem],
    attack_names: list[str],
    eps_values: list[float],
    *,
    queries: int | None = 1000,
    protocol: str = "pgd",
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
    only_cached: bool = False,
) -> list[CurvePoint] | None:
    """MAP (t-MAP for targeted attacks) against eps, one point per (model, attack, eps); None if a point is missing
    and only_cached."""
    rows, total, done = [], len(systems) * len(attack_names) * len(eps_values), 0
    for system in systems:
        for name in attack_names:
            for eps in eps_values:
                settings = resolve(protocol, name, {"eps": eps, "queries": queries}, model=system.spec)
                run = run_attack(system, settings, only_cached=only_cached, should_stop=should_stop)
                if run is None:
                    return None
                r = run.report
                rows.append(
                    CurvePoint(
                        system.spec.source,
                        system.label,
                        system.card.defence,
                        name,
                        r.title,
                        eps,
                        r.targeted,
                        r.value,
                        r.map_clean,
                    )
                )
                done += 1
                progress(done, total, f"{system.label} {name} eps {eps:g}")
    return rows


def member_settings(system: HashingSystem, queries: int | None, budgets: tuple[float, ...]):
    """Every run a leaderboard row reads: the clean queries (noise at eps 0 is the clean codes' baseline run)
    and each ensemble member at each budget."""
    jobs = [resolve("pgd", "noise", {"queries": queries}, model=system.spec)]
    for eps in budgets:
        for member in ENSEMBLE:
            overrides = {**dict(member.overrides), "eps": eps, "queries": queries}
            jobs.append(resolve("pgd", member.attack, overrides, model=system.spec))
    return jobs


def leaderboard_jobs(
    systems: list[HashingSystem], *, queries: int | None = 1000, budgets: tuple[float, ...] = (8, 16)
) -> list[tuple[HashingSystem, object]]:
    """The attack runs a leaderboard reads (for an engine to compute in parallel first)."""
    return [(system, s) for system in systems for s in member_settings(system, queries, budgets)]


def leaderboard(
    systems: list[HashingSystem],
    *,
    queries: int | None = 1000,
    budgets: tuple[float, ...] = (8, 16),
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
    only_cached: bool = False,
) -> list[LeaderboardRow] | None:
    """Each model: clean MAP, worst-case MAP over the ensemble at each budget, the median breaking eps of PgA;
    sorted from the most robust (highest worst-case MAP at the first budget)."""
    if not systems:
        raise InvalidInputError("no models to rank: choose at least one (the zoo is empty? make zoo)")
    rows = []
    for i, system in enumerate(systems):
        worst = []
        for eps in budgets:
            found = worst_case(
                system,
                eps,
                queries=queries,
                only_cached=only_cached,
                should_stop=should_stop,
                progress=lambda d, t, text, i=i, system=system: progress(i, len(systems), f"{system.label}: {text}"),
            )
            if found is None:
                return None
            worst.append(found)
        clean = run_attack(system, member_settings(system, queries, ())[0], only_cached=only_cached)
        eps_values = breaking_eps(system, queries=queries, only_cached=only_cached, should_stop=should_stop)
        if clean is None or eps_values is None:
            return None
        card = system.card
        rows.append(
            LeaderboardRow(
                system.spec.source,
                system.label,
                card.method,
                system.bits,
                card.backbone,
                card.defence or "none",
                clean.report.map_clean,
                tuple(worst),
                median_eps(eps_values),
            )
        )
        progress(i + 1, len(systems), system.label)
    return sorted(rows, key=lambda r: -r.worst_at(budgets[0]).map)
