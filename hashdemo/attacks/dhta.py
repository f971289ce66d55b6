"""DHTA (Bai et al., ECCV 2020): pull the code to the anchor code of n_t = 9 items of the target label."""

import torch

from ..errors import InvalidInputError
from .base import Attack
from .losses import inner_product_loss
from .targets import anchor_code


class DHTA(Attack):
    """Anchor code = bitwise vote of n_t target-label database codes (drawn without replacement), inner-product loss."""

    name, title, group = "dhta", "DHTA", "targeted"
    paper = "Bai et al., Targeted Attack for Deep Hashing based Retrieval, ECCV 2020"
    equation = r"\min_{x'}\ -\tfrac{1}{K}\,h_a^\top f(x'),\; h_a=\mathrm{sign}\Big(\sum_{i=1}^{n_t} h_i\Big)"
    targeted = True
    target_kind = "anchor"
    needs = ("database_codes", "database_labels")
    method_defaults = {"n_t": 9}
    loop_defaults = {"schedule": "hag"}
    paper_settings = {"steps": 2000, "schedule": "hag"}

    def validate(self) -> None:
        super().validate()
        if int(self.params["n_t"]) != self.params["n_t"] or self.params["n_t"] < 1:
            raise InvalidInputError(f"n_t must be a positive integer, got {self.params['n_t']}")

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> dict:
        k = self.knowledge
        code = anchor_code(target_labels.cpu(), k.database_codes, k.database_labels, int(self.params["n_t"]), draw)
        return {"target_code": code.to(x.device)}

    def loss(self, out, x_adv, x, plan, scale) -> torch.Tensor:
        return inner_product_loss(out, plan["target_code"].float())
