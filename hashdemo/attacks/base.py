"""The attack base class: a target-code strategy (prepare), a loss, and the shared optimiser loop."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from ..data import ImageSet
from ..errors import InvalidInputError
from ..models import HashingModel, binarize
from ..progress import Progress, silent
from .loop import OPTIMISERS, SCHEDULES, optimise
from .result import AttackResult, Trace
from .targets import draw_target_labels


@dataclass
class Knowledge:
    """What the attacker may use besides the model: training codes/labels, database codes/labels/images."""

    train_codes: torch.Tensor | None = None
    train_labels: torch.Tensor | None = None
    database_codes: torch.Tensor | None = None
    database_labels: torch.Tensor | None = None
    database_images: ImageSet | None = None

    @classmethod
    def of(cls, system) -> Knowledge:
        data = system.dataset
        return cls(system.train_codes, data.train.labels, system.database_codes, data.database.labels, data.database)


class Attack:
    """Base class. Subclasses set the class attributes and override prepare() and loss()."""

    name: ClassVar[str]
    title: ClassVar[str]
    group: ClassVar[str]  # "non-targeted" | "targeted" | "baseline"
    paper: ClassVar[str]
    equation: ClassVar[str]  # LaTeX of the loss, shown in the app
    targeted: ClassVar[bool] = False
    target_kind: ClassVar[str | None] = None  # name of the target code: "pharos", "anchor", "prototype", ...
    needs_labels: ClassVar[bool] = False
    needs: ClassVar[tuple[str, ...]] = ()  # Knowledge fields required
    method_defaults: ClassVar[dict[str, Any]] = {}
    loop_defaults: ClassVar[dict[str, Any]] = {}
    paper_settings: ClassVar[dict[str, Any]] = {}  # the paper's own optimiser setting, one click away

    def __init__(
        self,
        model,
        *,
        eps: float = 8 / 255,
        alpha: float = 1 / 255,
        steps: int = 100,
        random_start: bool | None = None,
        seed: int = 0,
        optimiser: str | None = None,
        lr: float | None = None,
        schedule: str | None = None,
        knowledge: Knowledge | None = None,
        **method_params,
    ):
        self.model: HashingModel = model if isinstance(model, HashingModel) else model.model
        self.knowledge = knowledge or (Knowledge() if isinstance(model, HashingModel) else Knowledge.of(model))
        loop = {"random_start": True, "optimiser": "pgd", "lr": None, "schedule": "none", **self.loop_defaults}
        given = {"random_start": random_start, "optimiser": optimiser, "lr": lr, "schedule": schedule}
        loop.update({k: v for k, v in given.items() if v is not None})
        unknown = set(method_params) - set(self.method_defaults)
        if unknown:
            raise InvalidInputError(
                f"{self.name} has no parameter {', '.join(sorted(unknown))}; "
                f"it takes {', '.join(self.method_defaults) or 'none'}"
            )
        self.eps, self.alpha, self.steps, self.seed = float(eps), float(alpha), int(steps), int(seed)
        self.random_start, self.optimiser = bool(loop["random_start"]), loop["optimiser"]
        self.lr, self.schedule = loop["lr"], loop["schedule"]
        self.params = {**self.method_defaults, **method_params}
        self.validate()

    # ----- validation -------------------------------------------------------------------------------
    def validate(self) -> None:
        if not 0 <= self.eps <= 1:
            raise InvalidInputError(
                f"eps must be in [0, 1] (pixels are in [0,1]; 8/255 = {8 / 255:.4f}), got {self.eps}"
            )
        if self.alpha <= 0:
            raise InvalidInputError(f"step size alpha must be positive, got {self.alpha}")
        if self.steps < 1:
            raise InvalidInputError(f"steps must be at least 1, got {self.steps}")
        if self.optimiser not in OPTIMISERS:
            raise InvalidInputError(f"optimiser must be one of {', '.join(OPTIMISERS)}, got {self.optimiser!r}")
        if self.optimiser != "pgd" and not (self.lr and self.lr > 0):
            raise InvalidInputError(f"optimiser {self.optimiser!r} needs a positive learning rate lr")
        if self.schedule not in SCHEDULES:
            raise InvalidInputError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        for field_name in self.needs:
            if getattr(self.knowledge, field_name) is None:
                raise InvalidInputError(
                    f"{self.name} needs {field_name.replace('_', ' ')} "
                    "(pass a HashingSystem, or knowledge=Knowledge(...))"
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
            if labels is not None and (target_labels.bool() & labels.bool()).any(1).any():
                raise InvalidInputError("a target label must differ from the query's labels (no shared class)")

    @property
    def num_classes(self) -> int | None:
        for labels in (self.knowledge.train_labels, self.knowledge.database_labels):
            if labels is not None:
                return labels.shape[1]
        return None

    # ----- the three choices --------------------------------------------------------------------------
    def prepare(self, x: torch.Tensor, clean_pre: torch.Tensor, labels, target_labels, draw: torch.Generator) -> dict:
        """The target-code strategy: returns a plan dict; plan['target_code'] is shown and traced if present."""
        return {}

    def loss(self, out: torch.Tensor, x_adv: torch.Tensor, x: torch.Tensor, plan: dict, scale: float) -> torch.Tensor:
        """Per-query loss to minimise, from the tanh output tanh(scale * H) at the current scale."""
        raise NotImplementedError

    def objective(self, x_adv: torch.Tensor, x: torch.Tensor, scale: float, plan: dict):
        pre = self.model.pre_tanh(x_adv)
        return self.loss(torch.tanh(scale * pre), x_adv, x, plan, scale), pre

    def loop_steps(self) -> int:
        return self.steps

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
        progress: Progress = silent,
    ) -> AttackResult:
        self._check_batch(images, labels, target_labels)
        device = next(self.model.parameters()).device
        generator = torch.Generator(device=device).manual_seed(self.seed)
        draw = torch.Generator().manual_seed(self.seed + 1)
        start = time.perf_counter()
        if self.targeted and target_labels is None:
            target_labels = draw_target_labels(labels, self.target_pool(), draw)
        x = images.detach().to(device)
        with torch.no_grad():
            clean_pre = self.model.pre_tanh(x)
        clean_codes = binarize(clean_pre)
        plan = self.prepare(x, clean_pre, labels, target_labels, draw)
        setup = plan.pop("setup_seconds", 0.0)
        target_code = plan.get("target_code")
        rows: dict[str, list] = {"loss": [], "clean": [], "target": [], "scale": []}

        def record(t: int, scale: float, loss: torch.Tensor, pre: torch.Tensor) -> None:
            codes = binarize(pre)
            rows["last"] = codes
            rows["loss"].append(loss.float().cpu())
            rows["clean"].append((codes != clean_codes).sum(1).cpu())
            if target_code is not None:
                rows["target"].append((codes != target_code).sum(1).cpu())
            rows["scale"].append(scale)
            progress(t, self.loop_steps(), self.name)

        x_adv = optimise(
            x,
            lambda xa, s: self.objective(xa, x, s, plan),
            record,
            eps=self.eps,
            step_size=self.alpha,
            steps=self.loop_steps(),
            random_start=self.random_start,
            generator=generator,
            optimiser=self.optimiser,
            lr=self.lr,
            schedule=self.schedule,
        )
        adv_codes = rows["last"]
        seconds = time.perf_counter() - start - setup
        trace = Trace(
            torch.stack(rows["loss"]),
            torch.stack(rows["clean"]),
            torch.stack(rows["target"]) if rows["target"] else None,
            torch.tensor(rows["scale"]),
        )
        return AttackResult(
            attack=self.name,
            images=images.detach().cpu(),
            adversarial=x_adv.cpu(),
            clean_codes=clean_codes.cpu(),
            adversarial_codes=adv_codes.cpu(),
            target_codes=None if target_code is None else target_code.cpu(),
            target_labels=None if target_labels is None else target_labels.bool().cpu(),
            trace=trace,
            seconds=seconds,
            setup_seconds=setup,
            params=self.settings(),
        )

    def settings(self) -> dict:
        """Every setting that determines the result (for tables, caches and exports)."""
        return {
            "attack": self.name,
            "eps": self.eps,
            "alpha": self.alpha,
            "steps": self.loop_steps(),
            "random_start": self.random_start,
            "seed": self.seed,
            "optimiser": self.optimiser,
            "lr": self.lr,
            "schedule": self.schedule,
            **self.params,
        }
