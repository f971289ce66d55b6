"""A 2-D picture of Hamming space for teaching: the first two principal components of the database codes.

Codes are +-1 vectors and many are identical (a class often shares one code), so the plotted sample is
jittered a little; projected queries are not, so a query's point sits exactly where its code projects.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class CodeMap:
    """PCA axes of the codes, and a seeded, jittered sample of database points to draw."""

    mean: torch.Tensor  # (K,)
    axes: torch.Tensor  # (K, 2)
    explained: tuple[float, float]  # share of the variance along each axis
    points: torch.Tensor  # (n, 2) sample of database codes, projected and jittered
    labels: torch.Tensor  # (n, C) their labels
    index: torch.Tensor  # (n,) their database indices

    def project(self, codes: torch.Tensor) -> torch.Tensor:
        """(m, K) codes -> (m, 2) map coordinates."""
        return (codes.float() - self.mean) @ self.axes


def code_map(
    codes: torch.Tensor, labels: torch.Tensor, sample: int = 3000, seed: int = 0, jitter: float = 0.25
) -> CodeMap:
    """Principal axes of all `codes` (N, K) (signs fixed so the largest loading is positive), and `sample`
    of them drawn with `seed` for display."""
    x = codes.float()
    mean = x.mean(0)
    covariance = (x - mean).T @ (x - mean) / max(1, len(x) - 1)
    values, vectors = torch.linalg.eigh(covariance)  # ascending
    axes = vectors[:, [-1, -2]]
    flip = torch.sign(axes.gather(0, axes.abs().argmax(0, keepdim=True)))
    axes = axes * flip
    total = float(values.clamp(min=0).sum()) or 1.0
    explained = (float(values[-1]) / total, float(values[-2]) / total)
    g = torch.Generator().manual_seed(seed)
    index = torch.sort(torch.randperm(len(codes), generator=g)[: min(sample, len(codes))]).values
    points = (x[index] - mean) @ axes + (torch.rand(len(index), 2, generator=g) - 0.5) * 2 * jitter
    return CodeMap(mean, axes, explained, points, labels[index], index)
