"""SDHA (Lu et al., ICMR 2021): push the code away from the codes of the query's relevant training items."""

import torch

from ..models import binarize
from .base import Attack
from .losses import sdha_loss
from .targets import relevant_code_sets


class SDHA(Attack):
    """Relevant training codes (own code if none), SDHA's surrogate-Hamming, AP-weighted loss plus MSE."""

    name, title, group = "sdha", "SDHA", "non-targeted"
    paper = "Lu et al., A Smart Adversarial Attack on Deep Hashing Based Image Retrieval, ICMR 2021"
    equation = (
        r"\min_{x'}\ \mathrm{MSE}(x',x)-\tfrac{25}{K}\,\mathrm{mean}_{r\in R(x)}\,"
        r"d(q,r)\,(D_H(\mathrm{sign}\,q,r)+10^{-8})^{-z},\;"
        r"d=\sum_k \tfrac12|q_k-r_k|\,\sigma(\sigma_s q_kr_k)+1-\sigma(\sigma_s q_kr_k)"
    )
    needs_labels = True
    needs = ("train_codes", "train_labels")
    method_defaults = {"sigma": 5.0, "z": 0.5, "weight": 25.0}
    loop_defaults = {"schedule": "hag"}
    paper_settings = {"optimiser": "adam", "lr": 0.01, "steps": 1500, "random_start": False, "schedule": "hag"}

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> dict:
        k = self.knowledge
        codes, counts = relevant_code_sets(labels.cpu(), k.train_codes, k.train_labels, binarize(clean_pre).cpu())
        return {"codes": codes.to(x.device), "counts": counts.to(x.device)}

    def loss(self, out, x_adv, x, plan, scale) -> torch.Tensor:
        p = self.params
        return sdha_loss(out, x_adv, x, plan["codes"], plan["counts"], p["sigma"], p["z"], p["weight"])
