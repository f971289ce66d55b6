"""Where tensors live ('auto' picks the GPU when one is present) and how many CPU threads a run may take."""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from .errors import InvalidInputError


def pick_device(device: str | None = "auto") -> torch.device:
    """'auto' = the GPU when one is present, else the CPU; asking for CUDA without a GPU is an error."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidInputError("device 'cuda' asked for, but no GPU is available")
    if device != "cpu" and not device.startswith("cuda"):
        raise InvalidInputError(f"device must be auto, cpu or cuda, got {device!r}")
    return torch.device(device)


LOADAVG, OWN_THREADS = Path("/proc/loadavg"), Path("/proc/self/task")


def own_running() -> int:
    """This process's threads that are running now (torch's own workers spin for a while after each op)."""
    count = 0
    for task in OWN_THREADS.iterdir():
        try:
            count += (task / "stat").read_text().rsplit(")", 1)[1].split()[0] == "R"
        except (OSError, IndexError):
            continue  # a thread that ended meanwhile
    return count


def idle_cpus(cap: int, samples: int = 5, interval: float = 0.002) -> int:
    """The CPUs no other process's runnable thread is using now, at most `cap`, at least 1: the CPUs this process
    may use less the runnable threads of /proc/loadavg that are not this process's own (the fewest over a few
    samples: a CPU-bound neighbour is runnable in all of them, a thread of ours read in passing in one); `cap`
    without /proc."""
    if not LOADAVG.is_file() or not OWN_THREADS.is_dir():
        return cap
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    others = []
    for i in range(samples):
        others.append(int(LOADAVG.read_text().split()[3].split("/")[0]) - own_running())
        if i + 1 < samples:
            time.sleep(interval)
    return max(1, min(cap, usable - max(0, min(others))))
