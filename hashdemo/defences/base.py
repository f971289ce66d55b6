"""Adversarial training: a defence makes an adversarial copy of each training batch with an attack of the
library and adds a term that pulls it back; the one training loop (hashdemo.train) calls it per batch."""

from __future__ import annotations

from typing import ClassVar

import torch

from ..attacks.loop import Loop, optimise
from ..budget import Budget
from ..data import RetrievalDataset
from ..encoding import encode
from ..models import HashingModel


class Defence:
    """Subclasses name the target of the inner attack (target_codes), its loss (attack_loss) and the training
    term added to the method's own loss (loss). The inner attack runs on the model in eval mode (running
    BatchNorm statistics, no update of them), from a random start, by PGD."""

    name: ClassVar[str]
    title: ClassVar[str]
    paper: ClassVar[str]

    def __init__(self, budget: Budget, num_classes: int, bits: int, seed: int = 0):
        self.budget = budget
        self.num_classes, self.bits = num_classes, bits
        self.generator = torch.Generator().manual_seed(seed + 2)
        self.train_codes: torch.Tensor | None = None
        self.train_labels: torch.Tensor | None = None

    def start_epoch(self, model: HashingModel, data: RetrievalDataset, epoch: int) -> None:
        """Refresh what the inner attack knows: the codes the model now gives its training set."""
        was_training = model.training
        model.eval()
        self.train_codes = encode(model, data.train)
        self.train_labels = data.train.labels
        model.train(was_training)

    def state(self) -> dict[str, torch.Tensor]:
        """What resuming needs beyond the model (the random state of the inner attack's draws)."""
        return {"rng": self.generator.get_state()}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(tensors["rng"])

    def target_codes(self, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def attack_loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(
        self, u_clean: torch.Tensor, u_adv: torch.Tensor, labels: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        raise NotImplementedError

    def objective(
        self, model: HashingModel, x_adv: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-image attack loss on tanh(H), H) for the PGD loop."""
        pre = model.pre_tanh(x_adv)
        return self.attack_loss(torch.tanh(pre), target), pre

    def adversarial(
        self, model: HashingModel, x: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(x', the target codes it was made with): PGD within the budget from x + U(-eps, eps)."""
        target = self.target_codes(labels.cpu()).to(x.device).float()
        was_training = model.training
        model.eval()
        start = x + torch.empty_like(x).uniform_(-self.budget.eps, self.budget.eps, generator=self.generator)
        x_adv = optimise(
            x,
            start,
            lambda xa, _scale, rows: self.objective(model, xa, target if rows is None else target[rows]),
            lambda *_: None,
            eps=self.budget.eps,
            step_size=self.budget.step,
            steps=self.budget.steps,
            loop=Loop(),
        )
        model.train(was_training)
        return x_adv, target
