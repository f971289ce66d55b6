"""PgA (pharos-guided attack): push the code away from the pharos code of the query's semantics."""

import torch

from ..core.params import Param
from ..targets.codes import pharos_code
from .base import ATTACKS, Attack, PaperSetting, Plan
from .loop import Loop
from .losses import pga_loss


@ATTACKS.register()
class PgA(Attack):
    """Pharos code from training codes with Dice weights (Eq. 7-8), weighted masked loss (Eq. 11-14), PGD (Eq. 15).

    PGD with random start x_0 = x + U(-eps, eps), T = 100, step 1/255, eps 8/255 (Sec. 4.1).
    """

    name, title, group = "pga", "PgA", "non-targeted"
    target_title = "Pharos code"
    paper = "Efficient Evaluation of Adversarial Robustness for Deep Hashing based Retrieval (PgA)"
    equation = (
        r"\max_{x'}\ \mathcal{L}_a=-\tfrac{1}{\pi}[m\circ\omega]^\top u,\;u=b^\star\circ f(x'),\;"
        r"\omega_k=\begin{cases}u_k-2t & u_k>t\\-t^2&\text{else}\end{cases},\;m_k=[u_k>t]"
    )
    needs_labels = True
    needs = ("train_codes", "train_labels")
    target_kind = "pharos"
    parameters = (
        Param(
            "t",
            -0.8,
            "PgA Eq. 12-14: each bit of u = b* o f(x') is pushed until it reaches t",
            -1.0,
            0.0,
            open_low=True,
            open_high=True,
            label="margin t (PgA)",
            increment=0.01,
        ),
        Param(
            "omega",
            "fixed",
            "fixed: omega is a weight held within a step (Eq. 11-12, Fig. 2); "
            "differentiable: omega is differentiated too (hashdemo's first reading)",
            choices=("fixed", "differentiable"),
            label="weights omega",
        ),
    )
    random_start = True
    paper_setting = PaperSetting(100, Loop(), "PgA Sec. 4.1, Eq. 15")

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> Plan:
        k = self.knowledge
        return Plan(target_code=pharos_code(labels.cpu(), k.train_codes, k.train_labels).to(x.device))

    def loss(self, out, x_adv, x, plan: Plan, scale) -> torch.Tensor:
        return pga_loss(out, plan.target_code.float(), self.params["t"], self.params["omega"] == "fixed")
