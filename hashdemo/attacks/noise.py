"""Baseline: uniform random noise in [-eps, eps] (what a non-adversarial perturbation of the same size does)."""

import torch

from .base import ATTACKS, Attack
from .budget import Budget


@ATTACKS.register()
class Noise(Attack):
    """x' = clip(x + U(-eps, eps)): no gradient, one forward pass (DHTA / ProS-GAN Table 1, "Noise")."""

    name, title, group = "noise", "Noise", "baseline"
    paper = "baseline of DHTA and ProS-GAN (Table 1)"
    equation = r"x' = \mathrm{clip}_{[0,1]}\big(x + r\big),\; r\sim U(-\epsilon,\epsilon)"
    fixed_steps = 0

    @classmethod
    def random_start_for(cls, budget: Budget) -> bool:
        return True  # the noise is the random start

    def loss(self, out, x_adv, x, plan, scale) -> torch.Tensor:
        return torch.zeros(len(out), device=out.device)
