"""DPH: the pairwise model the HAG paper attacks."""

import torch

from .base import METHODS, HashingLoss, label_similarity


@METHODS.register()
class DPH(HashingLoss):
    """HAG Eq. 11: mean over pairs of ((1/K) u_i.u_j - S_ij)^2 with S in {+1, -1}."""

    name = "dph"
    paper = "Yang et al., Adversarial Examples for Hamming Space Search (TCYB 2018), Eq. 11"

    def forward(self, u: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        s = 2 * label_similarity(labels, labels) - 1
        return ((u @ u.T) / self.bits - s).pow(2).mean()
