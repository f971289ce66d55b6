"""Adversarial training: a defence holds an attack of the library, makes an adversarial copy of each training
batch with it and adds a term that pulls it back; the one training loop (hashdemo.training.train) calls it per batch."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from ..attacks import ATTACKS, AttackResult, Knowledge
from ..core.params import Param, check_all
from ..core.registry import Registry
from ..data import RetrievalDataset
from ..models import HashingModel
from ..retrieval.encoding import encode
from ..run.driver import attack_batch
from ..run.settings import RunSettings


class Defence:
    """Subclasses name the inner attack (`attack`, `attack_params`), what it knows (`knowledge`) and the
    training term added to the method's own loss (`loss`). The inner attack is the library's: it runs on the
    model in eval mode (running BatchNorm statistics, none updated) by PGD within the defence's budget, from a
    random start: a batch of the run driver's, seeded by the run's seed and the training step."""

    name: ClassVar[str]
    title: ClassVar[str]
    paper: ClassVar[str]
    attack: ClassVar[str]  # the inner attack's name in the attack registry
    attack_params: ClassVar[dict[str, Any]] = {}
    parameters: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, inner: RunSettings, num_classes: int, bits: int, total_steps: int = 0, **params: Any):
        self.inner = inner  # the inner attack's settings (defences.inner_settings)
        self.num_classes, self.bits = num_classes, bits
        self.total_steps = total_steps  # training steps of the whole run (a schedule of the defence's own)
        self.params = check_all(self.parameters, params, self.title)
        self.train_codes: torch.Tensor | None = None
        self.train_labels: torch.Tensor | None = None

    def start_epoch(self, model: HashingModel, data: RetrievalDataset, epoch: int) -> None:
        """Refresh what the inner attack knows: the codes the model now gives its training set."""
        was_training = model.training
        model.eval()
        self.train_codes = encode(model, data.train)
        self.train_labels = data.train.labels
        model.train(was_training)

    def knowledge(self) -> Knowledge:
        return Knowledge(train_codes=self.train_codes, train_labels=self.train_labels)

    def state(self) -> dict[str, torch.Tensor]:
        """What resuming needs beyond the model (the draws are seeded per step: nothing)."""
        return {}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore what state() saved."""

    inner_train_mode: bool = False  # the inner attack on the model in train mode (else eval)

    def adversarial(self, model: HashingModel, x: torch.Tensor, labels: torch.Tensor, step: int) -> AttackResult:
        """The inner attack on a training batch (x' and the target codes it was made with, on x's device)."""
        knowledge = self.knowledge()
        labels, targets = self.aim(labels, step)
        attack = ATTACKS.get(self.attack)(model, knowledge, **self.inner.method_params)
        return attack_batch(attack, x, labels, targets, self.inner, first=step, train_mode=self.inner_train_mode)

    def aim(self, labels: torch.Tensor, step: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The query labels and target labels the inner attack gets (targets None: a targeted attack draws its own)."""
        return labels, None

    def clean_loss(self, method_loss: torch.Tensor, u_clean: torch.Tensor, labels: torch.Tensor, index) -> torch.Tensor:
        """The clean term of a batch, before its inner attack: the hashing method's own loss, unless the defence
        trains the clean outputs its own way."""
        return method_loss

    def loss(
        self, u_clean: torch.Tensor, u_adv: torch.Tensor, labels: torch.Tensor, result: AttackResult, index
    ) -> torch.Tensor:
        raise NotImplementedError


DEFENCES: Registry[type[Defence]] = Registry("defence")
