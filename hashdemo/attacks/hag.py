"""HAG (Yang et al., TCYB 2018): push the code away from the query's own clean code."""

import torch

from ..errors import InvalidInputError
from .base import Attack
from .losses import hag_loss


class HAG(Attack):
    """Own clean code as the point to flee, HAG's masked loss (Eq. 6-7, t = 0.5) and tanh(alpha H) schedule (Eq. 10)."""

    name, title, group = "hag", "HAG", "non-targeted"
    paper = "Yang et al., Adversarial Examples for Hamming Space Search, IEEE TCYB 2018"
    equation = (
        r"\min_{x'}\Big(\tfrac{1}{m}F'(x)^\top F'(x')+1\Big)^2,\;"
        r"w_i=\big[\,|F_i(x')-\mathrm{sign}(F_i(x))|<1+t\,\big],\;F=\tanh(\alpha H)"
    )
    method_defaults = {"t": 0.5}
    loop_defaults = {"schedule": "hag"}
    # SGD lr 500 on 0-255 pixels = 500/255^2 on [0,1] pixels; 2000 iterations; starts at x
    paper_settings = {"optimiser": "sgd", "lr": 500 / 255**2, "steps": 2000, "random_start": False, "schedule": "hag"}

    def validate(self) -> None:
        super().validate()
        if self.params["t"] < 0:
            raise InvalidInputError(f"HAG's margin t must be >= 0 (paper: 0.5), got {self.params['t']}")

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> dict:
        return {"clean_pre": clean_pre}

    def loss(self, out, x_adv, x, plan, scale) -> torch.Tensor:
        return hag_loss(out, torch.tanh(scale * plan["clean_pre"]), self.params["t"])
