"""THA (Wang et al., SIGIR 2021): pull the code to the prototype code a PrototypeNet gives the target label."""

import torch

from ..models import binarize
from ..params import Param
from ..progress import Progress, silent
from ..prototype import cached_prototype_net
from .base import Attack, PaperSetting, Plan
from .loop import Loop
from .losses import inner_product_loss


class THA(Attack):
    """Prototype code sign(P(y_t)) from a PrototypeNet trained on the training codes, inner-product loss.

    Plain PGD from x: step 1/255, eps 8/255, 100 iterations (implementations.md); the PrototypeNet is
    trained once per model and cached on disk (its time is reported as setup, apart from the attack).
    """

    name, title, group = "tha", "THA", "targeted"
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
    paper_setting = PaperSetting(100, Loop(), "THA (implementations.md): PGD-100, step 1/255")

    def setup(self, progress: Progress = silent) -> None:
        k = self.knowledge
        self.prototype_net = cached_prototype_net(
            k.train_codes,
            k.train_labels,
            steps=self.params["proto_steps"],
            lr=self.params["proto_lr"],
            progress=progress,
        )

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> Plan:
        with torch.no_grad():
            code = binarize(self.prototype_net(target_labels.cpu()))
        return Plan(target_code=code.to(x.device))

    def loss(self, out, x_adv, x, plan: Plan, scale) -> torch.Tensor:
        return inner_product_loss(out, plan.target_code.float())
