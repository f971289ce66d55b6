"""PgA (pharos-guided attack): push the code away from the pharos code of the query's semantics."""

import torch

from ..errors import InvalidInputError
from .base import Attack
from .losses import pga_loss
from .targets import pharos_code


class PgA(Attack):
    """Pharos code from training codes with Dice weights (Eq. 7-8), weighted masked loss (Eq. 11-14), PGD (Eq. 15)."""

    name, title, group = "pga", "PgA", "non-targeted"
    paper = "Efficient Evaluation of Adversarial Robustness for Deep Hashing based Retrieval (PgA)"
    equation = (
        r"\max_{x'}\ \mathcal{L}_a=-\tfrac{1}{\pi}[m\circ\omega]^\top u,\;u=b^\star\circ f(x'),\;"
        r"\omega_k=\begin{cases}u_k-2t & u_k>t\\-t^2&\text{else}\end{cases},\;m_k=[u_k>t]"
    )
    needs_labels = True
    needs = ("train_codes", "train_labels")
    target_kind = "pharos"
    method_defaults = {"t": -0.8}

    def validate(self) -> None:
        super().validate()
        if not -1 < self.params.get("t", -0.5) < 0:
            raise InvalidInputError(f"PgA's margin t must be in (-1, 0) (paper: -0.8), got {self.params['t']}")

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> dict:
        k = self.knowledge
        code = pharos_code(labels.cpu(), k.train_codes, k.train_labels).to(x.device)
        return {"target_code": code, "pharos": code.float()}

    def loss(self, out, x_adv, x, plan, scale) -> torch.Tensor:
        return pga_loss(out, plan["pharos"], self.params["t"])
