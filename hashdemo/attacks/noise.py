"""Baseline: uniform random noise in [-eps, eps] (what a non-adversarial perturbation of the same size does)."""

import torch

from .base import Attack


class Noise(Attack):
    """x' = clip(x + U(-eps, eps)): no gradient, one forward pass."""

    name, title, group = "noise", "Noise", "baseline"
    paper = "baseline of DHTA and ProS-GAN (Table 1)"
    equation = r"x' = \mathrm{clip}_{[0,1]}\big(x + r\big),\; r\sim U(-\epsilon,\epsilon)"
    loop_defaults = {"random_start": True}

    def loop_steps(self) -> int:
        return 0

    def loss(self, out, x_adv, x, plan, scale) -> torch.Tensor:
        return torch.zeros(len(out), device=out.device)
