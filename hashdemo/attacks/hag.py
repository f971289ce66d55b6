"""HAG (Yang et al., TCYB 2018): push the code away from the query's own clean code."""

from dataclasses import dataclass

import torch

from ..core.params import Param
from ..core.units import lr_from_255
from .base import ATTACKS, Attack, PaperSetting, Plan
from .loop import Loop
from .losses import hag_loss


@dataclass
class HAGPlan(Plan):
    clean_pre: torch.Tensor | None = None  # H(x) of the clean query, (B, K)


@ATTACKS.register()
class HAG(Attack):
    """Own clean code as the point to flee, HAG's masked loss (Eq. 6-7, t = 0.5) and tanh(alpha H) schedule (Eq. 10).

    Starts from x (Algorithm 1: "Initialize x^ with x"). Paper optimiser (Sec. IV-C): SGD, momentum 0.9,
    lr 500 on 0-255 pixels (= 500/255^2 on [0,1]), 2000 iterations.
    Example: ``HAG(system)(x, y, budget=Budget.from_255(8, 1, 100))``.
    """

    name, title, group = "hag", "HAG", "non-targeted"
    paper = "Yang et al., Adversarial Examples for Hamming Space Search, IEEE TCYB 2018"
    equation = (
        r"\min_{x'}\Big(\tfrac{1}{m}F'(x)^\top F'(x')+1\Big)^2,\;"
        r"w_i=\big[\,|F_i(x')-\mathrm{sign}(F_i(x))|<1+t\,\big],\;F=\tanh(\alpha H)"
    )
    parameters = (
        Param(
            "t",
            0.5,
            "HAG Eq. 7: a bit leaves the loss once flipped by more than t; it changes little here, where the "
            "model's outputs sit near +-1 and most flipped bits pass any t",
            0.0,
            1.0,
            label="margin t (HAG mask)",
            increment=0.05,
        ),
    )
    default_loop = Loop(schedule="hag")
    paper_setting = PaperSetting(2000, Loop("sgd", lr=lr_from_255(500), momentum=0.9, schedule="hag"), "HAG Sec. IV-C")

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> HAGPlan:
        return HAGPlan(clean_pre=clean_pre)

    def loss(self, out, x_adv, x, plan: HAGPlan, scale) -> torch.Tensor:
        return hag_loss(out, torch.tanh(scale * plan.clean_pre), self.params["t"])
