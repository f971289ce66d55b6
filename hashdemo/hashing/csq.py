"""CSQ: pull each code to its class's hash centre (Yuan et al., CVPR 2020)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .base import METHODS, HashingLoss


def hadamard(n: int) -> torch.Tensor:
    """Sylvester's Hadamard matrix of order n (n a power of two)."""
    h = torch.ones(1, 1)
    while h.shape[0] < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h


def hash_centres(num_classes: int, bits: int, seed: int = 0) -> torch.Tensor:
    """C centres in {-1,+1}^K: rows of [H_K; -H_K] when K is a power of two and C <= 2K, else Bernoulli(0.5)."""
    if bits & (bits - 1) == 0 and num_classes <= 2 * bits:
        h = hadamard(bits)
        return torch.cat([h, -h], 0)[:num_classes]
    gen = torch.Generator().manual_seed(seed)
    return torch.where(torch.rand(num_classes, bits, generator=gen) < 0.5, -1.0, 1.0)


@METHODS.register()
class CSQ(HashingLoss):
    """CSQ Eq. 5-8: BCE between (u+1)/2 and (c+1)/2 plus lambda * (|u| - 1)^2, lambda = 1e-4.

    Multi-label items use the sign of the sum of their labels' centres, ties broken by a seeded coin.
    """

    name = "csq"
    paper = "Yuan et al., Central Similarity Quantization for Efficient Image and Video Retrieval (CVPR 2020)"

    def __init__(self, bits: int, num_classes: int, num_train: int, lam: float = 1e-4, seed: int = 0):
        super().__init__(bits, num_classes, num_train)
        self.lam = lam
        self.register_buffer("centres", hash_centres(num_classes, bits, seed))
        gen = torch.Generator().manual_seed(seed + 1)
        self.register_buffer("tie_break", torch.where(torch.rand(bits, generator=gen) < 0.5, -1.0, 1.0))

    def centre_of(self, labels: torch.Tensor) -> torch.Tensor:
        summed = labels.float() @ self.centres
        return torch.where(summed == 0, self.tie_break, torch.sign(summed))

    def forward(self, u: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        target = (self.centre_of(labels) + 1) / 2
        prob = ((u + 1) / 2).clamp(1e-6, 1 - 1e-6)
        return F.binary_cross_entropy(prob, target) + self.lam * (u.abs() - 1).pow(2).mean()
