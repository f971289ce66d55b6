"""The one optimiser loop every iterative attack shares: PGD (sign step), SGD with momentum or Adam,
L-inf projection onto the eps-ball and [0,1], optional random start and tanh(alpha * H) schedule."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from ..params import Param

# (x', scale, rows) -> (loss (b,), H (b, K)) for those rows of the batch (None: every row)
Objective = Callable[[torch.Tensor, float, torch.Tensor | None], tuple[torch.Tensor, torch.Tensor]]
Recorder = Callable[[int, float, torch.Tensor, torch.Tensor, torch.Tensor], None]  # (t, scale, x_t, loss, H)
OPTIMISERS = ("pgd", "apgd", "sgd", "adam")
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
    Param(
        "patience",
        0,
        "PGD: stop a query whose code has not changed for this many iterations (0 = never). Faster, but it can "
        "change the result; no paper's protocol uses it",
        0,
        None,
        integer=True,
    ),
)
MIN_ROWS = 16  # fewer rows take other kernels on this CPU (measured), so compaction never goes below


@dataclass(frozen=True)
class Loop:
    """How an attack searches the eps-ball (the budget says how far and how long)."""

    optimiser: str = "pgd"
    lr: float = 0.0
    momentum: float = 0.9
    schedule: str = "none"
    patience: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def project(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
    """Clip to the L-inf eps-ball around x and to valid pixels [0,1] (HAG Eq. 4, PGD's S_eps)."""
    return torch.minimum(torch.maximum(x_adv, x - eps), x + eps).clamp_(0.0, 1.0)


def optimise(
    x: torch.Tensor,
    x0: torch.Tensor,
    objective: Objective,
    record: Recorder,
    *,
    eps: float,
    step_size: float,
    steps: int,
    loop: Loop,
    early_exit: bool = True,
) -> torch.Tensor:
    """From the start x0, minimise objective(x', scale).sum() over the eps-ball around x; record(t, scale, x_t,
    loss, H) at each iterate t = 0..steps.

    Each query's loss depends on its own image only, so summing keeps the per-query gradients intact.
    PGD: x' <- S(x' - step * sign(grad)) (PgA Eq. 15); APGD; SGD / Adam: the optimiser's step, then S.
    """
    if loop.optimiser == "apgd":
        return apgd(x, x0, objective, record, eps=eps, steps=steps, loop=loop)
    if loop.optimiser == "pgd":
        return pgd(
            x, x0, objective, record, eps=eps, step_size=step_size, steps=steps, loop=loop, early_exit=early_exit
        )
    scale_at = SCHEDULES[loop.schedule]
    x = x.detach()
    x_adv = project(x0.detach(), x, eps).requires_grad_(True)
    if loop.optimiser == "sgd":
        opt = torch.optim.SGD([x_adv], lr=loop.lr, momentum=loop.momentum)
    else:
        opt = torch.optim.Adam([x_adv], lr=loop.lr)
    for t in range(steps):
        scale = scale_at(t, steps)
        loss, pre = objective(x_adv, scale, None)
        record(t, scale, x_adv.detach(), loss.detach(), pre.detach())
        (grad,) = torch.autograd.grad(loss.sum(), x_adv)
        with torch.no_grad():
            x_adv.grad = grad
            opt.step()
            x_adv.copy_(project(x_adv, x, eps))
    with torch.no_grad():
        scale = scale_at(steps - 1, steps) if steps else 1.0
        loss, pre = objective(x_adv, scale, None)
        record(steps, scale, x_adv.detach(), loss, pre)
    return x_adv.detach()


def pgd(
    x: torch.Tensor,
    x0: torch.Tensor,
    objective: Objective,
    record: Recorder,
    *,
    eps: float,
    step_size: float,
    steps: int,
    loop: Loop,
    early_exit: bool = True,
) -> torch.Tensor:
    """PGD with exact early exit: a query whose input gradient is exactly zero takes a zero sign step, so it stays
    where it is, and at the same tanh scale its next gradient is zero again; it leaves the batch until the scale
    changes (then it is evaluated again). Its trace repeats its last values. Every output is bit-identical to
    the loop without early exit (tests/test_speed.py); the batch never shrinks below MIN_ROWS rows.

    With loop.patience > 0 a query whose code has not changed for that many iterations stops for good: that
    rule can change results and is recorded with the loop's settings.
    """
    scale_at = SCHEDULES[loop.schedule]
    x = x.detach()
    x_adv = project(x0.detach(), x, eps)
    count = len(x)
    frozen = torch.zeros(count, dtype=torch.bool, device=x.device)  # exact: zero gradient at this scale
    stopped = torch.zeros(count, dtype=torch.bool, device=x.device)  # patience: stopped for good
    unchanged = torch.zeros(count, dtype=torch.long, device=x.device)
    last_loss = last_pre = None
    scale_before = None
    for t in range(steps + 1):
        scale = scale_at(min(t, steps - 1), steps) if steps else 1.0
        if scale != scale_before:
            frozen[:] = False  # a new tanh scale may move a frozen query again
            scale_before = scale
        idle = frozen | stopped
        rows = None if not idle.any() else torch.nonzero(~idle).flatten()
        if rows is not None and len(rows) < min(MIN_ROWS, count):
            padding = torch.nonzero(idle).flatten()[: min(MIN_ROWS, count) - len(rows)]
            rows = torch.cat([rows, padding])
        point = (x_adv if rows is None else x_adv[rows]).clone().requires_grad_(t < steps)
        with torch.set_grad_enabled(t < steps):
            loss, pre = objective(point, scale, rows)
        if rows is None:
            full_loss, full_pre = loss.detach(), pre.detach()
        else:
            moving = ~idle[rows]  # padding rows keep what they had (they are evaluated only to fill the batch)
            full_loss, full_pre = last_loss.clone(), last_pre.clone()
            full_loss[rows[moving]], full_pre[rows[moving]] = loss.detach()[moving], pre.detach()[moving]
        if loop.patience and last_pre is not None:
            same = ((full_pre > 0) == (last_pre > 0)).all(1)
            unchanged = torch.where(same, unchanged + 1, torch.zeros_like(unchanged))
            stopped |= unchanged >= loop.patience
        record(t, scale, x_adv, full_loss, full_pre)
        last_loss, last_pre = full_loss, full_pre
        if t == steps:
            break
        (grad,) = torch.autograd.grad(loss.sum(), point)
        with torch.no_grad():
            if rows is None:
                x_adv = project(x_adv - step_size * grad.sign(), x, eps)
                if early_exit:
                    frozen = (grad.flatten(1) == 0).all(1)
            else:
                update = rows[moving]
                x_adv[update] = project(x_adv[update] - step_size * grad[moving].sign(), x[update], eps)
                if early_exit:
                    frozen[update] = (grad[moving].flatten(1) == 0).all(1)
            if not early_exit:
                frozen[:] = False
    return x_adv.detach()


APGD_MOMENTUM, APGD_RHO = 0.75, 0.75


def apgd_checkpoints(steps: int) -> list[int]:
    """Iterations at which APGD may halve its step: w_j = ceil(p_j T), p_0 = 0, p_1 = 0.22,
    p_(j+1) = p_j + max(p_j - p_(j-1) - 0.03, 0.06) (Croce & Hein 2020, Sec. 3.2)."""
    p = [0.0, 0.22]
    while p[-1] < 1:
        p.append(p[-1] + max(p[-1] - p[-2] - 0.03, 0.06))
    return sorted({math.ceil(q * steps) for q in p if 0 < math.ceil(q * steps) < steps})


def apgd(
    x: torch.Tensor, x0: torch.Tensor, objective: Objective, record: Recorder, *, eps: float, steps: int, loop: Loop
) -> torch.Tensor:
    """APGD for L-inf (Croce & Hein 2020, Algorithm 1) minimising each query's loss: step 2 eps, momentum 0.75;
    at each checkpoint a query whose loss fell in fewer than 75% of the steps since the last one, or whose step and
    best loss did not change, halves its step and restarts from its best point. Returns each query's best point."""
    scale_at = SCHEDULES[loop.schedule]
    x = x.detach()
    shape = (-1,) + (1,) * (x.ndim - 1)

    def evaluate(point: torch.Tensor, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        point = point.detach().requires_grad_(True)
        scale = scale_at(t, steps)
        loss, pre = objective(point, scale, None)
        record(t, scale, point.detach(), loss.detach(), pre.detach())
        (grad,) = torch.autograd.grad(loss.sum(), point)
        return loss.detach(), grad

    current = project(x0.detach(), x, eps)
    loss, grad = evaluate(current, 0)
    step = torch.full((len(x),), 2 * eps, device=x.device)
    best, best_loss, best_grad = current.clone(), loss.clone(), grad.clone()
    previous = current
    improved = torch.zeros(len(x), device=x.device)
    checkpoints, last = apgd_checkpoints(steps), 0
    step_at_last, best_at_last = step.clone(), best_loss.clone()
    for t in range(steps):
        z = project(current - step.view(shape) * grad.sign(), x, eps)
        momentum = APGD_MOMENTUM if t > 0 else 1.0
        following = project(current + momentum * (z - current) + (1 - momentum) * (current - previous), x, eps)
        previous, current = current, following
        if t + 1 == steps:
            break
        new_loss, new_grad = evaluate(current, t + 1)
        improved += (new_loss < loss).float()
        better = new_loss < best_loss
        best[better], best_loss[better], best_grad[better] = current[better], new_loss[better], new_grad[better]
        loss, grad = new_loss, new_grad
        if t + 1 in checkpoints:
            stalled = (improved < APGD_RHO * (t + 1 - last)) | ((step == step_at_last) & (best_loss == best_at_last))
            step_at_last, best_at_last = step.clone(), best_loss.clone()
            step = torch.where(stalled, step / 2, step)
            current = torch.where(stalled.view(shape), best, current)
            previous = torch.where(stalled.view(shape), best, previous)
            loss = torch.where(stalled, best_loss, loss)
            grad = torch.where(stalled.view(shape), best_grad, grad)
            improved.zero_()
            last = t + 1
    with torch.no_grad():
        loss, _ = objective(current, scale_at(steps - 1, steps), None)
        better = loss < best_loss
        best[better] = current[better]
        scale = scale_at(steps - 1, steps)
        final_loss, pre = objective(best, scale, None)
        record(steps, scale, best, final_loss, pre)
    return best.detach()
