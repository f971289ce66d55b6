"""Where tensors live ('auto' picks the GPU when one is present) and how many CPU threads a run may take."""

from __future__ import annotations

import os
import statistics
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


LOADAVG = Path("/proc/loadavg")


def idle_cpus(cap: int, samples: int = 3, interval: float = 0.005) -> int:
    """The CPUs no other runnable thread is using now, at most `cap`, at least 1: the CPUs this process may use less
    the runnable threads of /proc/loadavg other than this reader (the median of a few samples); `cap` without it."""
    if not LOADAVG.is_file():
        return cap
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    running = []
    for i in range(samples):
        running.append(int(LOADAVG.read_text().split()[3].split("/")[0]) - 1)
        if i + 1 < samples:
            time.sleep(interval)
    return max(1, min(cap, usable - round(statistics.median(running))))
