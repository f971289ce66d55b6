"""ProS-GAN's objectives (Wang et al., CVPR 2021), each per image and averaged over the batch (Algorithm 1
divides by n).

J_re (Eq. 8) is written as a squared L2 norm. Summed over pixels, with the paper's beta = 50 it swamps the other
terms: on fashion DPSH-32, after 3 epochs J_ham stayed at 1.03 and held-out t-MAP at 0.13 (clean: 0.02), and
over the paper's 150,528 values per image Table 1's t-MAP would be out of reach; ProS-GAN's public code averages
(MSELoss). So hashdemo averages over pixels by default and keeps the literal sum as reconstruction="sum".
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from ..hashing.base import balance_weights


def prototype_loss(
    h: torch.Tensor,
    predicted: torch.Tensor,
    labels: torch.Tensor,
    codes: torch.Tensor,
    code_labels: torch.Tensor,
    alphas: tuple[float, float, float] = (1.0, 1e-4, 1.0),
    balanced: bool = False,
) -> torch.Tensor:
    """Eq. 3-4: alpha_1 J1 + alpha_2 J2 + alpha_3 J3 for prototypes h (B, K) of `labels` (B, C) against the attacked
    model's training codes (N, K) with their labels (N, C).

    J1: pairwise likelihood -log p(S_tj | h_t, b_j), theta = h_t . b_j / 2 (as DPSH), S_tj = [labels share a class];
    J2: quantisation ||h - sign(h)||^2; J3: label reconstruction ||y^ - y||^2.
    balanced=True weighs similar and dissimilar pairs equally (HashNet's weights, what THA's PrototypeNet needs
    without J3); the paper's plain likelihood is the default: with J3 it gave better prototypes (class prototype
    t-MAP@1000 0.936 against 0.902 balanced on fashion DPSH-32, 0.594 against 0.552 on fashion-mosaic; 2000 steps).
    """
    a1, a2, a3 = alphas
    s = (labels.float() @ code_labels.float().T > 0).float()
    theta = 0.5 * h @ codes.float().T
    nll = F.softplus(theta) - s * theta
    if balanced:
        weights = balance_weights(s)
        j1 = (weights * nll).sum() / weights.sum()
    else:
        j1 = nll.mean()
    j2 = (h - torch.sign(h).detach()).pow(2).sum(1).mean()
    j3 = (predicted - labels.float()).pow(2).sum(1).mean()
    return a1 * j1 + a2 * j2 + a3 * j3


def hamming_loss(out: torch.Tensor, prototype_code: torch.Tensor) -> torch.Tensor:
    """Eq. 7: J_ham = -(1/K) h_t . f(x') + 1, per image (in [0, 2])."""
    return 1 - (prototype_code.float() * out).sum(1) / out.shape[1]


def reconstruction_loss(x: torch.Tensor, x_adv: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Eq. 8: J_re = ||x - x'||^2 per image, averaged over pixels ("mean") or summed as written ("sum")."""
    squared = (x - x_adv).pow(2).flatten(1)
    return squared.sum(1) if reduction == "sum" else squared.mean(1)


def fake_target(labels: torch.Tensor, fake: float) -> torch.Tensor:
    """Eq. 9, 11, 12: the discriminator's target [y_1 .. y_C, fake] (fake: 0 = real, 1 = generated)."""
    column = torch.full((len(labels), 1), float(fake), device=labels.device)
    return torch.cat([labels.float(), column], 1)


def generator_adversarial_loss(d_fake: torch.Tensor, target_labels: torch.Tensor) -> torch.Tensor:
    """Eq. 10: J_adv = ||D(x') - [y_t, 0]||^2, per image: look real and of the target class."""
    return (d_fake - fake_target(target_labels, 0.0)).pow(2).sum(1)


def discriminator_loss(
    d_real: torch.Tensor, labels: torch.Tensor, d_fake: torch.Tensor, target_labels: torch.Tensor
) -> torch.Tensor:
    """Eq. 13: 1/2 ||D(x) - [y, 0]||^2 + 1/2 ||D(x') - [y_t, 1]||^2, averaged over the batch."""
    real = (d_real - fake_target(labels, 0.0)).pow(2).sum(1)
    fake = (d_fake - fake_target(target_labels, 1.0)).pow(2).sum(1)
    return (0.5 * real + 0.5 * fake).mean()
