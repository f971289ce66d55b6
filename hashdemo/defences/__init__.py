"""Defences by adversarial training; a new one is one file that registers itself plus one import below."""

from __future__ import annotations

from ..run.protocols import DEFAULT_PROTOCOL
from ..run.settings import RunSettings, resolve
from . import atrdh, pharos  # noqa: F401  (each registers its defence)
from .base import DEFENCES, Defence


def inner_settings(name: str, eps: float, step: float, steps: int, seed: int) -> RunSettings:
    """The inner attack's settings: the defence's attack by PGD within eps (1/255), from a random start."""
    cls = DEFENCES.get(name)
    overrides = {"eps": eps, "step": step, "steps": steps, "random_start": True, "seed": seed, **cls.attack_params}
    return resolve(DEFAULT_PROTOCOL, cls.attack, overrides)


def get_defence(name: str, inner: RunSettings, num_classes: int, bits: int, total_steps: int = 0, **params) -> Defence:
    return DEFENCES.get(name)(inner, num_classes, bits, total_steps, **params)


__all__ = ["DEFENCES", "Defence", "get_defence", "inner_settings"]
