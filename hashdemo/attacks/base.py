"""The attack contract: a target-code strategy (prepare -> Plan), a loss, and the shared optimiser loop.

Attacks are stateless: they hold the model, what the attacker knows and the method's own parameters;
the budget (eps, step, T, random start, seed) and the loop come with each call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import torch

from ..core.errors import InvalidInputError
from ..core.params import Param, check_all
from ..core.progress import Progress, silent
from ..core.registry import Registry
from ..core.units import to_255
from ..data import ImageSet
from ..models import HashModel, binarize
from ..retrieval import metrics
from ..targets.codes import draw_target_labels
from .budget import Budget
from .loop import LOOP_PARAMS, Loop, optimise, random_start
from .result import AttackResult, Snapshot, Trace

Watch = Callable[[int, torch.Tensor, torch.Tensor | None], None]  # (t, Hamming to clean, to target) per iterate


@dataclass
class Knowledge:
    """What the attacker may use besides the model: training codes/labels, database codes/labels/images, and
    trained prototypes (THA's PrototypeNet, shipped or fitted by a defence)."""

    train_codes: torch.Tensor | None = None
    train_labels: torch.Tensor | None = None
    database_codes: torch.Tensor | None = None
    database_labels: torch.Tensor | None = None
    database_images: ImageSet | None = None
    prototypes: Any = None  # a prototype.PrototypeSource: label vectors -> prototype codes

    @classmethod
    def of(cls, system) -> Knowledge:
        data = system.dataset
        return cls(
            system.train_codes,
            data.train.labels,
            system.database_codes,
            data.database.labels,
            data.database,
            system.prototypes,
        )


@dataclass
class Plan:
    """What prepare() works out once per batch; subclasses add the loss's inputs (one row per query)."""

    target_code: torch.Tensor | None = None  # int8 (B, K): shown, traced and reported as a query row

    def select(self, index: torch.Tensor) -> Plan:
        """The plan of a subset of the batch's queries (every per-query tensor indexed alike)."""
        return replace(
            self,
            **{
                f.name: getattr(self, f.name)[index]
                for f in fields(self)
                if isinstance(getattr(self, f.name), torch.Tensor)
            },
        )


@dataclass(frozen=True)
class PaperSetting:
    """An attack's own optimiser in its paper: what the papers' protocols run it with."""

    steps: int
    loop: Loop
    source: str


@contextmanager
def evaluating(model: torch.nn.Module, train_mode: bool = False) -> Iterator[None]:
    """The model in eval mode for the attack (running BatchNorm statistics, none updated), as it was afterwards:
    a frozen model stays frozen, a model in training (a defence's inner attack) goes back to training.
    train_mode=True leaves it in train mode (batch statistics, running ones updated: ATRDH's authors' code)."""
    was_training = model.training
    model.train(train_mode)
    try:
        yield
    finally:
        model.train(was_training)


class Attack:
    """Base class. Subclasses set the class attributes and override prepare() and loss().

    `attack = hashdemo.attacks.get("pga", system)`; `attack(images, labels, budget=Budget.from_255(8, 1, 100))`
    takes images (B, C, H, W) in [0,1] and multi-hot labels (B, C) and returns an AttackResult on the images'
    device. `system` is a HashingSystem (its training and database codes are the attacker's knowledge), or a
    hash model (hashdemo.wrap(module)) with knowledge=Knowledge(...).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    group: ClassVar[str]  # "non-targeted" | "targeted" | "baseline"
    paper: ClassVar[str]
    equation: ClassVar[str]  # LaTeX of the loss, shown in the app
    targeted: ClassVar[bool] = False
    target_kind: ClassVar[str | None] = None  # name of the target code: "pharos", "anchor", "prototype", ...
    target_title: ClassVar[str | None] = None  # as a query row of its own (ProS-GAN Tables 1 and 4)
    needs_labels: ClassVar[bool] = False
    needs: ClassVar[tuple[str, ...]] = ()  # Knowledge fields required
    parameters: ClassVar[tuple[Param, ...]] = ()  # the method's own parameters, declared once
    random_start: ClassVar[bool] = False  # the paper's start: only PgA (Eq. 15) draws x_0 = x + U(-eps, eps)
    default_loop: ClassVar[Loop] = Loop()  # under PGD at a given budget (e.g. HAG's tanh schedule)
    paper_setting: ClassVar[PaperSetting | None] = None  # the paper's own optimiser and iterations
    fixed_steps: ClassVar[int | None] = None  # noise takes no step, FGSM exactly one
    open_set: ClassVar[bool] = True  # may aim at a class the model never saw in training
    open_set_reason: ClassVar[str] = ""
    uses_budget: ClassVar[bool] = True  # False: eps, step and T do not apply (unbounded ProS-GAN)
    eps_note: ClassVar[str] = ""  # how eps is read where it is not on [0,1] pixels (DHTA's authors' code)
    step_note: ClassVar[str] = ""  # the step's size and units where the budget's step does not apply

    def __init__(self, model, knowledge: Knowledge | None = None, **params: Any):
        if isinstance(model, HashModel):
            self.model, self.system = model, None
            self.knowledge = knowledge or Knowledge()
        elif isinstance(getattr(model, "model", None), HashModel):
            self.model, self.system = model.model, model
            self.knowledge = knowledge or Knowledge.of(model)
        else:
            raise InvalidInputError(
                f"an attack takes a HashingSystem or a hash model, got {type(model).__name__}: wrap a plain "
                "nn.Module first, hashdemo.wrap(module, output='pre-tanh', mean=..., std=...)"
            )
        self.params = check_all(self.parameters, params, self.title)
        for field_name in self.needs:
            if getattr(self.knowledge, field_name) is None:
                raise InvalidInputError(
                    f"{self.name} needs {field_name.replace('_', ' ')} "
                    "(pass a HashingSystem, or knowledge=Knowledge(...))"
                )

    def resources(self) -> dict[str, str]:
        """Digests of what the results depend on besides the model and the settings (ProS-GAN's generator file,
        THA's shipped prototypes): part of every cache key, so a replaced file is never answered from the cache."""
        return {}

    # ----- the three choices --------------------------------------------------------------------------
    def setup(self, progress: Progress = silent) -> None:
        """One-off work before the first batch (THA's PrototypeNet), timed apart from the attack; it reports
        its stage through progress(done, total, "what it is doing")."""

    def prepare(self, x: torch.Tensor, clean_pre: torch.Tensor, labels, target_labels, draw: torch.Generator) -> Plan:
        """The target-code strategy, once per batch."""
        return Plan()

    def loss(self, out: torch.Tensor, x_adv: torch.Tensor, x: torch.Tensor, plan: Plan, scale: float) -> torch.Tensor:
        """Per-query loss to minimise, from the tanh output tanh(scale * H) at the current scale."""
        raise NotImplementedError

    def objective(self, x_adv: torch.Tensor, x: torch.Tensor, scale: float, plan: Plan):
        pre = self.model.pre_tanh(x_adv)
        return self.loss(torch.tanh(scale * pre), x_adv, x, plan, scale), pre

    # ----- what a budget means for this attack --------------------------------------------------------
    @classmethod
    def steps_for(cls, budget: Budget) -> int:
        return budget.steps if cls.fixed_steps is None else cls.fixed_steps

    @classmethod
    def step_size_for(cls, budget: Budget) -> float:
        return budget.step

    @classmethod
    def random_start_for(cls, budget: Budget) -> bool:
        return cls.random_start if budget.random_start is None else budget.random_start

    def eps_for(self, budget: Budget) -> float:
        """The L-inf radius the loop projects onto (ProS-GAN, unbounded in its paper, may use the whole box)."""
        return budget.eps

    def start_point(self, x: torch.Tensor, plan: Plan, budget: Budget, generator: torch.Generator) -> torch.Tensor:
        """x_0: the clean image, or x + U(-eps, eps) with a random start (PgA Eq. 15)."""
        return random_start(x, self.eps_for(budget), generator) if self.random_start_for(budget) else x

    def effective(self, budget: Budget, loop: Loop) -> dict:
        """What this attack really runs with (for reports and exports): eps and step in 1/255, its T, start, loop."""
        return {"attack": self.name, **self.effective_budget(budget), **loop.to_json(), **self.params}

    def effective_budget(self, budget: Budget) -> dict:
        """The budget as this attack runs it: eps and step (effective_radii), T, start, seed."""
        return {
            **self.effective_radii(budget),
            "steps": self.steps_for(budget),
            "random_start": self.random_start_for(budget),
            "seed": budget.seed,
        }

    def effective_radii(self, budget: Budget) -> dict:
        """eps and step as this attack runs them, in 1/255 of [0,1] pixels."""
        return {"eps": to_255(self.eps_for(budget)), "step": to_255(self.step_size_for(budget))}

    # ----- running ----------------------------------------------------------------------------------
    def target_pool(self) -> torch.Tensor:
        labels = (
            self.knowledge.train_labels if self.knowledge.train_labels is not None else self.knowledge.database_labels
        )
        if labels is None:
            raise InvalidInputError(f"{self.name}: give target_labels (no dataset labels to draw them from)")
        return labels

    def __call__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        target_labels: torch.Tensor | None = None,
        *,
        budget: Budget,
        loop: Loop | None = None,
        record_at: Sequence[int] = (),
        keep_images: bool = False,
        progress: Progress = silent,
        early_exit: bool = True,
        watch: Watch | None = None,
        train_mode: bool = False,
    ) -> AttackResult:
        """Attack a batch (B, C, H, W) in [0,1]; snapshots of the iterates at `record_at` come with the result.
        early_exit=False computes every query at every iteration (the same result, slower: for the tests);
        `watch(t, hamming_to_clean, hamming_to_target)` sees each iterate's distances as they come (on the device:
        a watcher that draws copies them when it draws). train_mode=True runs the model in train mode, where
        BatchNorm's batch statistics tie the queries together, so every query is computed at every iteration."""
        loop = loop or self.default_loop
        check_loop(loop)
        steps = self.steps_for(budget)
        self._check_batch(images, labels, target_labels)
        if self.fixed_steps is None and any(not 0 <= n <= steps for n in record_at):
            raise InvalidInputError(f"snapshots must be taken at iterations 0..{steps}, got {sorted(record_at)}")
        wanted: dict[int, list[int]] = {}  # iterate -> the requested iterations it answers (noise, FGSM: the last)
        for n in record_at:
            wanted.setdefault(min(n, steps), []).append(n)
        device = next(self.model.parameters()).device
        generator = torch.Generator(device=device).manual_seed(budget.seed)
        draw = torch.Generator().manual_seed(budget.seed + 1)
        start = time.perf_counter()
        self.setup(progress)
        setup_seconds = time.perf_counter() - start
        start = time.perf_counter()
        if self.targeted and target_labels is None:
            target_labels = draw_target_labels(labels.cpu(), self.target_pool(), draw)
        x = images.detach().to(device)
        early_exit = early_exit and not train_mode
        with evaluating(self.model, train_mode):
            with torch.no_grad():
                clean_pre = self.model.pre_tanh(x)
            clean_codes = binarize(clean_pre)
            plan = self.prepare(x, clean_pre, labels, target_labels, draw)
            target_code = plan.target_code
            rows: dict[str, list] = {"loss": [], "clean": [], "target": [], "scale": []}
            snapshots: dict[int, Snapshot] = {}

            def record(t: int, scale: float, x_t: torch.Tensor, loss: torch.Tensor, pre: torch.Tensor) -> None:
                codes = binarize(pre)  # everything stays on the device: no synchronisation per iteration
                rows["last"] = codes
                rows["loss"].append(loss.float())
                rows["clean"].append((codes != clean_codes).sum(1))
                if target_code is not None:
                    rows["target"].append((codes != target_code).sum(1))
                if watch is not None:
                    watch(t, rows["clean"][-1], rows["target"][-1] if target_code is not None else None)
                rows["scale"].append(scale)
                if t in wanted:
                    shot = Snapshot(
                        codes,
                        metrics.perceptibility_rmse(x, x_t),
                        metrics.linf(x, x_t),
                        x_t.clone() if keep_images else None,
                    )
                    snapshots.update({n: shot for n in wanted[t]})
                progress(t, steps, self.name)

            selected: dict = {}  # the plan of the last subset of rows (early exit changes it rarely)

            def objective(xa: torch.Tensor, scale: float, rows: torch.Tensor | None):
                if rows is None:
                    return self.objective(xa, x, scale, plan)
                if selected.get("rows") is None or not torch.equal(selected["rows"], rows):
                    selected.update(rows=rows, x=x[rows], plan=plan.select(rows))
                return self.objective(xa, selected["x"], scale, selected["plan"])

            x_adv = optimise(
                x,
                self.start_point(x, plan, budget, generator),
                objective,
                record,
                eps=self.eps_for(budget),
                step_size=self.step_size_for(budget),
                steps=steps,
                loop=loop,
                early_exit=early_exit,
            )
        out = images.device
        trace = Trace(
            torch.stack(rows["loss"]).to(out),
            torch.stack(rows["clean"]).to(out),
            torch.stack(rows["target"]).to(out) if rows["target"] else None,
            torch.tensor(rows["scale"]),
        )
        seconds = time.perf_counter() - start
        return AttackResult(
            attack=self.name,
            images=images.detach(),
            adversarial=x_adv.to(out),
            clean_codes=clean_codes.to(out),
            adversarial_codes=rows["last"].to(out),
            target_codes=None if target_code is None else target_code.to(out),
            target_labels=None if target_labels is None else target_labels.bool().to(out),
            trace=trace,
            seconds=seconds,
            setup_seconds=setup_seconds,
            settings=self.effective(budget, loop),
            snapshots={n: shot.to(out) for n, shot in sorted(snapshots.items())},
            plan=plan,
        )

    def _check_batch(self, images: torch.Tensor, labels, target_labels) -> None:
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
            raise InvalidInputError("images must be a float tensor (B, C, H, W)")
        if images.numel() and (images.min() < 0 or images.max() > 1):
            raise InvalidInputError("images must be in [0, 1] (normalisation happens inside the model)")
        classes = self.num_classes
        for name, value in (("labels", labels), ("target_labels", target_labels)):
            if value is not None and (
                value.ndim != 2 or len(value) != len(images) or (classes and value.shape[1] != classes)
            ):
                raise InvalidInputError(
                    f"{name} must be multi-hot of shape ({len(images)}, {classes or 'C'}), got {tuple(value.shape)}"
                )
        if self.needs_labels and labels is None:
            raise InvalidInputError(f"{self.name} needs the queries' labels (labels=...)")
        if self.targeted and target_labels is None and labels is None:
            raise InvalidInputError(f"{self.name} is targeted: give target_labels, or labels to draw targets from")
        if target_labels is not None:
            if not target_labels.bool().any(1).all():
                raise InvalidInputError("every target label vector needs at least one class")
            if labels is not None and (target_labels.bool().cpu() & labels.bool().cpu()).any(1).any():
                raise InvalidInputError("a target label must differ from the query's labels (no shared class)")

    @property
    def num_classes(self) -> int | None:
        for labels in (self.knowledge.train_labels, self.knowledge.database_labels):
            if labels is not None:
                return labels.shape[1]
        return None


ATTACKS: Registry[type[Attack]] = Registry("attack")


def check_loop(loop: Loop) -> None:
    """Every loop option within its declared range; sgd and adam need a positive learning rate."""
    for param in LOOP_PARAMS:
        param.check(getattr(loop, param.name), "the loop")
    if loop.optimiser in ("sgd", "adam") and not loop.lr > 0:
        raise InvalidInputError(f"optimiser {loop.optimiser!r} needs a positive learning rate lr")
    if loop.optimiser == "apgd" and loop.schedule != "none":
        raise InvalidInputError(
            "apgd keeps each query's best point by its loss, which the tanh schedule changes from stage to stage: "
            "set schedule=none with optimiser=apgd"
        )
