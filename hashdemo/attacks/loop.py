"""The one optimiser loop every iterative attack shares: PGD (sign step), SGD with momentum or Adam,
L-inf projection onto the eps-ball and [0,1], optional random start and tanh(alpha * H) schedule."""

from __future__ import annotations

from collections.abc import Callable

import torch

Objective = Callable[[torch.Tensor, float], tuple[torch.Tensor, torch.Tensor]]  # (x', scale) -> (loss (B,), H (B,K))
Recorder = Callable[[int, float, torch.Tensor, torch.Tensor], None]
OPTIMISERS = ("pgd", "sgd", "adam")
HAG_STAGES = (0.2, 0.3, 0.5, 0.7, 1.0)


def hag_schedule(step: int, steps: int) -> float:
    """HAG Sec. IV-C: alpha = 0.1 for the first half of the iterations, then 0.2, 0.3, 0.5, 0.7, 1.0 in equal parts."""
    half = steps // 2
    if step < half:
        return 0.1
    stage = (step - half) * len(HAG_STAGES) // max(1, steps - half)
    return HAG_STAGES[min(stage, len(HAG_STAGES) - 1)]


def constant_schedule(step: int, steps: int) -> float:
    return 1.0


SCHEDULES = {"none": constant_schedule, "hag": hag_schedule}


def project(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
    """Clip to the L-inf eps-ball around x and to valid pixels [0,1] (HAG Eq. 4, PGD's S_eps)."""
    return torch.minimum(torch.maximum(x_adv, x - eps), x + eps).clamp_(0.0, 1.0)


def optimise(
    x: torch.Tensor,
    objective: Objective,
    record: Recorder,
    *,
    eps: float,
    step_size: float,
    steps: int,
    random_start: bool,
    generator: torch.Generator,
    optimiser: str = "pgd",
    lr: float | None = None,
    momentum: float = 0.9,
    schedule: str = "none",
) -> torch.Tensor:
    """Minimise objective(x', scale).sum() over the eps-ball; record(t, scale, loss, H) at each iterate 0..steps.

    Each query's loss depends on its own image only, so summing keeps the per-query gradients intact.
    PGD: x' <- S(x' - step_size * sign(grad)) (PgA Eq. 15); SGD / Adam: the optimiser's step, then S.
    """
    scale_at = SCHEDULES[schedule]
    x = x.detach()
    start = torch.empty_like(x).uniform_(-eps, eps, generator=generator) if random_start else torch.zeros_like(x)
    x_adv = project(x + start, x, eps).requires_grad_(True)
    opt = None
    if optimiser == "sgd":
        opt = torch.optim.SGD([x_adv], lr=lr, momentum=momentum)
    elif optimiser == "adam":
        opt = torch.optim.Adam([x_adv], lr=lr)
    for t in range(steps):
        scale = scale_at(t, steps)
        loss, pre = objective(x_adv, scale)
        record(t, scale, loss.detach(), pre.detach())
        (grad,) = torch.autograd.grad(loss.sum(), x_adv)
        with torch.no_grad():
            if opt is None:
                x_adv -= step_size * grad.sign()
            else:
                x_adv.grad = grad
                opt.step()
            x_adv.copy_(project(x_adv, x, eps))
    with torch.no_grad():
        scale = scale_at(steps - 1, steps) if steps else 1.0
        loss, pre = objective(x_adv, scale)
        record(steps, scale, loss, pre)
    return x_adv.detach()
