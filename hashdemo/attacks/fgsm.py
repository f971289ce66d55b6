"""Baseline: FGSM on the DHTA loss (ProS-GAN Table 2): one signed step of size eps towards the anchor code."""

from .dhta import DHTA


class FGSM(DHTA):
    """x' = clip(x - eps * sign(grad of -(1/K) h_a . f(x))), from x (no random start)."""

    name, title, group = "fgsm", "DHTA + FGSM", "baseline"
    paper = "Goodfellow et al., ICLR 2015, on the DHTA loss as in ProS-GAN (Table 2)"
    loop_defaults = {"random_start": False, "schedule": "none"}
    paper_settings = {}

    def __init__(self, model, **kwargs):
        super().__init__(model, **kwargs)
        self.alpha = self.eps

    def loop_steps(self) -> int:
        return 1
