"""Baseline: I-FGSM on the DHTA loss (ProS-GAN Table 2): T signed steps of alpha, no random start."""

from .base import ATTACKS, PaperSetting
from .dhta import DHTA
from .loop import Loop


@ATTACKS.register()
class IFGSM(DHTA):
    """Iterative FGSM towards the anchor code: PGD from x without the tanh schedule (ProS-GAN Table 2: T = 100)."""

    name, title, group = "ifgsm", "DHTA + I-FGSM", "baseline"
    paper = "Kurakin et al., ICLR 2017, on the DHTA loss as in ProS-GAN (Table 2)"
    default_loop = Loop()
    paper_setting = PaperSetting(100, Loop(), "ProS-GAN Table 2: 100 steps of 1/255")
