"""ATRDH (Wang et al., SIGIR 2021, with THA), the defence the PgA paper evaluates."""

from __future__ import annotations

import torch

from ..attacks import Knowledge
from ..core.params import Param
from ..hashing.base import label_similarity
from ..targets.prototype import PrototypeNet, PrototypeTable, train_prototype_net
from .base import DEFENCES, Defence


@DEFENCES.register()
class ATRDH(Defence):
    """THA by PGD-7 (step 2/255, eps 8/255, random start) towards the prototype code of a label the image does not
    carry; the term added is the DPH pairwise loss of the adversarial outputs, mean ((1/K) f(x'_i) . b_j - S_ij)^2
    with S in {+1, -1} (Wang et al. 2021, Eq. 13), against `codes`:

    - "in-batch": b_j the sign codes of the clean batch (hashdemo's first reading; the shipped ATRDH models);
    - "memory": b_j a memory bank of the continuous clean outputs of every training item, updated with each
      batch and empty (zero) at the start, as the authors' public training script computes it.

    The PrototypeNet (THA's, balanced likelihood) is fitted to the model's training codes at the first epoch
    (2000 steps) and refitted for 200 steps at each later one, as the codes move (hashdemo's choice).
    """

    name, title = "atrdh", "ATRDH"
    paper = "Wang et al., Targeted Attack and Defense for Deep Hashing, SIGIR 2021"
    attack = "tha"
    parameters = (
        Param(
            "codes",
            "in-batch",
            "what the adversarial outputs are compared with: the clean batch's sign codes (in-batch) or a memory "
            "of every training item's clean output (memory, the authors' code)",
            choices=("in-batch", "memory"),
        ),
    )
    first_steps, later_steps = 2000, 200

    def __init__(self, inner, num_classes, bits, **params):
        super().__init__(inner, num_classes, bits, **params)
        self.prototype_net: PrototypeNet | None = None
        self.memory: torch.Tensor | None = None

    def start_epoch(self, model, data, epoch) -> None:
        super().start_epoch(model, data, epoch)
        steps = self.first_steps if self.prototype_net is None else self.later_steps
        self.prototype_net = train_prototype_net(
            self.train_codes, self.train_labels, steps=steps, seed=self.inner.seed + epoch, start=self.prototype_net
        )
        if self.params["codes"] == "memory" and self.memory is None:
            self.memory = torch.zeros(len(data.train), self.bits)

    def knowledge(self) -> Knowledge:
        return Knowledge(
            train_codes=self.train_codes,
            train_labels=self.train_labels,
            prototypes=PrototypeTable.of(self.prototype_net, self.train_labels),
        )

    def state(self) -> dict[str, torch.Tensor]:
        out = {} if self.memory is None else {"memory": self.memory}
        if self.prototype_net is None:
            return out
        return out | {f"prototype.{k}": v for k, v in self.prototype_net.state_dict().items()}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        weights = {k[10:]: v for k, v in tensors.items() if k.startswith("prototype.")}
        if weights:
            self.prototype_net = PrototypeNet(self.num_classes, self.bits)
            self.prototype_net.load_state_dict(weights)
        if "memory" in tensors:
            self.memory = tensors["memory"].clone()

    def loss(self, u_clean, u_adv, labels, result, index) -> torch.Tensor:
        if self.params["codes"] == "memory":
            self.memory[index.cpu()] = u_clean.detach().cpu()
            reference = self.memory.to(u_adv.device)
            s = 2 * label_similarity(labels, self.train_labels.to(labels.device)) - 1
        else:
            reference = torch.sign(u_clean).detach()
            s = 2 * label_similarity(labels, labels) - 1
        return ((u_adv @ reference.T) / self.bits - s).pow(2).mean()
