"""How robust is a model: MAP against eps for several attacks and models, the worst case per query over an
ensemble of attacks (the hashing analogue of AutoAttack's ensemble) and the smallest budget that breaks each
query. Every attack is a driver job, so everything is cached per batch: a finished view opens at once and a
stopped one resumes."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core.progress import Progress, silent
from ..retrieval import metrics
from ..run import cache
from ..run.driver import Job, StopCheck, attack_resources, execute, never, select_queries
from ..run.report import precision_per_query
from ..run.results import CurvePoint, WorstCase
from ..run.settings import Choices
from ..systems.system import HashingSystem


@dataclass(frozen=True)
class Member:
    """One attack of an ensemble: its name in the registry and the settings it runs with."""

    label: str
    attack: str
    overrides: tuple[tuple[str, object], ...] = ()


# the fixed ensemble of the worst case, the report and the leaderboard: the non-targeted attacks (PgA's dagger
# variant with APGD, its strongest reading) and the targeted ones (pulling the code to another class lowers the
# query's own MAP too)
ENSEMBLE = (
    Member("HAG", "hag"),
    Member("SDHA", "sdha"),
    Member("PgA", "pga"),
    Member("PgA† (APGD)", "pga-dagger", (("optimiser", "apgd"),)),
    Member("P2P", "p2p"),
    Member("DHTA", "dhta"),
    Member("THA", "tha"),
)
BREAK_P_AT = 10  # a query is broken when its P@10 falls to
BREAK_THRESHOLD = 0.2  # this or less
BREAK_ATTACK = Member("PgA", "pga", (("random_start", False),))  # from x: a query's result is its own
BREAK_LARGEST = 32  # the breaking budget is searched on 0, 1, ..., 32 (1/255)
CURVE_ATTACKS = ("pga", "hag")  # the curves a first look draws (PgA Fig. 5)
CURVE_EPS = (2.0, 4.0, 8.0, 16.0)  # and at which budgets (1/255)


def member_jobs(system: HashingSystem, eps: float, choices: Choices, members: tuple[Member, ...]) -> list[Job]:
    return [Job(system, choices.settings(m.attack, system.spec, **dict(m.overrides), eps=eps)) for m in members]


def worst_case(
    system: HashingSystem,
    eps: float,
    choices: Choices = Choices(),
    *,
    members: tuple[Member, ...] = ENSEMBLE,
    engine=None,
    progress: Progress = silent,
    stop: StopCheck = never,
    only_cached: bool = False,
) -> WorstCase | None:
    """Each member attacks the same queries at `eps` (1/255); per query the lowest AP@K counts, and a query where
    several members tie is shared among them. None when only_cached and a member has not run."""
    jobs = member_jobs(system, eps, choices, members)
    runs = execute(jobs, engine=engine, only_cached=only_cached, progress=progress, stop=stop)
    if any(run is None for run in runs):
        return None
    aps, maps = [], {}
    for member, job, run in zip(members, jobs, runs, strict=True):
        labels = system.dataset.query.labels[run.query_index]
        aps.append(
            metrics.average_precision(
                query_codes=run.adversarial_codes,
                database_codes=system.database_codes,
                query_labels=labels,
                database_labels=system.dataset.database.labels,
                topk=job.settings.topk,
                ties=job.settings.ties,
            )
        )
        maps[member.label] = round(float(aps[-1].mean()), 4)
    stacked = torch.stack(aps)
    worst = stacked.min(0).values
    tied = (stacked == worst).double()  # (members, Q): every member at the minimum shares the query
    shares = tied / tied.sum(0)
    wins = {m.label: round(float(shares[i].sum()), 2) for i, m in enumerate(members)}
    winners = tuple(members[int(i)].label for i in (stacked == worst).float().argmax(0))  # the first at the minimum
    return WorstCase(eps, round(float(worst.mean()), 4), wins, maps, worst, winners)


def broken(system: HashingSystem, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Queries whose P@10 is 0.2 or less (bool per query)."""
    return precision_per_query(system, codes, labels, BREAK_P_AT) <= BREAK_THRESHOLD + 1e-9


def breaking_eps(
    system: HashingSystem,
    choices: Choices = Choices(),
    *,
    largest: int = BREAK_LARGEST,
    member: Member = BREAK_ATTACK,
    engine=None,
    progress: Progress = silent,
    stop: StopCheck = never,
    only_cached: bool = False,
) -> torch.Tensor | None:
    """Per query the smallest eps on the grid 0, 1, ..., `largest` (in 1/255) at which the attack brings its P@10
    to 0.2 or less, by bisection (it assumes a larger budget breaks at least what a smaller one does); inf for a
    query still standing at `largest`. Each round's attacks are driver jobs on the queries still open (cached per
    batch, so a stopped search resumes); None when only_cached and not computed."""
    settings = choices.settings(member.attack, system.spec, **dict(member.overrides))
    key = cache.key_of(
        {
            "system": system.identity(),
            "settings": settings.result_json(),
            "largest": largest,
            "rule": [BREAK_P_AT, BREAK_THRESHOLD],
            "resources": attack_resources(system, settings),
        }
    )
    cached = cache.load("breaking", key)
    if cached is not None:
        return torch.tensor(cached[0]["eps"], dtype=torch.float64)
    if only_cached:
        return None
    data = system.dataset
    index = select_queries(settings.queries, len(data.query), settings.query_seed)
    labels = data.query.labels[index]

    def broken_at(rows: torch.Tensor, eps: int) -> torch.Tensor:
        if eps == 0:
            images = data.query.images(index[rows]).to(system.device)
            return broken(system, system.model.encode(images).cpu(), labels[rows])
        job = Job(
            system,
            choices.settings(member.attack, system.spec, **dict(member.overrides), eps=eps),
            tuple(index[rows].tolist()),
        )
        (run,) = execute([job], engine=engine, stop=stop)
        return broken(system, run.adversarial_codes, labels[rows])

    everyone = torch.arange(len(index))
    low = torch.zeros(len(index), dtype=torch.long)  # the query stands at low
    high = torch.full((len(index),), largest, dtype=torch.long)  # and falls at high
    result = torch.full((len(index),), float("inf"), dtype=torch.float64)
    at_zero = broken_at(everyone, 0)
    result[at_zero] = 0
    candidates = everyone[~at_zero]
    reachable = candidates[broken_at(candidates, largest)] if len(candidates) else candidates
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


def curve_jobs(
    systems: list[HashingSystem], attack_names: list[str], eps_values: list[float], choices: Choices
) -> list[Job]:
    return [
        Job(system, choices.settings(name, system.spec, eps=eps))
        for system in systems
        for name in attack_names
        for eps in eps_values
    ]


def curves(
    systems: list[HashingSystem],
    attack_names: list[str],
    eps_values: list[float],
    choices: Choices = Choices(),
    *,
    engine=None,
    progress: Progress = silent,
    stop: StopCheck = never,
    only_cached: bool = False,
) -> list[CurvePoint] | None:
    """MAP (t-MAP for targeted attacks) against eps, one point per (model, attack, eps); None if a point is missing
    and only_cached."""
    jobs = curve_jobs(systems, attack_names, eps_values, choices)
    runs = execute(jobs, engine=engine, only_cached=only_cached, progress=progress, stop=stop)
    if any(run is None for run in runs):
        return None
    return [
        CurvePoint(
            job.system.card,
            job.settings.attack,
            run.report.title,
            job.settings.eps,
            run.report.targeted,
            run.report.value,
            run.report.map_clean,
        )
        for job, run in zip(jobs, runs, strict=True)
    ]
