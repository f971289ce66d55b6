"""What pages load once and share: systems and code maps cached per ModelSpec for every browser session (never
mutated), and showing a failure in the user's terms without taking the page down."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
import torch

from ..core.errors import HashdemoError
from ..retrieval.codemap import CodeMap, code_map
from ..systems.spec import ModelSpec
from ..systems.system import HashingSystem, load_system


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
    at the end; a one-off stage names itself ("training the PrototypeNet 350/2000")."""
    last = [0.0]

    def report(done: int, total: int, text: str) -> None:
        now = time.monotonic()
        finished = done + 1 >= total
        if now - last[0] < min_interval and not finished:
            return
        last[0] = now
        if total <= 0:  # no iterations (noise, ProS-GAN's one forward pass)
            bar.progress(1.0, text=f"{title}: one pass")
            return
        doing = text if " " in text else "step"
        bar.progress(min(1.0, (done + 1) / total), text=f"{title}: {doing} {min(done + 1, total)}/{total}")

    return report


@contextmanager
def running(title: str, stop_help: str, key: str | None = None) -> Iterator:
    """While a run lasts: a Stop button (any click stops a Streamlit run; finished parts stay cached) and a
    progress bar, yielded as a progress callback; both are gone when the run ends, however it ends."""
    stop, slot = st.empty(), st.empty()
    stop.button("Stop", key=key, help=stop_help)
    bar = slot.progress(0.0, text=f"{title}: starting")
    try:
        yield progress_bar(bar, title)
    finally:
        slot.empty()
        stop.empty()
