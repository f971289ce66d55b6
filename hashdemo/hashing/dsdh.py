"""DSDH: pairwise likelihood + linear classification of discrete codes (Li et al., NeurIPS 2017)."""

from __future__ import annotations

import torch

from .base import METHODS, HashingLoss, label_similarity
from .dpsh import pairwise_nll


@METHODS.register()
class DSDH(HashingLoss):
    """DSDH Eq. 6: -sum(s theta - log(1+e^theta)) + mu ||Y - W^T B||^2 + nu ||W||^2 + eta ||B - U||^2.

    B and the labels of the training set are kept in memory; per batch, W is solved in closed form and the
    batch's B by discrete cyclic coordinate descent (DCC). The network sees the pairwise likelihood
    (estimated in the batch, as for DPSH) plus the eta term. eta is in the paper's units (sums over N^2 pairs
    and N x K code entries); on hashdemo's averaged terms it weighs eta * K / N.
    """

    name = "dsdh"
    paper = "Li et al., Deep Supervised Discrete Hashing (NeurIPS 2017)"

    def __init__(
        self,
        bits: int,
        num_classes: int,
        num_train: int,
        mu: float = 1.0,
        nu: float = 1.0,
        eta: float = 55.0,
        dcc_sweeps: int = 3,
    ):
        super().__init__(bits, num_classes, num_train)
        self.mu, self.nu, self.eta, self.dcc_sweeps = mu, nu, eta, dcc_sweeps
        self.register_buffer("B", torch.zeros(num_train, bits))
        self.register_buffer("Y", torch.zeros(num_train, num_classes))
        self.register_buffer("W", torch.zeros(bits, num_classes))

    @torch.no_grad()
    def _update_codes(self, u: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        seen = self.B.abs().sum(1) > 0
        b_seen, y_seen = self.B[seen], self.Y[seen]
        gram = b_seen.T @ b_seen + (self.nu / self.mu) * torch.eye(self.bits, device=u.device)
        self.W = torch.linalg.solve(gram, b_seen.T @ y_seen)
        p = self.mu * labels.float() @ self.W.T + self.eta * u  # (B, K)
        q = self.mu * self.W @ self.W.T  # (K, K)
        b = torch.where(u > 0, 1.0, -1.0)
        for _ in range(self.dcc_sweeps):
            for k in range(self.bits):
                rest = b @ q[:, k] - b[:, k] * q[k, k]
                b[:, k] = torch.where(p[:, k] - rest > 0, 1.0, -1.0)
        return b

    def forward(self, u: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            self.Y[index] = labels.float()
            self.B[index] = torch.where(u > 0, 1.0, -1.0)
            b = self._update_codes(u.detach(), labels, index)
            self.B[index] = b
        likelihood = pairwise_nll(u, u, label_similarity(labels, labels)).mean()
        return likelihood + self.eta * self.bits / self.num_train * (u - b).pow(2).mean()
