"""The attacker's budget: one value object built where input arrives (CLI, page, link) and passed down unchanged.

Pixels are in [0,1] inside hashdemo; users and papers speak in 1/255 units. The conversion lives here only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .params import Param

UNIT = 1 / 255  # one grey level of an 8-bit image, in [0,1] pixel units
MAX_STEPS = 5000

EPS = Param(
    "eps", 8.0, "L-inf budget: no pixel moves by more than eps/255", 0.0, 255.0, unit="(1/255)", label="epsilon"
)
STEP = Param(
    "step", 1.0, "step size of the sign step (PGD's eta)", 0.0, 255.0, open_low=True, unit="(1/255)", label="step size"
)
STEPS = Param("steps", 100, "iterations T", 1, MAX_STEPS, integer=True, label="iterations T")
SEED = Param("seed", 0, "seeds the random start and every random target or anchor draw", 0, 2**63 - 1, integer=True)


@dataclass(frozen=True)
class Budget:
    """eps and step in [0,1] pixel units, iterations T, random start (None: the attack's paper default), seed."""

    eps: float
    step: float
    steps: int
    random_start: bool | None = None
    seed: int = 0

    @classmethod
    def from_255(
        cls, eps: float = 8, step: float = 1, steps: int = 100, random_start: bool | None = None, seed: int = 0
    ) -> Budget:
        """Build from the papers' 1/255 units, checking each value against its declared range."""
        return cls(
            EPS.check(eps) * UNIT,
            STEP.check(step) * UNIT,
            STEPS.check(steps),
            random_start,
            SEED.check(seed),
        )

    @property
    def eps_255(self) -> float:
        return round(self.eps / UNIT, 6)

    @property
    def step_255(self) -> float:
        return round(self.step / UNIT, 6)

    def to_json(self) -> dict:
        """In the papers' units: eps and step in 1/255."""
        return {
            "eps": self.eps_255,
            "step": self.step_255,
            "steps": self.steps,
            "random_start": self.random_start,
            "seed": self.seed,
        }
