"""Defences by adversarial training; a new one is one file that registers itself plus one import below."""

from __future__ import annotations

from ..attacks.budget import Budget
from . import atrdh, pharos  # noqa: F401  (each registers its defence)
from .base import DEFENCES, Defence


def get_defence(name: str, budget: Budget, num_classes: int, bits: int, seed: int = 0, **params) -> Defence:
    return DEFENCES.get(name)(budget, num_classes, bits, seed, **params)


__all__ = ["DEFENCES", "Defence", "get_defence"]
