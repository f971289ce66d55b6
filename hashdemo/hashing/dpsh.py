"""DPSH: pairwise likelihood with quantisation (Li, Wang, Kang, IJCAI 2016)."""

import torch
from torch.nn import functional as F

from .base import METHODS, HashingLoss, label_similarity


def pairwise_nll(u: torch.Tensor, v: torch.Tensor, s: torch.Tensor, scale: float = 0.5) -> torch.Tensor:
    """-log p(S | U, V) per pair with theta = scale * u_i.v_j: softplus(theta) - s * theta."""
    theta = scale * (u @ v.T)
    return F.softplus(theta) - s * theta


@METHODS.register()
class DPSH(HashingLoss):
    """DPSH Eq. 4: sum of (log(1 + e^theta) - S theta), theta = u_i.u_j / 2, plus eta ||b - u||^2 (both averaged)."""

    name = "dpsh"
    paper = "Li et al., Feature Learning based Deep Supervised Hashing with Pairwise Labels (IJCAI 2016)"

    def __init__(self, bits: int, num_classes: int, num_train: int, eta: float = 1.0):
        super().__init__(bits, num_classes, num_train)
        self.eta = eta

    def forward(self, u: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        likelihood = pairwise_nll(u, u, label_similarity(labels, labels)).mean()
        return likelihood + self.eta * (u - torch.sign(u).detach()).pow(2).mean()
