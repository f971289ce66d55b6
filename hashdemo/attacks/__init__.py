"""The attack library: `attack = hashdemo.attacks.get("pga", system, t=-0.8)`;
`result = attack(images, labels, budget=Budget.from_255(8, 1, 100))`. A new attack is one file plus one line below."""

from __future__ import annotations

from ..errors import InvalidInputError
from .base import Attack, Knowledge, PaperSetting, Plan
from .dhta import DHTA
from .feature import FeatureAttack
from .fgsm import FGSM
from .hag import HAG
from .ifgsm import IFGSM
from .loop import LOOP_PARAMS, Loop
from .noise import Noise
from .p2p import P2P
from .pga import PgA
from .pga_dagger import PgADagger
from .prosgan import ProSGAN
from .result import AttackResult, Snapshot, Trace
from .sdha import SDHA
from .tha import THA

ATTACKS: dict[str, type[Attack]] = {
    cls.name: cls for cls in (HAG, SDHA, PgA, PgADagger, P2P, DHTA, THA, ProSGAN, Noise, FGSM, IFGSM, FeatureAttack)
}
GROUPS = ("non-targeted", "targeted", "baseline")


def attack_class(name: str) -> type[Attack]:
    if name not in ATTACKS:
        raise InvalidInputError(f"unknown attack {name!r}; choose one of {', '.join(ATTACKS)}")
    return ATTACKS[name]


def get(name: str, model, **params) -> Attack:
    """Build an attack by name on a HashingSystem (or a bare HashingModel plus knowledge=Knowledge(...))."""
    return attack_class(name)(model, **params)


def by_group() -> dict[str, list[str]]:
    return {g: [n for n, cls in ATTACKS.items() if cls.group == g] for g in GROUPS}


__all__ = [
    "ATTACKS",
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
