"""The attack library: `attack = hashdemo.attacks.get("pga", system, t=-0.8)`;
`result = attack(images, labels, budget=Budget.from_255(8, 1, 100))`. A new attack is one file that registers
itself (`@ATTACKS.register()`) plus one import below."""

from __future__ import annotations

from . import (  # noqa: F401
    dhta,
    dhta_master,
    feature,
    fgsm,
    hag,
    ifgsm,
    noise,
    p2p,
    pga,
    pga_dagger,
    prosgan,
    sdha,
    tha,
)
from .base import ATTACKS, Attack, Knowledge, PaperSetting, Plan
from .loop import LOOP_PARAMS, Loop
from .result import AttackResult, Snapshot, Trace

GROUPS = ("non-targeted", "targeted", "baseline")


def attack_class(name: str) -> type[Attack]:
    return ATTACKS.get(name)


def get(name: str, model, **params) -> Attack:
    """Build an attack by name on a HashingSystem (or a hash model plus knowledge=Knowledge(...))."""
    return ATTACKS.get(name)(model, **params)


def by_group() -> dict[str, list[str]]:
    return {g: [n for n, cls in ATTACKS.items() if cls.group == g] for g in GROUPS}


__all__ = [
    "ATTACKS",
    "GROUPS",
    "LOOP_PARAMS",
    "Attack",
    "AttackResult",
    "Knowledge",
    "Loop",
    "PaperSetting",
    "Plan",
    "Snapshot",
    "Trace",
    "attack_class",
    "by_group",
    "get",
]
