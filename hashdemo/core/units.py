"""The one conversion between the papers' units and hashdemo's: pixels are in [0,1] inside hashdemo, users and
papers speak of budgets in 1/255 (one grey level of an 8-bit image)."""

from __future__ import annotations

UNIT = 1 / 255  # one grey level of an 8-bit image, in [0,1] pixel units


def from_255(value: float) -> float:
    """A budget in the papers' 1/255 units as [0,1] pixel units."""
    return value * UNIT


def to_255(value: float, places: int | None = 6) -> float:
    """[0,1] pixel units in the papers' 1/255 units (rounded: 8/255 reads back as 8, not 7.999999; places=None:
    exact, for a paper's own [0,1] value such as HAG's eps 0.039)."""
    return value / UNIT if places is None else round(value / UNIT, places)


def lr_from_255(lr: float) -> float:
    """An SGD learning rate on 0-255 pixels as one on [0,1] pixels: gradients grow by 255, steps shrink by 255."""
    return lr * UNIT**2
