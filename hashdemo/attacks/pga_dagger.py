"""PgA-dagger: the pharos code with the plain inner-product loss (PgA Eq. 10)."""

import torch

from .base import ATTACKS, Plan
from .losses import pga_dagger_loss
from .pga import PgA


@ATTACKS.register()
class PgADagger(PgA):
    """Pharos code (Eq. 7), loss max -(1/K) b*^T f(x') (Eq. 10), PGD with random start (Eq. 15)."""

    name, title = "pga-dagger", "PgA†"
    equation = r"\max_{x'}\ \mathcal{L}_a=-\tfrac{1}{K}\,(b^\star)^\top f(x')"
    parameters = ()

    def loss(self, out, x_adv, x, plan: Plan, scale) -> torch.Tensor:
        return pga_dagger_loss(out, plan.target_code.float())
