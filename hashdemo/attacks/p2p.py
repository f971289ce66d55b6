"""P2P (Bai et al., ECCV 2020): DHTA with the code of one random item of the target label (n_t = 1)."""

from ..core.params import Param
from .base import ATTACKS
from .dhta import DHTA


@ATTACKS.register()
class P2P(DHTA):
    """Point-to-point: the target code is a single target-label database item's code."""

    name, title = "p2p", "P2P"
    target_title = None
    target_kind = "target item's"
    equation = r"\min_{x'}\ -\tfrac{1}{K}\,h_t^\top f(x'),\; h_t = \text{code of one target-label item}"
    parameters = (Param("n_t", 1, "P2P takes one target-label item's code", 1, 1, integer=True),)
