"""Attack losses on the model's tanh output, per query (B,); the optimiser loop minimises them."""

from __future__ import annotations

import torch


def hag_loss(out: torch.Tensor, clean_out: torch.Tensor, t: float) -> torch.Tensor:
    """HAG Eq. 6-7: ((1/m) F'(x) . F'(x') + 1)^2, mask w_i = [|F_i(x') - sign(F_i(x))| < 1 + t]."""
    mask = ((out - torch.where(clean_out > 0, 1.0, -1.0)).abs() < 1 + t).float().detach()
    m = mask.sum(1)
    inner = (mask * clean_out * out).sum(1) / m.clamp(min=1)
    return torch.where(m > 0, (inner + 1).pow(2), torch.zeros_like(inner))


def pga_loss(out: torch.Tensor, pharos: torch.Tensor, t: float, fixed_weights: bool = True) -> torch.Tensor:
    """PgA Eq. 11-14 (negated to minimise): (1/pi) sum_k m_k w_k u_k, u = b* o f(x'), w_k = u_k - 2t, m_k = [u_k > t].

    fixed_weights (default): omega is a weighting vector (Eq. 11-12, Fig. 2), held fixed within a step, so the
    gradient is w_k / pi. False: omega is differentiated too, each active bit contributing (u_k - t)^2 - t^2.
    """
    u = pharos * out
    mask = (u > t).float().detach()
    pi = mask.sum(1)
    weights = u - 2 * t
    if fixed_weights:
        weights = weights.detach()
    value = (mask * weights * u).sum(1) / pi.clamp(min=1)
    return torch.where(pi > 0, value, torch.zeros_like(value))


def pga_dagger_loss(out: torch.Tensor, pharos: torch.Tensor) -> torch.Tensor:
    """PgA Eq. 10 (negated to minimise): (1/K) b* . f(x')."""
    return (pharos * out).sum(1) / out.shape[1]


def inner_product_loss(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """P2P / DHTA / THA: -(1/K) h(x') . target, i.e. pull the code towards the target code."""
    return -(target * out).sum(1) / out.shape[1]


def sdha_loss(
    out: torch.Tensor,
    adversarial: torch.Tensor,
    clean: torch.Tensor,
    codes: torch.Tensor,
    counts: torch.Tensor,
    sigma: float,
    z: float,
    weight: float,
) -> torch.Tensor:
    """SDHA: MSE(x', x) - (weight/K) * mean_r d(q, r) w(q, r) over the relevant codes r.

    d is the dimension-wise surrogate Hamming distance sum_k [0.5 |q_k - r_k| sg_k + 1 - sg_k] with
    sg_k = sigmoid(sigma q_k r_k), and w = (D_H(sign q, r) + 1e-8)^-z the AP-oriented weight.
    """
    bits = out.shape[1]
    u = out[:, None, :] * codes  # (B, U, K); |q - r| = 1 - q r for r = +-1 and |q| <= 1
    sg = torch.sigmoid(sigma * u)
    distance = (0.5 * (1 - u) * sg + 1 - sg).sum(2)
    code = torch.where(out > 0, 1.0, -1.0).detach()
    hamming = 0.5 * (bits - torch.einsum("bk,buk->bu", code, codes))
    w = (hamming + 1e-8).pow(-z)
    mean_relevant = (counts * distance * w).sum(1) / counts.sum(1)
    mse = (adversarial - clean).pow(2).flatten(1).mean(1)
    return mse - weight / bits * mean_relevant


def feature_loss(features: torch.Tensor, target_features: torch.Tensor) -> torch.Tensor:
    """Feature-space attack (DHTA appendix E): mean squared distance to a target image's features."""
    return (features - target_features).pow(2).mean(1)
