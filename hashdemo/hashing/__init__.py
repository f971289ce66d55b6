"""Deep hashing training losses, one file each; add a method with one file and one line below."""

from __future__ import annotations

from ..errors import InvalidInputError
from .base import HashingLoss, label_similarity
from .csq import CSQ
from .dch import DCH
from .dph import DPH
from .dpsh import DPSH
from .dsdh import DSDH
from .hashnet import HashNet

METHODS: dict[str, type[HashingLoss]] = {cls.name: cls for cls in (DPH, DPSH, HashNet, CSQ, DSDH, DCH)}


def get_method(name: str, bits: int, num_classes: int, num_train: int, **params) -> HashingLoss:
    if name not in METHODS:
        raise InvalidInputError(f"unknown hashing method {name!r}; choose one of {', '.join(METHODS)}")
    try:
        return METHODS[name](bits, num_classes, num_train, **params)
    except TypeError as exc:
        raise InvalidInputError(f"{name}: {exc}") from exc


__all__ = ["METHODS", "HashingLoss", "get_method", "label_similarity"]
