"""Baseline: I-FGSM on the DHTA loss (ProS-GAN Table 2): T signed steps of alpha, no random start."""

from .dhta import DHTA


class IFGSM(DHTA):
    """Iterative FGSM towards the anchor code: PGD without random start or tanh schedule."""

    name, title, group = "ifgsm", "DHTA + I-FGSM", "baseline"
    paper = "Kurakin et al., ICLR 2017, on the DHTA loss as in ProS-GAN (Table 2)"
    loop_defaults = {"random_start": False, "schedule": "none"}
    paper_settings = {}
