"""The attack library: `attack = hashdemo.attacks.get("pga", system, eps=8/255, steps=100)`;
`result = attack(images, labels=..., target_labels=...)`. A new attack is one file plus one line below."""

from __future__ import annotations

from ..errors import InvalidInputError
from .base import Attack, Knowledge
from .dhta import DHTA
from .feature import FeatureAttack
from .fgsm import FGSM
from .hag import HAG
from .ifgsm import IFGSM
from .noise import Noise
from .p2p import P2P
from .pga import PgA
from .pga_dagger import PgADagger
from .result import AttackResult, Trace
from .sdha import SDHA
from .tha import THA

ATTACKS: dict[str, type[Attack]] = {
    cls.name: cls for cls in (HAG, SDHA, PgA, PgADagger, P2P, DHTA, THA, Noise, FGSM, IFGSM, FeatureAttack)
}
GROUPS = ("non-targeted", "targeted", "baseline")


def get(name: str, model, **kwargs) -> Attack:
    """Build an attack by name on a HashingSystem (or a bare HashingModel plus knowledge=Knowledge(...))."""
    if name not in ATTACKS:
        raise InvalidInputError(f"unknown attack {name!r}; choose one of {', '.join(ATTACKS)}")
    return ATTACKS[name](model, **kwargs)


def by_group() -> dict[str, list[str]]:
    return {g: [n for n, cls in ATTACKS.items() if cls.group == g] for g in GROUPS}


__all__ = ["ATTACKS", "Attack", "AttackResult", "Knowledge", "Trace", "by_group", "get"]
