"""DCH: Cauchy cross-entropy on normalised Hamming distances (Cao et al., CVPR 2018)."""

import torch
from torch.nn import functional as F

from .base import METHODS, HashingLoss, balance_weights, label_similarity


def cauchy_distance(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """DCH Eq. 4: d(h_i, h_j) = K/2 (1 - cos(h_i, h_j))."""
    bits = u.shape[1]
    return bits / 2 * (1 - F.normalize(u, dim=1) @ F.normalize(v, dim=1).T)


@METHODS.register()
class DCH(HashingLoss):
    """DCH Eq. 7-9: weighted s log(d/gamma) + log(1 + gamma/d), plus lambda log(1 + d(|h|, 1)/gamma).

    Defaults gamma = 20, lambda = 0.1."""

    name = "dch"
    paper = "Cao et al., Deep Cauchy Hashing for Hamming Space Retrieval (CVPR 2018)"

    def __init__(self, bits: int, num_classes: int, num_train: int, gamma: float = 20.0, lam: float = 0.1):
        super().__init__(bits, num_classes, num_train)
        self.gamma, self.lam = gamma, lam

    def forward(self, u: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        s = label_similarity(labels, labels)
        d = cauchy_distance(u, u).clamp(min=1e-4)
        # s log(d/g) + log(1 + g/d) = log(1 + d/g) for similar pairs and log(1 + g/d) for dissimilar ones
        pair = torch.where(s > 0, torch.log1p(d / self.gamma), torch.log1p(self.gamma / d))
        weights = balance_weights(s)
        quant = torch.log1p(cauchy_distance(u.abs(), torch.ones_like(u)).diagonal() / self.gamma)
        return (weights * pair).sum() / weights.sum() + self.lam * quant.mean()
