"""Where the driver's batches execute: in this process (driver.InProcess, the default), or as tasks on Ray (an
optional extra: `pip install "hashdemo[ray]"`; `make test` installs it).

On Ray a task is one batch of one run: the worker loads the system its settings' ModelSpec names (device and data
root included) once, rebuilds the run's queries and targets from the settings, attacks the batch with the same
seed, and returns its tensors; the driver stores each batch as it arrives and joins a run when its last batch is
in, exactly as in this process.
"""

from __future__ import annotations

import os
from functools import lru_cache

import torch

from ..core.errors import InvalidInputError
from ..core.progress import Stopped
from ..systems.spec import ModelSpec
from ..systems.system import HashingSystem, load_system
from .driver import InProcess, Job, compute_batch, prepare
from .settings import RunSettings

POLL_SECONDS = 0.2  # how often a waiting driver asks whether it should stop


@lru_cache(maxsize=8)
def _worker_system(spec: ModelSpec) -> HashingSystem:
    """A worker loads each model once, whatever number of tasks it runs for it."""
    torch.set_num_threads(1)  # one CPU per task: Ray runs as many tasks as it has CPUs
    return load_system(spec)


def _batch(settings: RunSettings, index: tuple[int, ...] | None, first: int, keep_images: bool):
    """A Ray task: one batch of one run, with the seed the in-process run gives it."""
    job = Job(_worker_system(settings.model), settings, index, keep_images)
    return compute_batch(job, prepare(job), first)


class RayEngine:
    """Batches as tasks on Ray: a local instance started on demand (num_cpus), or the cluster at `address`
    ("auto" for the one this machine belongs to, or ray://head:10001). Every node needs hashdemo and its assets."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        self.address, self.num_cpus = address, num_cpus

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

    def execute(self, plan, prepared, tasks, done, progress, stop):
        for job in {plan[t.job] for t in tasks}:
            if job.system.spec != job.settings.model or job.system.spec.source.startswith("python:"):
                raise InvalidInputError(
                    f"--engine ray reloads each system on its workers from its ModelSpec; {job.system.spec.source} "
                    "cannot be reloaded there (a system built in Python): use the local engine"
                )
        ray = self.start()
        remote = ray.remote(num_cpus=1)(_batch)
        waiting = {}
        for task in tasks:
            job = plan[task.job]
            waiting[remote.remote(job.settings, job.index, task.first, job.keep_images)] = task
        work, finished = sum(t.work for t in tasks), 0
        progress(0, work, f"{len(tasks)} batches on Ray")
        while waiting:
            if stop():
                for ref in waiting:
                    ray.cancel(ref)
                raise Stopped("the run was stopped; the batches that had finished are cached")
            ready, _ = ray.wait(list(waiting), num_returns=1, timeout=POLL_SECONDS)
            for ref in ready:
                task = waiting.pop(ref)
                done(task, ray.get(ref))
                finished += task.work
                progress(finished, work, f"{len(waiting)} batches left on Ray")


def engine(name: str = InProcess.name, address: str | None = None, num_cpus: int | None = None):
    if name == InProcess.name:
        return InProcess()
    if name == RayEngine.name:
        return RayEngine(address, num_cpus)
    raise InvalidInputError(f"engine must be {InProcess.name} or {RayEngine.name}, got {name!r}")
