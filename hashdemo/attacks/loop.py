"""The one optimiser loop of every iterative attack (and of the defences, which run attacks): a driver that
evaluates the objective, records each iterate and projects onto the eps-ball, and small step rules that only
say how x' moves from its gradient: PGD's sign step, the L2-normalised step, APGD, SGD with momentum, Adam.

eps and the step size are floats on [0,1] pixels, or per-channel tensors (1, C, 1, 1) where an attack reads them
in its model's normalised units (DHTA's authors' code)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch

from ..core.params import Param, declared, setting

# (x', scale, rows) -> (loss (b,), H (b, K)) for those rows of the batch (None: every row)
Objective = Callable[[torch.Tensor, float, torch.Tensor | None], tuple[torch.Tensor, torch.Tensor]]
Recorder = Callable[[int, float, torch.Tensor, torch.Tensor, torch.Tensor], None]  # (t, scale, x_t, loss, H)
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


Radius = float | torch.Tensor  # on [0,1] pixels: one value, or one per channel (1, C, 1, 1)


def project(x_adv: torch.Tensor, x: torch.Tensor, eps: Radius) -> torch.Tensor:
    """Clip to the L-inf eps-ball around x and to valid pixels [0,1] (HAG Eq. 4, PGD's S_eps)."""
    return torch.minimum(torch.maximum(x_adv, x - eps), x + eps).clamp_(0.0, 1.0)


def random_start(x: torch.Tensor, eps: Radius, generator: torch.Generator) -> torch.Tensor:
    """x_0 = x + U(-eps, eps) (PgA Eq. 15), drawn with `generator` (it lives on x's device)."""
    if isinstance(eps, torch.Tensor):
        return x + torch.empty_like(x).uniform_(-1.0, 1.0, generator=generator) * eps
    return x + torch.empty_like(x).uniform_(-eps, eps, generator=generator)


class StepRule:
    """How one iteration moves x' given its gradient. The driver evaluates, records and projects; `compacts`
    rules may be given a subset of the batch's rows (the queries that still move)."""

    compacts: ClassVar[bool] = False

    def __init__(self, x: torch.Tensor, start: torch.Tensor, *, eps: Radius, step_size: Radius, steps: int, loop: Loop):
        self.x, self.eps, self.step_size, self.steps, self.loop = x, eps, step_size, steps, loop

    def step(self, t: int, x_adv: torch.Tensor, grad: torch.Tensor, loss: torch.Tensor, rows) -> torch.Tensor:
        """x_(t+1) from x_t, the gradient of its rows `rows` (None: all) and their loss."""
        raise NotImplementedError

    def finish(self, x_adv: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:
        """The point the attack returns, given the last iterate and its loss."""
        return x_adv


class SignStep(StepRule):
    """PGD: x' <- S(x' - step * sign(grad)) (PgA Eq. 15)."""

    compacts = True

    def step(self, t, x_adv, grad, loss, rows):
        if rows is None:
            return project(x_adv - self.step_size * grad.sign(), self.x, self.eps)
        x_adv[rows] = project(x_adv[rows] - self.step_size * grad.sign(), self.x[rows], self.eps)
        return x_adv


class L2Step(StepRule):
    """The DHTA authors' step: x' <- S(x' - s u / ||u||_2) with u = s grad, per query.

    With a scalar step s this is the L2-normalised gradient step of size s. With a per-channel s = alpha * std
    it is their step of alpha in the model's normalised units (x_norm = (x - mean) / std), written on pixels."""

    compacts = True

    def step(self, t, x_adv, grad, loss, rows):
        s = self.step_size
        scaled = grad * s
        norm = scaled.flatten(1).norm(dim=1).clamp_min(torch.finfo(grad.dtype).tiny).view(-1, *([1] * (grad.ndim - 1)))
        moved = s * scaled / norm
        if rows is None:
            return project(x_adv - moved, self.x, self.eps)
        x_adv[rows] = project(x_adv[rows] - moved, self.x[rows], self.eps)
        return x_adv


class TorchOptimiserStep(StepRule):
    """SGD with momentum (HAG Sec. IV-C) or Adam (SDHA's public code) on x', then the projection S."""

    def __init__(self, x, start, *, eps, step_size, steps, loop):
        super().__init__(x, start, eps=eps, step_size=step_size, steps=steps, loop=loop)
        self.point = start.clone().requires_grad_(True)
        if loop.optimiser == "sgd":
            self.optimiser = torch.optim.SGD([self.point], lr=loop.lr, momentum=loop.momentum)
        else:
            self.optimiser = torch.optim.Adam([self.point], lr=loop.lr)

    def step(self, t, x_adv, grad, loss, rows):
        self.point.grad = grad
        self.optimiser.step()
        self.point.copy_(project(self.point, self.x, self.eps))
        return self.point.detach()


APGD_MOMENTUM, APGD_RHO = 0.75, 0.75


def apgd_checkpoints(steps: int) -> list[int]:
    """Iterations at which APGD may halve its step: w_j = ceil(p_j T), p_0 = 0, p_1 = 0.22,
    p_(j+1) = p_j + max(p_j - p_(j-1) - 0.03, 0.06) (Croce & Hein 2020, Sec. 3.2)."""
    p = [0.0, 0.22]
    while p[-1] < 1:
        p.append(p[-1] + max(p[-1] - p[-2] - 0.03, 0.06))
    return sorted({math.ceil(q * steps) for q in p if 0 < math.ceil(q * steps) < steps})


class APGDStep(StepRule):
    """APGD for L-inf (Croce & Hein 2020, Algorithm 1) minimising each query's loss: step 2 eps, momentum 0.75;
    at each checkpoint a query whose loss fell in fewer than 75% of the steps since the last one, or whose step and
    best loss did not change, halves its step and restarts from its best point. Returns each query's best point."""

    def __init__(self, x, start, *, eps, step_size, steps, loop):
        super().__init__(x, start, eps=eps, step_size=step_size, steps=steps, loop=loop)
        self.shape = (-1,) + (1,) * (x.ndim - 1)
        self.size = torch.full((len(x),), 2 * eps, device=x.device)
        self.improved = torch.zeros(len(x), device=x.device)
        self.checkpoints, self.last = apgd_checkpoints(steps), 0
        self.best = None

    def step(self, t, x_adv, grad, loss, rows):
        if self.best is None:  # x_0
            self.previous = x_adv
            self.best, self.best_loss, self.best_grad = x_adv.clone(), loss.clone(), grad.clone()
            self.size_at_last, self.best_at_last = self.size.clone(), self.best_loss.clone()
        else:
            self.improved += (loss < self.loss).float()
            better = loss < self.best_loss
            self.best[better], self.best_loss[better], self.best_grad[better] = (
                x_adv[better],
                loss[better],
                grad[better],
            )
            if t in self.checkpoints:
                stalled = (self.improved < APGD_RHO * (t - self.last)) | (
                    (self.size == self.size_at_last) & (self.best_loss == self.best_at_last)
                )
                self.size_at_last, self.best_at_last = self.size.clone(), self.best_loss.clone()
                self.size = torch.where(stalled, self.size / 2, self.size)
                x_adv = torch.where(stalled.view(self.shape), self.best, x_adv)
                self.previous = torch.where(stalled.view(self.shape), self.best, self.previous)
                loss = torch.where(stalled, self.best_loss, loss)
                grad = torch.where(stalled.view(self.shape), self.best_grad, grad)
                self.improved.zero_()
                self.last = t
        self.loss = loss
        z = project(x_adv - self.size.view(self.shape) * grad.sign(), self.x, self.eps)
        momentum = APGD_MOMENTUM if t > 0 else 1.0
        following = project(x_adv + momentum * (z - x_adv) + (1 - momentum) * (x_adv - self.previous), self.x, self.eps)
        self.previous = x_adv
        return following

    def finish(self, x_adv, loss):
        if self.best is None:
            return x_adv
        better = loss < self.best_loss
        self.best[better] = x_adv[better]
        return self.best


RULES: dict[str, type[StepRule]] = {
    "pgd": SignStep,
    "l2": L2Step,
    "apgd": APGDStep,
    "sgd": TorchOptimiserStep,
    "adam": TorchOptimiserStep,
}

OPTIMISER = Param(
    "optimiser",
    "pgd",
    "pgd: sign step of size `step` (PgA Eq. 15); l2: step of L2 length `step` along the gradient (DHTA's "
    "authors' code); apgd: Croce & Hein 2020; sgd / adam: the papers' optimisers",
    choices=tuple(RULES),
)
LR = Param("lr", 0.0, "learning rate of sgd / adam on [0,1] pixels (HAG: 500/255^2)", 0.0, None)
MOMENTUM = Param("momentum", 0.9, "momentum of sgd (HAG: 0.9)", 0.0, 1.0, open_high=True)
SCHEDULE = Param("schedule", "none", "hag: tanh(alpha H) with alpha 0.1 -> 1 (HAG Eq. 10)", choices=tuple(SCHEDULES))
PATIENCE = Param(
    "patience",
    0,
    "PGD: stop a query whose code has not changed for this many iterations (0 = never). Faster, but it can "
    "change the result; no paper's protocol uses it",
    0,
    None,
    integer=True,
)
MIN_ROWS = 16  # fewer rows take other kernels on this CPU (measured), so compaction never goes below


@dataclass(frozen=True)
class Loop:
    """How an attack searches the eps-ball (the budget says how far and how long); each field is a run setting."""

    optimiser: str = setting(OPTIMISER, "loop")
    lr: float = setting(LR, "loop")
    momentum: float = setting(MOMENTUM, "loop")
    schedule: str = setting(SCHEDULE, "loop")
    patience: int = setting(PATIENCE, "loop")

    def to_json(self) -> dict:
        return asdict(self)


LOOP_PARAMS = declared(Loop)


def optimise(
    x: torch.Tensor,
    x0: torch.Tensor,
    objective: Objective,
    record: Recorder,
    *,
    eps: Radius,
    step_size: Radius,
    steps: int,
    loop: Loop,
    early_exit: bool = True,
) -> torch.Tensor:
    """From the start x0, minimise objective(x', scale).sum() over the eps-ball around x; record(t, scale, x_t,
    loss, H) at each iterate t = 0..steps (at t = steps: the point returned).

    Each query's loss depends on its own image only, so summing keeps the per-query gradients intact.
    With a rule that compacts (PGD), a query whose input gradient is exactly zero takes a zero sign step, so it
    stays where it is, and at the same tanh scale its next gradient is zero again: it leaves the batch until the
    scale changes (then it is evaluated again) and its trace repeats its last values. Every output is bit-identical
    to early_exit=False (tests/test_attack_loop.py); the batch never shrinks below MIN_ROWS rows. With
    loop.patience > 0 a query whose code has not changed for that many iterations stops for good: that rule can
    change results and is recorded with the loop's settings.
    """
    scale_at = SCHEDULES[loop.schedule]
    x = x.detach()
    x_adv = project(x0.detach(), x, eps)
    rule = RULES[loop.optimiser](x, x_adv, eps=eps, step_size=step_size, steps=steps, loop=loop)
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
        rows = None
        if rule.compacts:
            idle = frozen | stopped
            if idle.any():
                rows = torch.nonzero(~idle).flatten()
                if len(rows) < min(MIN_ROWS, count):
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
        if loop.patience and rule.compacts and last_pre is not None:
            same = ((full_pre > 0) == (last_pre > 0)).all(1)
            unchanged = torch.where(same, unchanged + 1, torch.zeros_like(unchanged))
            stopped |= unchanged >= loop.patience
        if t == steps:
            final = rule.finish(x_adv, full_loss)
            if final is not x_adv:
                with torch.no_grad():
                    full_loss, full_pre = objective(final, scale, None)
            record(t, scale, final, full_loss, full_pre)
            return final.detach()
        record(t, scale, x_adv, full_loss, full_pre)
        last_loss, last_pre = full_loss, full_pre
        (grad,) = torch.autograd.grad(loss.sum(), point)
        with torch.no_grad():
            if rows is None:
                x_adv = rule.step(t, x_adv, grad, full_loss, None)
                if early_exit and rule.compacts:
                    frozen = (grad.flatten(1) == 0).all(1)
            else:
                update = rows[moving]
                x_adv = rule.step(t, x_adv, grad[moving], full_loss[update], update)
                if early_exit:
                    frozen[update] = (grad[moving].flatten(1) == 0).all(1)
            if not early_exit:
                frozen[:] = False
    raise AssertionError("unreachable: the loop returns at t = steps")
