"""Defences by adversarial training; a new one is one file plus one line below."""

from __future__ import annotations

from ..budget import Budget
from ..errors import InvalidInputError
from .atrdh import ATRDH
from .base import Defence
from .pharos import PharosAT

DEFENCES: dict[str, type[Defence]] = {cls.name: cls for cls in (ATRDH, PharosAT)}


def get_defence(name: str, budget: Budget, num_classes: int, bits: int, seed: int = 0) -> Defence:
    if name not in DEFENCES:
        raise InvalidInputError(f"unknown defence {name!r}; choose one of {', '.join(DEFENCES)}")
    return DEFENCES[name](budget, num_classes, bits, seed)


__all__ = ["DEFENCES", "Defence", "get_defence"]
