"""ATRDH (Wang et al., SIGIR 2021, with THA), the defence the PgA paper evaluates."""

from __future__ import annotations

import torch

from ..attacks import Knowledge
from ..core.params import Param
from ..hashing.base import label_similarity
from ..models import binarize
from ..models.checkpoint import load_optimiser, optimiser_tensors
from ..run.driver import batch_seed
from ..targets.codes import draw_target_labels
from ..targets.prototype import PrototypeNet, PrototypeTable, circle_loss, circle_pairs, train_prototype_net
from .base import DEFENCES, Defence

# THA's public defence script: PrototypeNet by Adam (lr 1e-4, betas 0.5 / 0.999), lr x0.1 at 1/2 and 3/4 of training
JOINT_LR, JOINT_BETAS, JOINT_MILESTONES = 1e-4, (0.5, 0.999), (0.5, 0.75)
JOINT_QUANTISATION = 1e-4  # its regterm: sum (sign(h) - h)^2 / (1e4 B)


def choice(name: str, default: str, other: str, help_text: str) -> Param:
    return Param(name, default, help_text, choices=(default, other))


@DEFENCES.register()
class ATRDH(Defence):
    """THA by PGD-7 (step 2/255, eps 8/255, random start) towards the prototype code of a target label; the term
    added is the DPH pairwise loss of the adversarial outputs, mean ((1/K) f(x'_i) . b_j - S_ij)^2 with S in
    {+1, -1} (Wang et al. 2021, Eq. 13). Each parameter's first value is hashdemo's reading (the shipped ATRDH
    models), the second what the authors' public defence script does; `codes=memory clean=memory
    prototype=joint targets=uniform inner_mode=train` trains as that script does:

    - codes: b_j the clean batch's sign codes, or a memory of every training item's latest clean output (zero
      until its batch is seen);
    - clean: the hashing method's own loss on the clean batch, or the same DPH term of the clean outputs against
      that memory (the script trains DPH this way, in place of the method's loss);
    - prototype: THA's PrototypeNet (balanced likelihood) fitted to the training codes at the first epoch (2000
      steps) and refitted for 200 at each later one; or trained jointly, one Adam step of CircleLoss per batch
      against training codes updated batch by batch;
    - targets: a label vector sharing no class with the image, or one drawn uniformly from the database's label
      vectors (the image's own allowed);
    - inner_mode: the inner attack on the model in eval mode, or in train mode (BatchNorm's batch statistics; our loop's
      clean and final passes update the running ones twice more per step than the script's 7).
    """

    name, title = "atrdh", "ATRDH"
    paper = "Wang et al., Targeted Attack and Defense for Deep Hashing, SIGIR 2021"
    attack = "tha"
    parameters = (
        choice("codes", "in-batch", "memory", "what the adversarial outputs are compared with (memory: the authors')"),
        choice("clean", "method", "memory", "the clean term: the method's loss, or DPH against the memory (authors')"),
        choice("prototype", "refit", "joint", "PrototypeNet refitted per epoch, or trained per batch (authors')"),
        choice("targets", "disjoint", "uniform", "target labels sharing no class, or any label vector (authors')"),
        choice("inner_mode", "eval", "train", "the model's mode during the inner attack (train: the authors')"),
    )
    first_steps, later_steps = 2000, 200

    def __init__(self, inner, num_classes, bits, total_steps=0, **params):
        super().__init__(inner, num_classes, bits, total_steps, **params)
        self.prototype_net: PrototypeNet | None = None
        self.prototype_adam: torch.optim.Adam | None = None
        self.memory: torch.Tensor | None = None
        self.target_pool: torch.Tensor | None = None

    @property
    def joint(self) -> bool:
        return self.params["prototype"] == "joint"

    def start_epoch(self, model, data, epoch) -> None:
        pool = torch.unique(data.database.labels.bool(), dim=0)
        self.target_pool = pool[pool.any(1)]
        if self.params["codes"] == "memory" or self.params["clean"] == "memory":
            if self.memory is None:
                self.memory = torch.zeros(len(data.train), self.bits)
        if self.joint:
            if self.train_codes is None:  # the script encodes the training set once, then follows each batch
                super().start_epoch(model, data, epoch)
            self.train_labels = data.train.labels
            if self.prototype_net is None:
                self.prototype_net = PrototypeNet(self.num_classes, self.bits)
                self.prototype_adam = torch.optim.Adam(self.prototype_net.parameters(), lr=JOINT_LR, betas=JOINT_BETAS)
            return
        super().start_epoch(model, data, epoch)
        steps = self.first_steps if self.prototype_net is None else self.later_steps
        self.prototype_net = train_prototype_net(
            self.train_codes, self.train_labels, steps=steps, seed=self.inner.seed + epoch, start=self.prototype_net
        )

    def knowledge(self) -> Knowledge:
        """The training codes and the prototype code of every label vector a target may be."""
        labels = self.train_labels.bool()
        if self.target_pool is not None:
            labels = torch.cat([labels, self.target_pool])
        return Knowledge(
            train_codes=self.train_codes,
            train_labels=self.train_labels,
            prototypes=PrototypeTable.of(self.prototype_net, labels),
        )

    def clean_loss(self, method_loss, u_clean, labels, index) -> torch.Tensor:
        if self.memory is not None:
            self.memory[index.cpu()] = u_clean.detach().cpu()
        if self.joint:
            self.train_codes[index.cpu()] = binarize(u_clean.detach().cpu())
        if self.params["clean"] == "memory":
            return self.memory_term(u_clean, labels)
        return method_loss

    def draw_targets(self, labels: torch.Tensor, step: int) -> torch.Tensor:
        draw = torch.Generator().manual_seed(batch_seed(self.inner.seed, step))
        if self.params["targets"] == "uniform":
            return self.target_pool[torch.randint(len(self.target_pool), (len(labels),), generator=draw)]
        return draw_target_labels(labels.cpu(), self.target_pool, draw)

    def joint_step(self, targets: torch.Tensor, step: int) -> None:
        """One Adam step of the PrototypeNet on CircleLoss against the current training codes (the script's)."""
        lr = JOINT_LR * 0.1 ** sum(step >= m * self.total_steps for m in JOINT_MILESTONES)
        for group in self.prototype_adam.param_groups:
            group["lr"] = lr
        self.prototype_net.train().requires_grad_(True)
        h = self.prototype_net(targets)
        positive, negative = circle_pairs(h, self.train_codes, targets, self.train_labels)
        loss = circle_loss(positive, negative) / len(targets)
        loss = loss + JOINT_QUANTISATION * (torch.sign(h).detach() - h).pow(2).sum() / len(targets)
        self.prototype_adam.zero_grad()
        loss.backward()
        self.prototype_adam.step()
        self.prototype_net.requires_grad_(False)

    @property
    def inner_train_mode(self) -> bool:
        return self.params["inner_mode"] == "train"

    def aim(self, labels, step):
        if not self.joint and self.params["targets"] == "disjoint" and not self.inner_train_mode:
            return labels, None  # THA draws a disjoint target itself, as the shipped models were trained
        targets = self.draw_targets(labels, step)
        if self.joint:  # after adversarial() read the prototype codes: the attack aims at them, as the script's does
            self.joint_step(targets, step)
        # no query labels: a uniform target may be the image's own label, which an attack call refuses
        return None, targets.to(labels.device)

    def memory_term(self, u: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """mean ((1/K) u_i . m_j - S_ij)^2 over the batch and every training item j, S in {+1, -1}."""
        s = 2 * label_similarity(labels, self.train_labels.to(labels.device)) - 1
        memory = self.memory.to(u.device, copy=True)  # backward needs it as it is now; the next term writes a row
        return ((u @ memory.T) / self.bits - s).pow(2).mean()

    def loss(self, u_clean, u_adv, labels, result, index) -> torch.Tensor:
        if self.params["codes"] == "memory":
            self.memory[index.cpu()] = u_clean.detach().cpu()
            return self.memory_term(u_adv, labels)
        reference = torch.sign(u_clean).detach()
        s = 2 * label_similarity(labels, labels) - 1
        return ((u_adv @ reference.T) / self.bits - s).pow(2).mean()

    def state(self) -> dict[str, torch.Tensor]:
        out = {} if self.memory is None else {"memory": self.memory}
        if self.joint and self.train_codes is not None:
            out["codes"] = self.train_codes
        if self.prototype_net is None:
            return out
        out |= {f"prototype.{k}": v for k, v in self.prototype_net.state_dict().items()}
        if self.prototype_adam is not None:
            out |= optimiser_tensors("adam", self.prototype_adam)
        return out

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        weights = {k[10:]: v for k, v in tensors.items() if k.startswith("prototype.")}
        if weights:
            with torch.random.fork_rng(devices=[]):  # its initial weights are overwritten: leave the resumed RNG be
                self.prototype_net = PrototypeNet(self.num_classes, self.bits)
            self.prototype_net.load_state_dict(weights)
        if "memory" in tensors:
            self.memory = tensors["memory"].clone()
        if "codes" in tensors:
            self.train_codes = tensors["codes"].clone()
        if self.joint and self.prototype_net is not None:
            self.prototype_adam = torch.optim.Adam(self.prototype_net.parameters(), lr=JOINT_LR, betas=JOINT_BETAS)
            load_optimiser("adam", self.prototype_adam, tensors)
