"""Adversarial training with pharos codes (PgA appendix A.3, Eq. 16)."""

from __future__ import annotations

import torch

from ..attacks.losses import pga_dagger_loss, pga_loss
from ..targets import pharos_code
from .base import Defence


class PharosAT(Defence):
    """x' from PgA (pharos code from the current training codes, Eq. 7-8; loss Eq. 13-14 with t = -0.8; PGD from a
    random start within the defence budget); the term added is -(1/K) b*_i . f(x'_i) (Eq. 16, averaged over the
    batch), which rebuilds the similarity between the adversarial example and its true semantics."""

    name, title = "pharos-at", "Pharos-code AT"
    paper = "Efficient Evaluation of Adversarial Robustness for Deep Hashing based Retrieval, appendix A.3 (Eq. 16)"
    margin = -0.8

    def target_codes(self, labels: torch.Tensor) -> torch.Tensor:
        return pharos_code(labels, self.train_codes, self.train_labels)

    def attack_loss(self, out, target) -> torch.Tensor:
        return pga_loss(out, target, self.margin)

    def loss(self, u_clean, u_adv, labels, target) -> torch.Tensor:
        return -pga_dagger_loss(u_adv, target).mean()
