"""ATRDH (Wang et al., SIGIR 2021, with THA), the defence the PgA paper evaluates."""

from __future__ import annotations

import torch

from ..attacks.losses import inner_product_loss
from ..hashing.base import label_similarity
from ..models import binarize
from ..prototype import PrototypeNet, train_prototype_net
from ..targets import draw_target_labels
from .base import Defence


class ATRDH(Defence):
    """PGD-7 (step 2/255, eps 8/255, random start) towards the prototype code of a label the image does not
    carry; the term added is the DPH pairwise loss between the adversarial outputs and the clean codes,
    mean_ij ((1/K) f(x'_i) . b_j - S_ij)^2 with S in {+1, -1} (implementations.md: "DPH loss of adversarial
    outputs against the clean codes").

    The PrototypeNet (THA's, balanced likelihood) is fitted to the model's training codes at the first epoch
    (2000 steps) and refitted for 200 steps at each later one, as the codes move (hashdemo's choice).
    """

    name, title = "atrdh", "ATRDH"
    paper = "Wang et al., Targeted Attack and Defense for Deep Hashing, SIGIR 2021"
    first_steps, later_steps = 2000, 200

    def __init__(self, budget, num_classes, bits, seed=0):
        super().__init__(budget, num_classes, bits, seed)
        self.prototype_net: PrototypeNet | None = None
        self.seed = seed

    def start_epoch(self, model, data, epoch) -> None:
        super().start_epoch(model, data, epoch)
        steps = self.first_steps if self.prototype_net is None else self.later_steps
        self.prototype_net = train_prototype_net(
            self.train_codes, self.train_labels, steps=steps, seed=self.seed + epoch, start=self.prototype_net
        )

    def state(self) -> dict[str, torch.Tensor]:
        if self.prototype_net is None:
            return super().state()
        return super().state() | {f"prototype.{k}": v for k, v in self.prototype_net.state_dict().items()}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        super().load_state(tensors)
        weights = {k[10:]: v for k, v in tensors.items() if k.startswith("prototype.")}
        if weights:
            self.prototype_net = PrototypeNet(self.num_classes, self.bits)
            self.prototype_net.load_state_dict(weights)

    def target_codes(self, labels: torch.Tensor) -> torch.Tensor:
        targets = draw_target_labels(labels, self.train_labels, self.generator)
        with torch.no_grad():
            return binarize(self.prototype_net(targets))

    def attack_loss(self, out, target) -> torch.Tensor:
        return inner_product_loss(out, target)

    def loss(self, u_clean, u_adv, labels, target) -> torch.Tensor:
        s = 2 * label_similarity(labels, labels) - 1
        clean_codes = torch.sign(u_clean).detach()
        return ((u_adv @ clean_codes.T) / self.bits - s).pow(2).mean()
