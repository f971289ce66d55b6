"""What pages load once and share: systems and code maps cached per ModelSpec for every browser session (never
mutated), and showing a failure in the user's terms without taking the page down."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import streamlit as st
import torch

from ..core.errors import HashdemoError
from ..core.progress import Progress, Stopped
from ..experiments.lab import LabRun
from ..retrieval.codemap import CodeMap, code_map
from ..run.driver import Job, execute
from ..systems.spec import ModelSpec
from ..systems.system import HashingSystem, load_system

T = TypeVar("T")


@st.cache_resource(show_spinner="Loading the model, its dataset and its database codes...")
def cached_system(spec: ModelSpec) -> HashingSystem:
    """One shared, never-mutated system per ModelSpec (source, device, data root) for every browser session,
    warmed up so that the first click does not pay for kernel initialisation."""
    system = load_system(spec)
    probe = torch.zeros(2, *system.dataset.image_shape, device=system.device, requires_grad=True)
    torch.autograd.grad(system.model(probe).sum(), probe)
    return system


@st.cache_resource(show_spinner="Mapping the database codes...")
def cached_code_map(spec: ModelSpec) -> CodeMap:
    """The 2-D map of a model's database codes (first two principal axes), shared by every session."""
    system = cached_system(spec)
    return code_map(system.database_codes, system.dataset.database.labels)


def show_error(exc: Exception, where=st) -> None:
    """A HashdemoError is the user's to fix: show its message in place; anything else is a bug, shown as such."""
    if isinstance(exc, HashdemoError):
        where.error(str(exc))
    else:
        where.exception(exc)


def load_or_explain(spec: ModelSpec | None) -> HashingSystem:
    """Load the chosen system, or show why not and stop the page (the sidebar stays usable)."""
    if spec is None:
        st.info("Choose a model in the sidebar.")
        st.stop()
    try:
        return cached_system(spec)
    except Exception as exc:  # a missing or broken checkpoint must not take the page down
        show_error(exc)
        st.stop()


def load_many(specs: list[ModelSpec]) -> list[HashingSystem] | None:
    """Several systems, or None after showing the first that cannot be loaded."""
    try:
        return [cached_system(spec) for spec in specs]
    except Exception as exc:
        show_error(exc)
        return None


def progress_bar(bar, title: str, min_interval: float = 0.15):
    """A progress callback (done, total, text) that redraws `bar` at most every `min_interval` seconds and always
    at the end, with the time left once a tenth of the work is done; a one-off stage names itself."""
    last, start = [0.0], time.monotonic()

    def report(done: int, total: int, text: str) -> None:
        now = time.monotonic()
        finished = done + 1 >= total
        if now - last[0] < min_interval and not finished:
            return
        last[0] = now
        if total <= 0:  # no iterations (noise, ProS-GAN's one forward pass)
            bar.progress(1.0, text=f"{title}: one pass")
            return
        share = min(1.0, max(done, 0) / total)
        left = f", about {remaining(now - start, share)} left" if 0.1 <= share < 1 else ""
        bar.progress(share, text=f"{title}: {text}{left}")

    return report


def remaining(elapsed: float, share: float) -> str:
    seconds = elapsed * (1 - share) / share
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def run_with_stop(title: str, stop_help: str, work: Callable[[Progress], Any], key: str | None = None) -> Any:
    """Run `work(progress)` with a Stop button and a progress bar; both are gone when it ends, however it ends.
    Any click (Stop among them) ends a Streamlit run at its next progress update, within a fraction of a second;
    what the driver finished before stays cached. An error is shown in place; returns None then."""
    stop, slot = st.empty(), st.empty()
    stop.button("Stop", key=key, help=stop_help)
    bar = slot.progress(0.0, text=f"{title}: starting")
    try:
        return work(progress_bar(bar, title))
    except Stopped as exc:
        st.info(str(exc))
    except Exception as exc:
        show_error(exc)
    finally:
        slot.empty()
        stop.empty()
    return None


def run_plan(jobs: list[Job], title: str, stop_help: str, key: str | None = None) -> None:
    """The driver's plan, run with a Stop button and a progress bar."""
    if jobs:
        run_with_stop(title, stop_help, lambda progress: execute(jobs, progress=progress), key)


class Shared:
    """What every browser session shares once made (never mutated afterwards), the last `kept` of them: a session
    asking while another makes the same thing waits for that one (a class opening one link at once makes it once,
    not once each). A failed or stopped making leaves the next asker to make it."""

    def __init__(self, kept: int):
        self.kept = kept
        self.made: OrderedDict = OrderedDict()
        self.making: dict = {}  # one lock per key being made
        self.lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self.lock:
            key_lock = self.making.setdefault(key, threading.Lock())
        with key_lock:
            with self.lock:
                if key in self.made:
                    self.made.move_to_end(key)
                    return self.made[key]
            made = make()
            with self.lock:
                self.made[key] = made
                while len(self.made) > self.kept:
                    dropped, _ = self.made.popitem(last=False)
                    self.making.pop(dropped, None)
            return made


_lab_runs = Shared(64)  # Attack Lab results kept for every session


def lab_run_once(system: HashingSystem, request, compute: Callable[[], LabRun]) -> LabRun:
    """The Attack Lab result for this request on this system, computed once for every session (Shared); a LabRun
    is read-only once made, and the request names the image (a query's position, an upload's digest)."""
    return _lab_runs.get((system.spec, request), compute)
