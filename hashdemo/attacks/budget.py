"""The attacker's budget: one value object built where input arrives (CLI, page, link) and passed down unchanged.

Pixels are in [0,1] inside hashdemo; users and papers speak in 1/255 units. `from_255` and `to_255` are the
only conversions between the two.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.params import Param
from ..core.units import from_255, to_255

MAX_STEPS = 5000

EPS = Param(
    "eps",
    8.0,
    "L-inf budget: no pixel moves by more than eps/255",
    0.0,
    255.0,
    unit="(1/255)",
    label="epsilon",
    increment=0.5,
)
STEP = Param(
    "step",
    1.0,
    "size of PGD's sign step eta (PgA Eq. 15): each iteration moves every pixel by step/255",
    0.0,
    255.0,
    open_low=True,
    unit="(1/255)",
    label="step size",
    increment=0.25,
)
STEPS = Param(
    "steps",
    100,
    "gradient iterations T (PgA: 100; HAG and DHTA: 2000)",
    1,
    MAX_STEPS,
    integer=True,
    label="iterations T",
)
RANDOM_START = Param(
    "random_start",
    None,
    "start from x + U(-eps, eps) (PgA Eq. 15); unset: each attack's paper default (only PgA does)",
    optional=True,
    boolean=True,
    label="random start",
)
SEED = Param(
    "seed", 0, "seeds the random start and every random target or anchor draw", 0, 2**63 - 1, integer=True, increment=1
)


@dataclass(frozen=True)
class Budget:
    """eps and step in [0,1] pixel units, iterations T, random start (None: the attack's paper default), seed."""

    eps: float
    step: float
    steps: int
    random_start: bool | None = RANDOM_START.default
    seed: int = SEED.default

    @classmethod
    def from_255(
        cls,
        eps: float = EPS.default,
        step: float = STEP.default,
        steps: int = STEPS.default,
        random_start: bool | None = RANDOM_START.default,
        seed: int = SEED.default,
    ) -> Budget:
        """Build from the papers' 1/255 units, checking each value against its declared range."""
        return cls(
            from_255(EPS.check(eps)),
            from_255(STEP.check(step)),
            STEPS.check(steps),
            RANDOM_START.check(random_start),
            SEED.check(seed),
        )

    @property
    def eps_255(self) -> float:
        return to_255(self.eps)

    @property
    def step_255(self) -> float:
        return to_255(self.step)

    def to_json(self) -> dict:
        """In the papers' units: eps and step in 1/255."""
        return {
            "eps": self.eps_255,
            "step": self.step_255,
            "steps": self.steps,
            "random_start": self.random_start,
            "seed": self.seed,
        }
