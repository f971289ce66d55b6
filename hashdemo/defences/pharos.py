"""Adversarial training with pharos codes (PgA appendix A.3, Eq. 16)."""

from __future__ import annotations

from typing import ClassVar

from ..attacks.losses import pga_dagger_loss
from .base import DEFENCES, Defence


@DEFENCES.register()
class PharosAT(Defence):
    """x' from PgA itself (pharos code from the current training codes, Eq. 7-8; loss Eq. 13-14 with t = -0.8; PGD
    from a random start within the defence budget); the term added is -(1/K) b*_i . f(x'_i) (Eq. 16, averaged over
    the batch), which rebuilds the similarity between the adversarial example and its true semantics."""

    name, title = "pharos-at", "Pharos-code AT"
    paper = "Efficient Evaluation of Adversarial Robustness for Deep Hashing based Retrieval, appendix A.3 (Eq. 16)"
    attack = "pga"
    attack_params: ClassVar[dict] = {"t": -0.8}

    def loss(self, u_clean, u_adv, labels, result, index):
        return -pga_dagger_loss(u_adv, result.target_codes.float()).mean()
