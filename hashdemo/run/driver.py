"""The one driver of every attack run. A plan is a list of jobs (a system, its settings, which queries); the driver
splits each into batches, seeds each batch, runs the batches that are not cached yet (in this process or as Ray
tasks), reports progress, stops within one iteration when asked, stores every finished batch at once (so a
stopped or killed run resumes where it was), and joins the batches into the run's report.

Everything that attacks goes through `attack_batch`, the one place an attack is called with a seeded budget: a
Compare or bench row, a sweep point, the robustness curves and breaking budgets, transfer, the leaderboard, the
Attack Lab's single query and adversarial training's inner attack.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch

from .. import attacks
from ..core.devices import idle_cpus
from ..core.errors import InvalidInputError
from ..core.progress import Progress, Stopped, silent
from ..systems.system import HashingSystem
from ..targets.codes import draw_target_labels
from . import cache
from .report import AttackRun, curves, make_report
from .results import AttackReport
from .settings import RunSettings, resolve

RUNS, BATCHES = "results", "batches"
StopCheck = Callable[[], bool]


def never() -> bool:
    return False


def select_queries(n_queries: int | None, available: int, seed: int) -> torch.Tensor:
    """All queries (n = None or all), or a seeded sample of n (sorted) from the query split."""
    n_queries = available if n_queries is None else n_queries
    if not 1 <= n_queries <= available:
        raise InvalidInputError(f"queries must be between 1 and {available}, got {n_queries}")
    if n_queries == available:
        return torch.arange(available)
    return torch.sort(torch.randperm(available, generator=torch.Generator().manual_seed(seed))[:n_queries]).values


def batch_seed(seed: int, first: int) -> int:
    """A distinct random start per batch, fixed by the run's seed and the batch's first query (or training step)."""
    return seed * 100_003 + first


SINGLE_IMAGE_THREADS = 1  # one image: two threads made a 100-step attack 2.7x slower here (bench/lab_latency.py)


@contextmanager
def threads(count: int | None, batch: int) -> Iterator[None]:
    """torch's intra-op threads while an attack runs: `count`, or unset: one for a single image (the Attack Lab's
    click), else the CPUs idle when the batch starts, at most torch's default (beside a busy process two threads
    ran PgA 1.65x slower than one; bench/threads.py)."""
    before = torch.get_num_threads()
    count = count or (SINGLE_IMAGE_THREADS if batch == 1 else idle_cpus(before))
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def attack_batch(
    attack: attacks.Attack,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    target_labels: torch.Tensor | None,
    settings: RunSettings,
    first: int = 0,
    *,
    record_at=None,
    keep_images: bool = False,
    progress: Progress = silent,
    stop: StopCheck = never,
    early_exit: bool = True,
    watch=None,
    train_mode: bool = False,
) -> attacks.AttackResult:
    """Attack one batch as `settings` say: its budget seeded by the run's seed and `first`, the settings' loop
    and threads; `stop()` is asked at every iteration (True raises Stopped: nothing of this batch is kept).
    early_exit=False computes every query at every iteration (the same result, slower: for the benches); `watch`
    sees each iterate's Hamming distances as they come (the Attack Lab draws them while it runs); train_mode runs the
    model in train mode (a defence's inner attack as ATRDH's authors run it)."""

    def step(t: int, steps: int, text: str) -> None:
        if stop():
            raise Stopped(f"{settings.attack} was stopped")
        progress(t, steps, text)

    with threads(settings.threads, len(images)):
        return attack(
            images,
            labels,
            target_labels,
            budget=replace(settings.budget, seed=batch_seed(settings.seed, first)),
            loop=settings.loop,
            record_at=settings.record_at if record_at is None else record_at,
            keep_images=keep_images,
            progress=step,
            early_exit=early_exit,
            watch=watch,
            train_mode=train_mode,
        )


@dataclass(frozen=True)
class Job:
    """One run of a plan: the system, its settings, and which queries (None: the settings' selection; a tuple:
    these positions of the query split, as the breaking-budget search asks for subsets)."""

    system: HashingSystem
    settings: RunSettings
    index: tuple[int, ...] | None = None
    keep_images: bool = False  # keep the adversarial images (transfer to other models needs them)


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


def check_open_set(attack: attacks.Attack, aims_at_unseen: bool) -> None:
    if aims_at_unseen and not attack.open_set:
        raise InvalidInputError(f"{attack.title} cannot aim at a class the model never saw: {attack.open_set_reason}")


def prepare(job: Job) -> Prepared:
    system, settings = job.system, job.settings
    attack = attacks.get(settings.attack, system, **settings.method_params)
    check_open_set(attack, settings.target_set == "open")
    data = system.dataset
    if job.index is None:
        index = select_queries(settings.queries, len(data.query), settings.query_seed)
    else:
        index = torch.tensor(job.index, dtype=torch.long)
    labels = data.query.labels[index]
    target_labels = None
    if attack.targeted:
        draw = torch.Generator().manual_seed(settings.seed + 1)
        target_labels = draw_target_labels(labels, target_pool(system, settings.target_set), draw)
    return Prepared(attack, index, labels, target_labels)


def compute_batch(
    job: Job, prepared: Prepared, first: int, *, progress: Progress = silent, stop: StopCheck = never
) -> BatchResult:
    """One batch of a run, from query `first` on, as tensors to cache; `progress` gets the attack's own calls
    (t, T, name) per iteration and (done, total, "what it does") for a one-off stage."""
    settings = job.settings
    rows = slice(first, first + settings.batch_size)
    index = prepared.index
    result = attack_batch(
        prepared.attack,
        job.system.dataset.query.images(index[rows]),
        prepared.labels[rows],
        None if prepared.target_labels is None else prepared.target_labels[rows],
        settings,
        first,
        progress=progress,
        stop=stop,
    )
    tensors = {
        "clean": result.clean_codes,
        "adv": result.adversarial_codes,
        "rmse": result.perceptibility_rmse,
        "linf": result.linf,
        "target": result.target_codes,
        "images": result.adversarial if job.keep_images else None,
        **{f"snapshot_{n}": shot.codes for n, shot in result.snapshots.items()},
        **{f"rmse_{n}": shot.perceptibility_rmse for n, shot in result.snapshots.items()},
        **{f"linf_{n}": shot.linf for n, shot in result.snapshots.items()},
    }
    kept = {k: v.cpu() for k, v in tensors.items() if v is not None}
    return BatchResult(first, kept, result.seconds, result.setup_seconds)


# ----- keys -----------------------------------------------------------------------------------------------------
def index_digest(index: torch.Tensor) -> str:
    return hashlib.sha256(index.to(torch.int64).numpy().tobytes()).hexdigest()[:16]


def attack_resources(system: HashingSystem, settings: RunSettings) -> dict[str, str]:
    """The files the attack reads besides the model, by content (Attack.resources), for a cache key."""
    return attacks.get(settings.attack, system, **settings.method_params).resources()


def run_key(job: Job) -> str:
    """Every setting a run's numbers depend on (batch size too: it sets each batch's random start), which queries,
    the system's identity (a digest of its weights and codes, its data splits, its device) and the files the
    attack reads (a generator)."""
    queries = None if job.index is None else index_digest(torch.tensor(job.index))
    return cache.key_of(
        {
            "system": job.system.identity(),
            "settings": job.settings.result_json(),
            "index": queries,
            "resources": attack_resources(job.system, job.settings),
        }
    )


def batch_key(job: Job, prepared: Prepared, first: int) -> str:
    """What one batch's codes depend on: the attack's settings (not how they are measured), the batch's queries
    and where it starts (its seed)."""
    rows = prepared.index[first : first + job.settings.batch_size]
    return cache.key_of(
        {
            "system": job.system.identity(),
            "settings": job.settings.attack_json(),
            "queries": index_digest(rows),
            "first": first,
            "resources": prepared.attack.resources(),
        }
    )


def cached_batch(job: Job, prepared: Prepared, first: int) -> BatchResult | None:
    found = cache.load(BATCHES, batch_key(job, prepared, first))
    if found is None or (job.keep_images and "images" not in found[1]):
        return None
    meta, tensors = found
    return BatchResult(first, tensors, meta["seconds"], meta["setup_seconds"])


def store_batch(job: Job, prepared: Prepared, batch: BatchResult) -> None:
    meta = {"seconds": batch.seconds, "setup_seconds": batch.setup_seconds}
    cache.store(BATCHES, batch_key(job, prepared, batch.first), meta, {k: v.clone() for k, v in batch.tensors.items()})


# ----- runs -----------------------------------------------------------------------------------------------------
def cached_run(job: Job) -> AttackRun | None:
    """The finished run for this job, or None (also None when images are asked for and were not kept)."""
    key = run_key(job)
    found = cache.load(RUNS, key)
    if found is None or (job.keep_images and "adversarial_images" not in found[1]):
        return None
    return AttackRun.from_cache(key, *found)


def finish(job: Job, prepared: Prepared, batches: list[BatchResult]) -> AttackRun:
    """Join the batches in query order, measure, and store the run (curves too, so Compare opens at once)."""
    system, settings = job.system, job.settings
    batches = sorted(batches, key=lambda b: b.first)
    joined = {name: torch.cat([b.tensors[name] for b in batches]) for name in batches[0].tensors}
    key = run_key(job)
    run = AttackRun(
        key,
        None,
        prepared.index,
        joined["clean"],
        joined["adv"],
        None if prepared.target_labels is None else prepared.target_labels.cpu(),
        joined.get("target"),
        {n: joined[f"snapshot_{n}"] for n in settings.record_at},
        joined.get("images") if job.keep_images else None,
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
    cache.store(RUNS, key, run.report.to_json(), run.tensors())
    return run


@dataclass
class Task:
    """A batch the plan still has to compute."""

    job: int  # its job's position in the plan
    first: int
    size: int
    steps: int

    @property
    def work(self) -> int:
        """Queries times iterations: the unit of progress and of a time estimate."""
        return self.size * max(self.steps, 1)


class InProcess:
    """Every batch here, one after another (the default engine)."""

    name = "local"

    def execute(self, plan: list[Job], prepared: dict[int, Prepared], tasks: list[Task], done, progress, stop):
        work = sum(t.work for t in tasks)
        finished = 0
        for i, task in enumerate(tasks):
            label = f"{plan[task.job].settings.attack}, batch {i + 1} of {len(tasks)}"

            def step(t: int, steps: int, text: str, before=finished, task=task, label=label) -> None:
                if " " in text:  # a one-off stage (training a PrototypeNet) names itself
                    progress(before, work, f"{label}: {text}")
                else:
                    share = min(t, steps) / steps if steps else 1.0
                    progress(before + round(share * task.work), work, f"{label}, iteration {t}/{steps}")

            batch = compute_batch(plan[task.job], prepared[task.job], task.first, progress=step, stop=stop)
            finished += task.work
            progress(finished, work, label)
            done(task, batch)


def execute(
    plan: list[Job],
    *,
    engine=None,
    use_cache: bool = True,
    only_cached: bool = False,
    progress: Progress = silent,
    stop: StopCheck = never,
) -> list[AttackRun | None]:
    """Run a plan: each job's finished run from the cache, else its missing batches on the engine (each stored as
    it finishes), joined into its run. With only_cached, a job not finished is None and nothing runs."""
    runs: dict[int, AttackRun | None] = {}
    prepared: dict[int, Prepared] = {}
    batches: dict[int, list[BatchResult]] = {}
    tasks: list[Task] = []
    for j, job in enumerate(plan):
        found = cached_run(job) if use_cache or only_cached else None
        if found is not None or only_cached:
            runs[j] = found
            continue
        prepared[j] = ready = prepare(job)
        batches[j] = []
        steps = ready.attack.steps_for(job.settings.budget)
        for first in ready.firsts(job.settings.batch_size):
            kept = cached_batch(job, ready, first) if use_cache else None
            if kept is not None:
                batches[j].append(kept)
            else:
                size = len(ready.index[first : first + job.settings.batch_size])
                tasks.append(Task(j, first, size, steps))
        if not any(t.job == j for t in tasks):
            runs[j] = finish(job, ready, batches[j])

    def done(task: Task, batch: BatchResult) -> None:
        job, ready = plan[task.job], prepared[task.job]
        store_batch(job, ready, batch)
        batches[task.job].append(batch)
        if len(batches[task.job]) == len(ready.firsts(job.settings.batch_size)):
            runs[task.job] = finish(job, ready, batches[task.job])
            for first in ready.firsts(job.settings.batch_size):
                cache.remove(BATCHES, batch_key(job, ready, first))

    if tasks:
        (engine or InProcess()).execute(plan, prepared, tasks, done, progress, stop)
    return [runs.get(j) for j in range(len(plan))]


def run_attack(
    system: HashingSystem,
    settings: RunSettings,
    *,
    use_cache: bool = True,
    only_cached: bool = False,
    keep_images: bool = False,
    progress: Progress = silent,
    stop: StopCheck = never,
    engine=None,
) -> AttackRun | None:
    """Attack the query set under `settings` and measure MAP / t-MAP / perceptibility (see report.make_report).

    use_cache=False recomputes (and refreshes the cache); only_cached=True returns the cached run or None;
    keep_images=True keeps the adversarial images too (transfer to other models needs them).
    """
    job = Job(system, settings, keep_images=keep_images)
    found = execute([job], engine=engine, use_cache=use_cache, only_cached=only_cached, progress=progress, stop=stop)
    return found[0]


def evaluate(system: HashingSystem, attack: str, protocol: str | None = None, **overrides) -> AttackReport:
    """One attack on a system's query set under a protocol (explicit settings override it), cached: its report."""
    from .protocols import DEFAULT_PROTOCOL

    return run_attack(system, resolve(protocol or DEFAULT_PROTOCOL, attack, overrides, model=system.spec)).report
