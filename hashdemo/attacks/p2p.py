"""P2P (Bai et al., ECCV 2020): DHTA with the code of one random item of the target label (n_t = 1)."""

from .dhta import DHTA


class P2P(DHTA):
    """Point-to-point: the target code is a single target-label database item's code."""

    name, title = "p2p", "P2P"
    equation = r"\min_{x'}\ -\tfrac{1}{K}\,h_t^\top f(x'),\; h_t = \text{code of one target-label item}"
    method_defaults = {"n_t": 1}
