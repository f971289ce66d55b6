"""THA (Wang et al., SIGIR 2021): pull the code to the prototype code a PrototypeNet gives the target label."""

import torch

from ..core.params import Param
from ..core.progress import Progress, silent
from ..models.checkpoint import tensors_digest
from ..targets.prototype import PrototypeTable, cached_prototype_net
from .base import ATTACKS, Attack, PaperSetting, Plan
from .loop import Loop
from .losses import inner_product_loss


@ATTACKS.register()
class THA(Attack):
    """Prototype code sign(P(y_t)) from a PrototypeNet trained on the training codes, inner-product loss.

    Plain PGD from x: step 1/255, eps 8/255, 100 iterations (THA Sec. 4.1); the prototypes ship beside each zoo
    model, and for any other model the PrototypeNet is trained once and cached on disk (its time is reported
    as setup, apart from the attack).
    """

    name, title, group = "tha", "THA", "targeted"
    target_title = "Prototype code (THA)"
    paper = "Wang et al., Targeted Attack and Defense for Deep Hashing, SIGIR 2021"
    equation = r"\min_{x'}\ -\tfrac{1}{K}\,\mathrm{sign}(P(y_t))^\top f(x')"
    targeted = True
    open_set = False
    open_set_reason = (
        "its prototype comes from a PrototypeNet fitted to the training codes, and a class absent from "
        "training has no codes to fit (DHTA's anchor, from database items of the class, does)"
    )
    target_kind = "prototype"
    needs = ("train_codes", "train_labels")
    parameters = (
        Param(
            "proto_steps",
            2000,
            "Adam steps that train the PrototypeNet (cached per model); its prototypes stop changing by 2000",
            1,
            100_000,
            integer=True,
        ),
        Param("proto_lr", 1e-4, "Adam learning rate of the PrototypeNet (THA: 1e-4)", 0.0, 1.0, open_low=True),
    )
    paper_setting = PaperSetting(100, Loop(), "THA Sec. 4.1: PGD-100, step 1/255")

    def training(self) -> dict:
        return {"steps": self.params["proto_steps"], "lr": self.params["proto_lr"]}

    def shipped(self) -> PrototypeTable | None:
        """The prototypes the attacker knows (shipped, or a defence's), when they were trained this way."""
        known = self.knowledge.prototypes
        return known if isinstance(known, PrototypeTable) and known.fits(self.training()) else None

    def resources(self) -> dict[str, str]:
        table = self.shipped()
        if table is None:
            return {}  # a PrototypeNet trained from the training codes and these settings
        return {"prototypes": tensors_digest({"labels": table.labels, "codes": table.codes})}

    def setup(self, progress: Progress = silent) -> None:
        """The prototypes the attacker knows (shipped, or a defence's) when they were trained this way; else a
        PrototypeNet trained on the training codes once (cached on disk), timed as setup."""
        self.net = None
        shipped = self.shipped()
        if shipped is not None:
            self.table = shipped
        else:
            self.net = self.trained_net(progress)
            self.table = PrototypeTable.of(self.net, self.knowledge.train_labels)

    def trained_net(self, progress: Progress = silent):
        k = self.knowledge
        return cached_prototype_net(k.train_codes, k.train_labels, progress=progress, **self.training())

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> Plan:
        codes = self.table.codes_for(target_labels)
        if codes is None:  # a label vector the training set does not hold: ask the net itself
            net = self.net or self.trained_net()
            codes = PrototypeTable.of(net, target_labels).codes_for(target_labels)
        return Plan(target_code=codes.to(x.device))

    def loss(self, out, x_adv, x, plan: Plan, scale) -> torch.Tensor:
        return inner_product_loss(out, plan.target_code.float())
