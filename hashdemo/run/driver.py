"""Run an attack over a query set under resolved settings; results cached on disk, keyed by every setting, the
system's weights digest, its data splits and its device.

The CLI (attack, bench, sweep) and every page go through run_attack(), so a number in a table, a JSON file and
on screen is the same number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from .. import attacks
from ..core.errors import InvalidInputError
from ..core.progress import Progress, Stopped, silent
from ..systems.system import HashingSystem
from ..targets.codes import draw_target_labels
from . import cache
from .report import AttackRun, curves, make_report
from .results import AttackReport
from .settings import RunSettings, resolve

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
    """Every setting a run's numbers depend on (batch size too: it sets each batch's random start), and the
    system's identity: a digest of its weights and codes, its data splits, its device."""
    return cache.key_of({"system": system.identity(), "settings": settings.to_json()})


def target_pool(system: HashingSystem, target_set: str) -> torch.Tensor:
    """The label vectors targets are drawn from: the training split's (closed), or one per class the model never
    saw in training (open: DHTA appendix); the query's own classes are excluded per query when drawing."""
    if target_set == "closed":
        return system.dataset.train.labels
    held_out = list(system.card.held_out_classes)
    if not held_out:
        raise InvalidInputError(
            f"{system.name} saw every class in training, so it has no open-set targets; use a model trained with "
            "classes held out (zoo:fashion-dpsh-smallcnn-32-open)"
        )
    return torch.nn.functional.one_hot(torch.tensor(held_out), system.dataset.num_classes).bool()


@dataclass
class Prepared:
    """What every batch of a run shares: the attack, the queries, their labels and their targets (all determined
    by the settings, so a remote worker rebuilds exactly the same)."""

    attack: attacks.Attack
    index: torch.Tensor
    labels: torch.Tensor
    target_labels: torch.Tensor | None

    def firsts(self, batch_size: int) -> list[int]:
        return list(range(0, len(self.index), batch_size))


@dataclass
class BatchResult:
    first: int
    tensors: dict[str, torch.Tensor]
    seconds: float
    setup_seconds: float


def prepare(system: HashingSystem, settings: RunSettings) -> Prepared:
    attack = attacks.get(settings.attack, system, **settings.method_params)
    if settings.target_set == "open" and not attack.open_set:
        raise InvalidInputError(f"{attack.title} cannot aim at a class the model never saw: {attack.open_set_reason}")
    data = system.dataset
    index = select_queries(settings.queries, len(data.query), settings.query_seed)
    labels = data.query.labels[index]
    target_labels = None
    if attack.targeted:
        draw = torch.Generator().manual_seed(settings.budget.seed + 1)
        target_labels = draw_target_labels(labels, target_pool(system, settings.target_set), draw)
    return Prepared(attack, index, labels, target_labels)


def attack_batch(
    system: HashingSystem,
    settings: RunSettings,
    prepared: Prepared,
    first: int,
    *,
    keep_images: bool = False,
    progress: Progress = silent,
) -> BatchResult:
    """One batch of a run, from query `first` on; its random start is seeded by the run's seed and `first`."""
    rows = slice(first, first + settings.batch_size)
    index = prepared.index
    size = len(index[rows])

    def step_progress(t: int, steps: int, text: str) -> None:
        if " " in text:  # a one-off stage (training a PrototypeNet) names itself
            progress(t, steps, f"{settings.attack}: {text}")
        else:
            done = first + size * min(t, steps) / max(steps, 1)
            progress(round(done), len(index), f"{settings.attack}: {done:.0f}/{len(index)} queries")

    result = prepared.attack(
        system.dataset.query.images(index[rows]),
        prepared.labels[rows],
        None if prepared.target_labels is None else prepared.target_labels[rows],
        budget=replace(settings.budget, seed=batch_seed(settings.budget.seed, first)),
        loop=settings.loop,
        record_at=settings.record_at,
        progress=step_progress,
    )
    tensors = {
        "clean": result.clean_codes,
        "adv": result.adversarial_codes,
        "rmse": result.perceptibility_rmse,
        "linf": result.linf,
        "target": result.target_codes,
        "images": result.adversarial if keep_images else None,
        **{f"snapshot_{n}": shot.codes for n, shot in result.snapshots.items()},
        **{f"rmse_{n}": shot.perceptibility_rmse for n, shot in result.snapshots.items()},
        **{f"linf_{n}": shot.linf for n, shot in result.snapshots.items()},
    }
    kept = {k: v.cpu() for k, v in tensors.items() if v is not None}
    return BatchResult(first, kept, result.seconds, result.setup_seconds)


def finish(
    system: HashingSystem, settings: RunSettings, prepared: Prepared, batches: list[BatchResult], key: str
) -> AttackRun:
    """Join the batches in query order, measure, and store the run (curves too, so Compare opens at once)."""
    batches = sorted(batches, key=lambda b: b.first)
    joined = {name: torch.cat([b.tensors[name] for b in batches]) for name in batches[0].tensors}
    run = AttackRun(
        key,
        None,
        prepared.index,
        joined["clean"],
        joined["adv"],
        None if prepared.target_labels is None else prepared.target_labels.cpu(),
        joined.get("target"),
        {n: joined[f"snapshot_{n}"] for n in settings.record_at},
        joined.get("images"),
    )
    run.report = make_report(
        system,
        settings,
        prepared.attack,
        run,
        seconds=sum(b.seconds for b in batches),
        setup=sum(b.setup_seconds for b in batches),
        rmse=joined["rmse"],
        linf=joined["linf"],
        snapshot_rmse={n: joined[f"rmse_{n}"] for n in settings.record_at},
        snapshot_linf={n: joined[f"linf_{n}"] for n in settings.record_at},
        code_version=cache.code_version(),
    )
    curves(system, run)
    cache.store(KIND, key, run.report.to_json(), run.tensors())
    return run


def cached_run(system: HashingSystem, settings: RunSettings, keep_images: bool = False) -> AttackRun | None:
    """The finished run for these settings, or None (also None when images are asked for and were not kept)."""
    key = run_key(system, settings)
    found = cache.load(KIND, key)
    if found is None or (keep_images and "adversarial_images" not in found[1]):
        return None
    return AttackRun.from_cache(key, *found)


def run_attack(
    system: HashingSystem,
    settings: RunSettings,
    *,
    use_cache: bool = True,
    only_cached: bool = False,
    keep_images: bool = False,
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
) -> AttackRun | None:
    """Attack the query set under `settings` and measure MAP / t-MAP / perceptibility (see report.make_report).

    use_cache=False recomputes (and refreshes the cache); only_cached=True returns the cached run or None;
    keep_images=True keeps the adversarial images too (transfer to other models needs them).
    """
    prepared = prepare(system, settings)
    if use_cache or only_cached:
        found = cached_run(system, settings, keep_images)
        if found is not None or only_cached:
            if found is not None:
                progress(1, 1, f"{settings.attack}: cached")
            return found
    batches = []
    for first in prepared.firsts(settings.batch_size):
        if should_stop():
            raise Stopped(f"{settings.attack} stopped after {first} of {len(prepared.index)} queries")
        batches.append(attack_batch(system, settings, prepared, first, keep_images=keep_images, progress=progress))
    return finish(system, settings, prepared, batches, run_key(system, settings))


def evaluate(system: HashingSystem, attack: str, protocol: str = "pgd", **overrides) -> AttackReport:
    """One attack on a system's query set under a protocol (explicit settings override it), cached: its report."""
    return run_attack(system, resolve(protocol, attack, overrides, model=system.spec)).report
