"""Deep hashing training losses, one file each; a method is one file that registers itself plus one import below."""

from __future__ import annotations

from ..core.errors import InvalidInputError
from . import csq, dch, dph, dpsh, dsdh, hashnet  # noqa: F401  (each registers its loss)
from .base import METHODS, HashingLoss, label_similarity


def get_method(name: str, bits: int, num_classes: int, num_train: int, **params) -> HashingLoss:
    try:
        return METHODS.get(name)(bits, num_classes, num_train, **params)
    except TypeError as exc:
        raise InvalidInputError(f"{name}: {exc}") from exc


__all__ = ["METHODS", "HashingLoss", "get_method", "label_similarity"]
