"""ProS-GAN's objectives (Wang et al., CVPR 2021), per image, as the authors' code computes them where the printed
formulas leave a choice: J_re a mean over pixels on the [-1, 1] scale the networks work on (the code's MSELoss;
Eq. 8 prints a sum), J_adv a mean over the C + 1 discriminator outputs (the code's least-squares GAN loss; Eq. 10
prints a squared norm), J3 of the PrototypeNet a mean over classes (the code's MSELoss)."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def prototype_loss(
    h: torch.Tensor,
    predicted: torch.Tensor,
    labels: torch.Tensor,
    codes: torch.Tensor,
    code_labels: torch.Tensor,
    alphas: tuple[float, float, float] = (1.0, 1e-4, 1.0),
) -> torch.Tensor:
    """Eq. 3-4: alpha_1 J1 + alpha_2 J2 + alpha_3 J3 for prototypes h (B, K) of `labels` (B, C) against the attacked
    model's training codes (N, K) with their labels (N, C). J1: the pairwise likelihood -log p(S_tj | h_t, b_j),
    theta = h_t . b_j / 2, averaged over the B x N pairs; J2: ||h - sign(h)||^2 per prototype; J3: the label
    reconstruction error, a mean over classes (the code's MSELoss)."""
    a1, a2, a3 = alphas
    s = (labels.float() @ code_labels.float().T > 0).float()
    theta = 0.5 * h @ codes.float().T
    j1 = (F.softplus(theta) - s * theta).mean()
    j2 = (h - torch.sign(h).detach()).pow(2).sum(1).mean()
    j3 = (predicted - labels.float()).pow(2).mean()
    return a1 * j1 + a2 * j2 + a3 * j3


def hamming_loss(pre_tanh: torch.Tensor, prototype_code: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Eq. 7: J_ham = -(1/K) h_t . f(x') + 1, per image (in [0, 2]), with f(x') = tanh(scale * H) of the model's
    pre-tanh output H (the paper: scale 1; below 1 the bits that tanh saturates still pass a gradient)."""
    out = torch.tanh(scale * pre_tanh)
    return 1 - (prototype_code.float() * out).sum(1) / out.shape[1]


def reconstruction_loss(x: torch.Tensor, x_adv: torch.Tensor) -> torch.Tensor:
    """Eq. 8: J_re = ||x - x'||^2 per image, as a mean over its pixels (the images on the networks' scale)."""
    return (x - x_adv).pow(2).flatten(1).mean(1)


def fake_target(labels: torch.Tensor, fake: float) -> torch.Tensor:
    """Eq. 9, 11, 12: the discriminator's target [y_1 .. y_C, fake] (fake: 0 = real, 1 = generated)."""
    column = torch.full((len(labels), 1), float(fake), device=labels.device)
    return torch.cat([labels.float(), column], 1)


def squared_error(d: torch.Tensor, target: torch.Tensor, reduction: str) -> torch.Tensor:
    """||d - target||^2 per image: "mean" over the C + 1 outputs (the code) or "sum" (as Eq. 10 and 13 print)."""
    squared = (d - target).pow(2)
    return squared.mean(1) if reduction == "mean" else squared.sum(1)


def generator_adversarial_loss(d_fake: torch.Tensor, target_labels: torch.Tensor, reduction: str = "mean"):
    """Eq. 10: J_adv = ||D(x') - [y_t, 0]||^2, per image: look real and of the target class."""
    return squared_error(d_fake, fake_target(target_labels, 0.0), reduction)


def discriminator_loss(
    d_real: torch.Tensor, labels: torch.Tensor, d_fake: torch.Tensor, target_labels: torch.Tensor, reduction="mean"
) -> torch.Tensor:
    """Eq. 13: 1/2 ||D(x) - [y, 0]||^2 + 1/2 ||D(x') - [y_t, 1]||^2, averaged over the batch."""
    real = squared_error(d_real, fake_target(labels, 0.0), reduction)
    fake = squared_error(d_fake, fake_target(target_labels, 1.0), reduction)
    return (0.5 * real + 0.5 * fake).mean()
