"""THA (Wang et al., SIGIR 2021): pull the code to the prototype code a PrototypeNet gives the target label."""

import torch

from ..models import binarize
from .base import Attack
from .losses import inner_product_loss
from .prototype import cached_prototype_net


class THA(Attack):
    """Prototype code sign(P(y_t)) from a PrototypeNet trained on the training codes, inner-product loss, PGD."""

    name, title, group = "tha", "THA", "targeted"
    paper = "Wang et al., Targeted Attack and Defense for Deep Hashing, SIGIR 2021"
    equation = r"\min_{x'}\ -\tfrac{1}{K}\,\mathrm{sign}(P(y_t))^\top f(x')"
    targeted = True
    target_kind = "prototype"
    needs = ("train_codes", "train_labels")
    method_defaults = {"proto_steps": 500, "proto_lr": 1e-4}

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> dict:
        k = self.knowledge
        net, seconds = cached_prototype_net(
            k.train_codes, k.train_labels, steps=int(self.params["proto_steps"]), lr=float(self.params["proto_lr"])
        )
        with torch.no_grad():
            code = binarize(net(target_labels.cpu()))
        return {"target_code": code.to(x.device), "setup_seconds": seconds}

    def loss(self, out, x_adv, x, plan, scale) -> torch.Tensor:
        return inner_product_loss(out, plan["target_code"].float())
