"""HashNet: weighted pairwise likelihood, tanh scale raised by continuation (Cao et al., ICCV 2017)."""

import torch

from .base import METHODS, HashingLoss, balance_weights, label_similarity
from .dpsh import pairwise_nll


@METHODS.register()
class HashNet(HashingLoss):
    """HashNet Eq. 5: weighted (log(1 + e^{a<h_i,h_j>}) - a s_ij <h_i,h_j>) with a = 0.1.

    The activation tanh(beta y) sharpens by continuation: beta = (1 + 0.005 step)^0.5."""

    name = "hashnet"
    paper = "Cao et al., HashNet: Deep Learning to Hash by Continuation (ICCV 2017)"

    def __init__(self, bits: int, num_classes: int, num_train: int, alpha: float = 0.1, step_rate: float = 0.005):
        super().__init__(bits, num_classes, num_train)
        self.alpha = alpha
        self.step_rate = step_rate

    def activation_scale(self, step: int) -> float:
        return (1.0 + self.step_rate * step) ** 0.5

    def forward(self, u: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        s = label_similarity(labels, labels)
        weights = balance_weights(s)
        return (weights * pairwise_nll(u, u, s, self.alpha)).sum() / weights.sum()
