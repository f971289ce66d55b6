"""DHTA (Bai et al., ECCV 2020): pull the code to the anchor code of n_t = 9 items of the target label."""

import torch

from ..core.params import Param
from ..targets.codes import anchor_code
from .base import ATTACKS, Attack, PaperSetting, Plan
from .loop import Loop
from .losses import inner_product_loss

SCRIPT_BATCH = 32  # the ProS-GAN authors' DHTA script: queries per batch, over which its loss is averaged


@ATTACKS.register()
class DHTA(Attack):
    """Anchor code = bitwise vote of n_t target-label database codes (drawn without replacement), inner-product loss.

    Starts from x with HAG's tanh schedule. Its paper setting is the one behind ProS-GAN's Table 2 (whose DHTA
    rows "follow [DHTA]"): 2000 plain gradient steps x' <- S(x' - grad) on a loss averaged over a batch of 32
    queries, i.e. SGD without momentum at lr 1/32 on each query's own loss, at eps 8/255. Under PGD (and in the
    `prosgan-sign` and `pga` protocols) it takes PGD's sign step of 1/255 instead.
    """

    name, title, group = "dhta", "DHTA", "targeted"
    target_title = "Anchor code"
    paper = "Bai et al., Targeted Attack for Deep Hashing based Retrieval, ECCV 2020"
    equation = r"\min_{x'}\ -\tfrac{1}{K}\,h_a^\top f(x'),\; h_a=\mathrm{sign}\Big(\sum_{i=1}^{n_t} h_i\Big)"
    targeted = True
    target_kind = "anchor"
    needs = ("database_codes", "database_labels")
    parameters = (Param("n_t", 9, "how many target-label codes vote for the anchor (DHTA: 9)", 1, None, integer=True),)
    default_loop = Loop(schedule="hag")
    paper_setting = PaperSetting(
        2000,
        Loop("sgd", lr=1 / SCRIPT_BATCH, momentum=0.0, schedule="hag"),
        "ProS-GAN Table 2's DHTA: 2000 gradient steps of a loss averaged over 32 queries",
    )

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> Plan:
        k = self.knowledge
        code = anchor_code(target_labels.cpu(), k.database_codes, k.database_labels, self.params["n_t"], draw)
        return Plan(target_code=code.to(x.device))

    def loss(self, out, x_adv, x, plan: Plan, scale) -> torch.Tensor:
        return inner_product_loss(out, plan.target_code.float())
