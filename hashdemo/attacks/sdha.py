"""SDHA (Lu et al., ICMR 2021): push the code away from the codes of the query's relevant training items."""

from dataclasses import dataclass

import torch

from ..core.params import Param
from ..models import binarize
from ..targets.codes import relevant_code_sets
from .base import ATTACKS, Attack, PaperSetting, Plan
from .loop import Loop
from .losses import sdha_loss


@dataclass
class SDHAPlan(Plan):
    codes: torch.Tensor | None = None  # (B, U, K) relevant training codes, deduplicated
    counts: torch.Tensor | None = None  # (B, U) how often each occurs (0 = padding)


@ATTACKS.register()
class SDHA(Attack):
    """Relevant training codes (own code if none), SDHA's surrogate-Hamming, AP-weighted loss plus MSE.

    Follows the authors' public code (Lu et al., ICMR 2021): Adam lr 0.01, 1500 iterations, HAG's schedule,
    start at x.
    """

    name, title, group = "sdha", "SDHA", "non-targeted"
    paper = "Lu et al., A Smart Adversarial Attack on Deep Hashing Based Image Retrieval, ICMR 2021"
    equation = (
        r"\min_{x'}\ \mathrm{MSE}(x',x)-\tfrac{25}{K}\,\mathrm{mean}_{r\in R(x)}\,"
        r"d(q,r)\,(D_H(\mathrm{sign}\,q,r)+10^{-8})^{-z},\;"
        r"d=\sum_k \tfrac12|q_k-r_k|\,\sigma(\sigma_s q_kr_k)+1-\sigma(\sigma_s q_kr_k)"
    )
    needs_labels = True
    needs = ("train_codes", "train_labels")
    parameters = (
        Param("sigma", 5.0, "slope of the sigmoid in the surrogate Hamming distance", 0.0, None, open_low=True),
        Param("z", 0.5, "exponent of the AP-oriented weight (D_H + 1e-8)^-z", 0.0, None),
        Param("weight", 25.0, "weight of the Hamming term (times 1/K) against the MSE", 0.0, None),
    )
    default_loop = Loop(schedule="hag")
    paper_setting = PaperSetting(1500, Loop("adam", lr=0.01, schedule="hag"), "SDHA's public code (Lu et al. 2021)")

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> SDHAPlan:
        k = self.knowledge
        codes, counts = relevant_code_sets(labels.cpu(), k.train_codes, k.train_labels, binarize(clean_pre).cpu())
        return SDHAPlan(codes=codes.to(x.device), counts=counts.to(x.device))

    def loss(self, out, x_adv, x, plan: SDHAPlan, scale) -> torch.Tensor:
        p = self.params
        return sdha_loss(out, x_adv, x, plan.codes, plan.counts, p["sigma"], p["z"], p["weight"])
