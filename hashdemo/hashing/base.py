"""What every hashing loss shares: its interface and the label similarity."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from ..core.registry import Registry


def label_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """S_ij = 1 if items i and j share at least one label, else 0 (float)."""
    return (a.float() @ b.float().T > 0).float()


def balance_weights(similar: torch.Tensor) -> torch.Tensor:
    """HashNet's pair weights: |S| / |S1| on similar pairs and |S| / |S0| on dissimilar ones."""
    total = similar.numel()
    n_similar = similar.sum().clamp(min=1)
    n_dissimilar = (total - similar.sum()).clamp(min=1)
    return torch.where(similar > 0, total / n_similar, total / n_dissimilar)


class HashingLoss(nn.Module):
    """A training objective on the tanh outputs u (B, K) of a batch with labels (B, C) and dataset indices (B,)."""

    name: ClassVar[str]
    paper: ClassVar[str]

    def __init__(self, bits: int, num_classes: int, num_train: int):
        super().__init__()
        self.bits = bits
        self.num_classes = num_classes
        self.num_train = num_train

    def activation_scale(self, step: int) -> float:
        """The alpha of tanh(alpha * y) at a training step (1 except for continuation methods)."""
        return 1.0

    def forward(self, u: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


METHODS: Registry[type[HashingLoss]] = Registry("hashing method")
