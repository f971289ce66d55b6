"""Run an attack over a query set under resolved settings; results cached on disk, keyed by every setting.

The CLI (attack, bench, sweep) and the Compare / Sweep pages all go through run_attack(), so a number
in a table, a JSON file and on screen is the same number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch

from . import attacks, cache
from .attacks.targets import draw_target_labels
from .errors import InvalidInputError
from .progress import Progress, silent
from .protocols import RunSettings
from .report import AttackRun, curves, make_report
from .system import HashingSystem

KIND = "results"


def select_queries(n_queries: int | None, available: int, seed: int) -> torch.Tensor:
    """All queries (n = None or all), or a seeded sample of n (sorted) from the query split."""
    n_queries = available if n_queries is None else n_queries
    if not 1 <= n_queries <= available:
        raise InvalidInputError(f"queries must be between 1 and {available}, got {n_queries}")
    if n_queries == available:
        return torch.arange(available)
    return torch.sort(torch.randperm(available, generator=torch.Generator().manual_seed(seed))[:n_queries]).values


def batch_seed(seed: int, first: int) -> int:
    """A distinct random start per batch of queries, fixed by the run's seed and the batch's first query."""
    return seed * 100_003 + first


def run_key(system: HashingSystem, settings: RunSettings) -> str:
    """Every setting a run's numbers depend on (batch size too: it sets each batch's random start)."""
    return cache.key_of({"model": system.name, "model_meta": system.meta, "settings": settings.to_json()})


def run_attack(
    system: HashingSystem,
    settings: RunSettings,
    *,
    use_cache: bool = True,
    only_cached: bool = False,
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
) -> AttackRun | None:
    """Attack the query set under `settings` and measure MAP / t-MAP / perceptibility (see report.make_report).

    use_cache=False recomputes (and refreshes the cache); only_cached=True returns the cached run or None.
    """
    attack = attacks.get(settings.attack, system, **settings.params)
    key = run_key(system, settings)
    if use_cache or only_cached:
        cached = cache.load(KIND, key)
        if cached is not None:
            progress(1, 1, f"{settings.attack}: cached")
            return AttackRun.from_cache(key, *cached)
    if only_cached:
        return None
    data = system.dataset
    index = select_queries(settings.queries, len(data.query), settings.query_seed)
    labels = data.query.labels[index]
    target_labels = None
    if attack.targeted:
        draw = torch.Generator().manual_seed(settings.budget.seed + 1)
        target_labels = draw_target_labels(labels, data.train.labels, draw)
    parts: dict[str, list] = {}
    seconds = setup = 0.0
    for first in range(0, len(index), settings.batch_size):
        if should_stop():
            raise cache.Stopped(f"{settings.attack} stopped after {first} of {len(index)} queries")
        rows = slice(first, first + settings.batch_size)
        size = len(index[rows])

        def step_progress(t: int, steps: int, text: str, first=first, size=size) -> None:
            if " " in text:  # a one-off stage (training a PrototypeNet) names itself
                progress(t, steps, f"{settings.attack}: {text}")
            else:
                done = first + size * min(t, steps) / max(steps, 1)
                progress(round(done), len(index), f"{settings.attack}: {done:.0f}/{len(index)} queries")

        result = attack(
            data.query.images(index[rows]),
            labels[rows],
            None if target_labels is None else target_labels[rows],
            budget=replace(settings.budget, seed=batch_seed(settings.budget.seed, first)),
            loop=settings.loop,
            record_at=settings.record_at,
            progress=step_progress,
        )
        seconds += result.seconds
        setup += result.setup_seconds
        for name, value in (
            ("clean", result.clean_codes),
            ("adv", result.adversarial_codes),
            ("rmse", result.perceptibility_rmse),
            ("linf", result.linf),
            ("target", result.target_codes),
            *((f"snapshot_{n}", s.codes) for n, s in result.snapshots.items()),
            *((f"rmse_{n}", s.perceptibility_rmse) for n, s in result.snapshots.items()),
            *((f"linf_{n}", s.linf) for n, s in result.snapshots.items()),
        ):
            if value is not None:
                parts.setdefault(name, []).append(value)

    joined = {name: torch.cat(values) for name, values in parts.items()}
    run = AttackRun(
        key,
        {},
        index,
        joined["clean"],
        joined["adv"],
        target_labels,
        joined.get("target"),
        {n: joined[f"snapshot_{n}"] for n in settings.record_at},
    )
    run.report = make_report(
        system,
        settings,
        attack,
        run,
        seconds=seconds,
        setup=setup,
        rmse=joined["rmse"],
        linf=joined["linf"],
        snapshot_rmse={n: joined[f"rmse_{n}"] for n in settings.record_at},
        snapshot_linf={n: joined[f"linf_{n}"] for n in settings.record_at},
        code_version=cache.code_version(),
    )
    curves(system, run)  # kept beside the run, so a finished comparison opens without recomputing
    cache.store(KIND, key, run.report, run.tensors())
    return run
