"""Baseline: FGSM on the DHTA loss (ProS-GAN Table 2): one signed step of size eps towards the anchor code."""

from .base import ATTACKS, PaperSetting
from .budget import Budget
from .dhta import DHTA
from .loop import Loop


@ATTACKS.register()
class FGSM(DHTA):
    """x' = clip(x - eps * sign(grad of -(1/K) h_a . f(x))), from x (no random start, no schedule)."""

    name, title, group = "fgsm", "DHTA + FGSM", "baseline"
    paper = "Goodfellow et al., ICLR 2015, on the DHTA loss as in ProS-GAN (Table 2)"
    default_loop = Loop()
    fixed_steps = 1
    paper_setting = PaperSetting(1, Loop(), "ProS-GAN Table 2: one step of eps")

    @classmethod
    def step_size_for(cls, budget: Budget) -> float:
        return budget.eps
