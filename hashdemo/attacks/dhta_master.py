"""DHTA as its authors' public code runs it (DHTA-master, attack_imagenet.py), beside the paper's DHTA."""

import torch

from ..core.params import Param
from ..core.units import to_255
from ..targets.codes import anchor_code
from .base import ATTACKS, PaperSetting, Plan
from .budget import Budget
from .dhta import DHTA
from .loop import Loop

AUTHORS_STEPS = 2000  # attack_imagenet.py: num_iter=2000, alpha by iteration = HAG's schedule at T = 2000


@ATTACKS.register()
class DHTAMaster(DHTA):
    """DHTA's loss (Eq. 3) and vote (Algorithm 1), optimised as the authors' code does: from x, each query alone,
    x_norm' <- clip(x_norm' - alpha g / ||g||_2) in the model's normalised units (x - mean) / std, where the
    code's transform normalises before the attack. So eps (the budget's, in 1/255) and alpha are in normalised
    units: its --epsilon 0.032 is eps 8.16 here, i.e. 8.16 * std/255 per channel on pixels (1.8/255 on
    ImageNet's std). The anchor votes n_t items whose label vector equals the target exactly, and the target is
    drawn among label vectors that more than n_t database items have. The budget's step does not apply."""

    name, title = "dhta-master", "DHTA (authors' code)"
    eps_note = " in the model's normalised units"
    step_note = "of length {alpha:g} in the model's normalised units"
    paper = "Bai et al., ECCV 2020, as run by the authors' DHTA-master code (attack_imagenet.py)"
    parameters = (
        *DHTA.parameters,
        Param(
            "alpha",
            1.0,
            "L2 length of each step in the model's normalised units (DHTA's code: 1)",
            0.0,
            None,
            open_low=True,
        ),
    )
    default_loop = Loop("l2", schedule="hag")
    paper_setting = PaperSetting(
        AUTHORS_STEPS,
        Loop("l2", schedule="hag"),
        "DHTA-master's attack_imagenet.py: 2000 L2-normalised steps of 1 in normalised units, HAG's schedule",
    )

    def eps_for(self, budget: Budget) -> torch.Tensor:
        return budget.eps * self.model.input_std()

    def step_size_for(self, budget: Budget) -> torch.Tensor:
        return self.params["alpha"] * self.model.input_std()

    def effective_radii(self, budget: Budget) -> dict:
        pixels = [round(to_255(float(v)), 4) for v in self.eps_for(budget).flatten()]
        return {
            "eps": budget.eps_255,
            "eps_units": "normalised",
            "eps_pixels": pixels,
            "step": self.params["alpha"],
            "step_units": "normalised, L2 per query",
        }

    def target_pool(self) -> torch.Tensor:
        """Label vectors that more than n_t database items carry exactly (the code's `str2count[k] > n_an`)."""
        labels = self.knowledge.database_labels.bool()
        vectors, counts = torch.unique(labels, dim=0, return_counts=True)
        return vectors[counts > self.params["n_t"]]

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> Plan:
        k = self.knowledge
        code = anchor_code(target_labels.cpu(), k.database_codes, k.database_labels, self.params["n_t"], draw, True)
        return Plan(target_code=code.to(x.device))
