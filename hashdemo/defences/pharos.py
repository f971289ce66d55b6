"""Adversarial training with pharos codes (PgA appendix A.3, Eq. 16)."""

from __future__ import annotations

from typing import ClassVar

from ..attacks.losses import pga_dagger_loss
from ..core.params import Param
from .base import DEFENCES, Defence


@DEFENCES.register()
class PharosAT(Defence):
    """x' from PgA itself (pharos code from the current training codes, Eq. 7-8; loss Eq. 13-14 with t = -0.8; PGD
    from a random start within the defence budget); the term added is -sum_i (1/K) b*_i . f(x'_i) (Eq. 16: summed
    over the batch, or averaged, `batch=mean`, as the shipped model was trained), which rebuilds the similarity
    between the adversarial example and its true semantics."""

    name, title = "pharos-at", "Pharos-code AT"
    paper = "Efficient Evaluation of Adversarial Robustness for Deep Hashing based Retrieval, appendix A.3 (Eq. 16)"
    attack = "pga"
    attack_params: ClassVar[dict] = {"t": -0.8}
    parameters = (
        Param(
            "batch",
            "sum",
            "how Eq. 16's term takes the batch: sum (as printed, sum over i of (1/K) b*_i . f(x'_i)) or mean "
            "(1/batch of it: the scale of a mean training loss)",
            choices=("sum", "mean"),
        ),
    )

    def loss(self, u_clean, u_adv, labels, result, index):
        per_item = -pga_dagger_loss(u_adv, result.target_codes.float())
        return per_item.sum() if self.params["batch"] == "sum" else per_item.mean()
