"""The leaderboard of deep hashing: each model's clean MAP, its worst-case MAP over the ensemble at each budget and
its median breaking budget, most robust first. Every run is a driver job (one engine for the whole board)."""

from __future__ import annotations

from ..core.errors import InvalidInputError
from ..core.progress import Progress, silent
from ..run.driver import Job, StopCheck, execute, never
from ..run.results import LeaderboardRow
from ..run.settings import Choices
from ..systems.system import HashingSystem
from .robustness import BREAK_ATTACK, ENSEMBLE, breaking_eps, median_eps, member_jobs, worst_case

BUDGETS = (8.0,)  # eps (1/255) of the worst-case columns; the first ranks the models
BOARD_QUERIES = 1000  # the default size: every model on 1,000 queries (the fashion query split)
CLEAN = "noise"  # the clean baseline's run: noise at eps 0 measures the clean codes on the same queries


def board_choices(choices: Choices) -> Choices:
    """The user's choices, the leaderboard's default size where they set no query count."""
    if "queries" in choices.given:
        return choices
    return Choices.of(choices.protocol, {**choices.given, "queries": BOARD_QUERIES})


def clean_job(system: HashingSystem, choices: Choices) -> Job:
    return Job(system, choices.settings(CLEAN, system.spec, eps=0))


def leaderboard_jobs(systems: list[HashingSystem], choices: Choices, budgets: tuple[float, ...] = BUDGETS) -> list[Job]:
    """The attack runs a leaderboard reads (an engine computes them all first)."""
    return [
        job
        for system in systems
        for job in [clean_job(system, choices)]
        + [j for eps in budgets for j in member_jobs(system, eps, choices, ENSEMBLE)]
    ]


def leaderboard(
    systems: list[HashingSystem],
    choices: Choices = Choices(),
    *,
    budgets: tuple[float, ...] = BUDGETS,
    engine=None,
    progress: Progress = silent,
    stop: StopCheck = never,
    only_cached: bool = False,
) -> list[LeaderboardRow] | None:
    """Each model: clean MAP, worst-case MAP over the ensemble at each budget, the median breaking eps of PgA;
    sorted from the most robust (highest worst-case MAP at the first budget)."""
    if not systems:
        raise InvalidInputError("no models to rank: choose at least one (the zoo is empty? make zoo)")
    if not only_cached:
        execute(leaderboard_jobs(systems, choices, budgets), engine=engine, progress=progress, stop=stop)
    rows = []
    for system in systems:
        worst = [worst_case(system, eps, choices, only_cached=True) for eps in budgets]
        (clean,) = execute([clean_job(system, choices)], only_cached=True)
        eps_values = breaking_eps(
            system,
            choices,
            member=BREAK_ATTACK,
            engine=engine,
            progress=lambda done, total, what, label=system.card.label: progress(done, total, f"{label}: {what}"),
            stop=stop,
            only_cached=only_cached,
        )
        if clean is None or eps_values is None or None in worst:
            return None
        rows.append(LeaderboardRow(system.card, clean.report.map_clean, tuple(worst), median_eps(eps_values)))
    return sorted(rows, key=lambda r: -r.worst_at(budgets[0]).map)
