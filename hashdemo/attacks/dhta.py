"""DHTA (Bai et al., ECCV 2020): pull the code to the anchor code of n_t = 9 items of the target label."""

import torch

from ..params import Param
from ..targets import anchor_code
from .base import ATTACKS, Attack, PaperSetting, Plan
from .loop import Loop
from .losses import inner_product_loss


@ATTACKS.register()
class DHTA(Attack):
    """Anchor code = bitwise vote of n_t target-label database codes (drawn without replacement), inner-product loss.

    Starts from x with HAG's tanh schedule; the papers that compare with it run 2000 iterations (ProS-GAN
    Table 2). Under PGD it takes PGD's sign step; the DHTA code's own rule (an L2-normalised step) is the
    protocols' "dhta" optimiser (Bai et al. 2020, Sec. 4.1; the public code's ImageNet-normalised units).
    """

    name, title, group = "dhta", "DHTA", "targeted"
    colour, marker, dash = "#56B4E9", "star", "solid"
    target_title = "Anchor code"
    paper = "Bai et al., Targeted Attack for Deep Hashing based Retrieval, ECCV 2020"
    equation = r"\min_{x'}\ -\tfrac{1}{K}\,h_a^\top f(x'),\; h_a=\mathrm{sign}\Big(\sum_{i=1}^{n_t} h_i\Big)"
    targeted = True
    target_kind = "anchor"
    needs = ("database_codes", "database_labels")
    parameters = (Param("n_t", 9, "how many target-label codes vote for the anchor (DHTA: 9)", 1, None, integer=True),)
    default_loop = Loop(schedule="hag")
    paper_setting = PaperSetting(2000, Loop(schedule="hag"), "DHTA as run in ProS-GAN Table 2 (2000 iterations)")

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> Plan:
        k = self.knowledge
        code = anchor_code(target_labels.cpu(), k.database_codes, k.database_labels, self.params["n_t"], draw)
        return Plan(target_code=code.to(x.device))

    def loss(self, out, x_adv, x, plan: Plan, scale) -> torch.Tensor:
        return inner_product_loss(out, plan.target_code.float())
