"""Where a grid of attack runs executes: in this process, or as tasks on Ray (an optional extra:
`pip install "hashdemo[ray]"`; `make test` installs it).

A grid is a list of jobs (system, RunSettings). An engine computes the jobs that are not cached yet and stores
them in the ordinary results cache; the grid's own code (bench, sweep, leaderboard, transfer) then reads them from
there, so every engine gives the same report. On Ray a task is (settings, a shard of whole query batches): the
worker loads the system its settings' ModelSpec names (device and data root included) once, attacks its batches
with the same per-batch seeds, and the driver merges the shards in query order and writes the cache, as the
in-process run does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache

import torch

from ..core.errors import InvalidInputError
from ..core.progress import Progress, silent
from ..systems.spec import ModelSpec
from ..systems.system import HashingSystem, load_system
from .driver import attack_batch, cached_run, finish, prepare, run_attack, run_key
from .settings import RunSettings

Job = tuple[HashingSystem, RunSettings]


class InProcess:
    """Every job here, one after another (the default)."""

    name = "local"

    def prefetch(
        self,
        jobs: list[Job],
        *,
        keep_images: bool = False,
        progress: Progress = silent,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        for i, (system, settings) in enumerate(jobs):
            run_attack(
                system,
                settings,
                keep_images=keep_images,
                should_stop=should_stop,
                progress=lambda d, t, text, i=i: progress(i * t + d, len(jobs) * t, text),
            )


@lru_cache(maxsize=8)
def _worker_system(spec: ModelSpec) -> HashingSystem:
    """A worker loads each model once, whatever number of tasks it runs for it."""
    torch.set_num_threads(1)  # one CPU per task: Ray runs as many tasks as it has CPUs
    return load_system(spec)


def _shard(settings: RunSettings, firsts: list[int], keep_images: bool):
    """A Ray task: some whole batches of one run, with the batch seeds the in-process run uses."""
    system = _worker_system(settings.model)
    prepared = prepare(system, settings)
    return [attack_batch(system, settings, prepared, first, keep_images=keep_images) for first in firsts]


class RayEngine:
    """Jobs as tasks on Ray: a local instance started on demand (num_cpus), or the cluster at `address`
    ("auto" for the one this machine belongs to, or ray://head:10001). Every node needs hashdemo and its assets."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, batches_per_task: int = 1):
        self.address, self.num_cpus, self.batches_per_task = address, num_cpus, batches_per_task

    def start(self):
        try:
            import ray
        except ImportError:
            raise InvalidInputError(
                '--engine ray needs Ray, an optional extra: pip install "hashdemo[ray]" (make test installs it)'
            ) from None
        if not ray.is_initialized():
            if self.address:
                options = {"address": self.address}
            else:  # a local Ray: its workers use this checkout's assets and cache
                keep = {k: v for k, v in os.environ.items() if k.startswith("HASHDEMO_")}
                options = {"num_cpus": self.num_cpus, "runtime_env": {"env_vars": keep}}
            ray.init(**options, include_dashboard=False, log_to_driver=False, configure_logging=False)
        return ray

    def prefetch(
        self,
        jobs: list[Job],
        *,
        keep_images: bool = False,
        progress: Progress = silent,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        ray = self.start()
        task = ray.remote(num_cpus=1)(_shard)
        waiting, parts, prepared = {}, {}, {}
        for j, (system, settings) in enumerate(jobs):
            if system.spec != settings.model or system.spec.source.startswith("python:"):
                raise InvalidInputError(
                    f"--engine ray reloads each system on its workers from its ModelSpec; {system.spec.source} "
                    "cannot be reloaded there (a system built in Python): use the local engine"
                )
            if cached_run(system, settings, keep_images) is not None:
                continue
            prepared[j] = prepare(system, settings)
            parts[j] = []
            firsts = prepared[j].firsts(settings.batch_size)
            for start in range(0, len(firsts), self.batches_per_task):
                ref = task.remote(settings, firsts[start : start + self.batches_per_task], keep_images)
                waiting[ref] = j
        total = len(waiting)
        while waiting:
            if should_stop():
                for ref in waiting:
                    ray.cancel(ref)
                from ..core.progress import Stopped

                raise Stopped("the grid was stopped; the runs that had finished are cached")
            done, _ = ray.wait(list(waiting), num_returns=1)
            j = waiting.pop(done[0])
            parts[j].extend(ray.get(done[0]))
            progress(total - len(waiting), total, f"{len(waiting)} tasks left")
            system, settings = jobs[j]
            if j not in waiting.values():  # every shard of this run is in: merge it like the in-process run
                finish(system, settings, prepared[j], parts[j], run_key(system, settings))


def engine(name: str = "local", address: str | None = None, num_cpus: int | None = None):
    if name == "local":
        return InProcess()
    if name == "ray":
        return RayEngine(address, num_cpus)
    raise InvalidInputError(f"engine must be local or ray, got {name!r}")
