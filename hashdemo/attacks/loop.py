"""The one optimiser loop every iterative attack shares: PGD (sign step), SGD with momentum or Adam,
L-inf projection onto the eps-ball and [0,1], optional random start and tanh(alpha * H) schedule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from ..budget import Budget
from ..params import Param

Objective = Callable[[torch.Tensor, float], tuple[torch.Tensor, torch.Tensor]]  # (x', scale) -> (loss (B,), H (B,K))
Recorder = Callable[[int, float, torch.Tensor, torch.Tensor, torch.Tensor], None]  # (t, scale, x_t, loss, H)
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

LOOP_PARAMS = (
    Param(
        "optimiser",
        "pgd",
        "pgd: sign step of size `step` (PgA Eq. 15); sgd / adam: the papers' optimisers",
        choices=OPTIMISERS,
    ),
    Param("lr", 0.0, "learning rate of sgd / adam on [0,1] pixels (HAG: 500/255^2)", 0.0, None),
    Param("momentum", 0.9, "momentum of sgd (HAG: 0.9)", 0.0, 1.0, open_high=True),
    Param("schedule", "none", "hag: tanh(alpha H) with alpha 0.1 -> 1 (HAG Eq. 10)", choices=tuple(SCHEDULES)),
)


@dataclass(frozen=True)
class Loop:
    """How an attack searches the eps-ball (the budget says how far and how long)."""

    optimiser: str = "pgd"
    lr: float = 0.0
    momentum: float = 0.9
    schedule: str = "none"

    def to_json(self) -> dict:
        return asdict(self)


def project(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
    """Clip to the L-inf eps-ball around x and to valid pixels [0,1] (HAG Eq. 4, PGD's S_eps)."""
    return torch.minimum(torch.maximum(x_adv, x - eps), x + eps).clamp_(0.0, 1.0)


def optimise(
    x: torch.Tensor,
    objective: Objective,
    record: Recorder,
    *,
    budget: Budget,
    loop: Loop,
    random_start: bool,
    generator: torch.Generator,
    steps: int | None = None,
    step_size: float | None = None,
) -> torch.Tensor:
    """Minimise objective(x', scale).sum() over the eps-ball; record(t, scale, x_t, loss, H) at each iterate 0..T.

    Each query's loss depends on its own image only, so summing keeps the per-query gradients intact.
    PGD: x' <- S(x' - step * sign(grad)) (PgA Eq. 15); SGD / Adam: the optimiser's step, then S.
    `steps` / `step_size` override the budget's (FGSM takes one step of eps, noise none).
    """
    steps = budget.steps if steps is None else steps
    step_size = budget.step if step_size is None else step_size
    eps = budget.eps
    scale_at = SCHEDULES[loop.schedule]
    x = x.detach()
    start = torch.empty_like(x).uniform_(-eps, eps, generator=generator) if random_start else torch.zeros_like(x)
    x_adv = project(x + start, x, eps).requires_grad_(True)
    opt = None
    if loop.optimiser == "sgd":
        opt = torch.optim.SGD([x_adv], lr=loop.lr, momentum=loop.momentum)
    elif loop.optimiser == "adam":
        opt = torch.optim.Adam([x_adv], lr=loop.lr)
    for t in range(steps):
        scale = scale_at(t, steps)
        loss, pre = objective(x_adv, scale)
        record(t, scale, x_adv.detach(), loss.detach(), pre.detach())
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
        record(steps, scale, x_adv.detach(), loss, pre)
    return x_adv.detach()
