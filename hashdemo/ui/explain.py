"""Lecture notes shown beside each view: an equation (LaTeX) and one paragraph on what the view shows."""

NOTES = {
    "images": (
        r"x' = \Pi_{\|x'-x\|_\infty\le\epsilon}\big(x' - \eta\,\mathrm{sign}(\nabla_{x'}\mathcal{L})\big)",
        "The adversarial query x' differs from the original x by at most epsilon per pixel (L-inf). The right panel "
        "amplifies the difference so that +-epsilon spans the whole scale: red pixels were brightened, blue ones "
        "darkened, white ones untouched. Each image is upscaled with nearest-neighbour, so what you see is exactly "
        "the pixels the model sees.",
    ),
    "codes": (
        r"b = \mathrm{sign}(\tanh(f(x))) \in \{-1,+1\}^K,\quad D_H(b, b') = \tfrac12\,(K - b^\top b')",
        "Each square is one bit of the K-bit hash code (dark = +1, light = -1). Red frames mark the bits the attack "
        "flipped. The target code is where a targeted attack steers (DHTA's anchor: the bitwise vote of n_t codes of "
        "the target label; THA's prototype: sign of a PrototypeNet's output) or what a non-targeted attack flees "
        "(PgA's pharos code: the code closest to the query's positives and farthest from its negatives, PgA Eq. 7).",
    ),
    "retrieval": (
        r"\mathrm{rank}(x) = \mathrm{argsort}_j\,\big(D_H(b(x), b_j),\ j\big)",
        "The system returns the database items nearest in Hamming distance (d under each tile); ties are broken by "
        "database index so the list is reproducible. A green frame means the item shares a label with the query, "
        "red means it does not; for targeted attacks a T badge marks items that carry the target label. A successful "
        "non-targeted attack turns the right grid red; a targeted one fills it with T.",
    ),
    "trace": (
        r"F(x') = \tanh(\alpha H(x')),\quad \alpha: 0.1 \to 1 \ \text{(HAG schedule)}",
        "How the adversarial code moves during the optimisation: its Hamming distance to the clean code (rising for "
        "every attack) and to the target code (falling for targeted attacks, rising for PgA's pharos code), with the "
        "loss on the right axis. HAG and DHTA start with a flattened tanh (alpha = 0.1) so gradients do not vanish "
        "in the saturated tanh, and sharpen it in stages; jumps in the loss mark the stage changes.",
    ),
    "numbers": (
        r"\mathrm{AP@}k = \frac{1}{R_k}\sum_{v=1}^{k} P(v)\,\delta(v),\quad "
        r"\mathrm{RMSE} = \sqrt{\tfrac1M\textstyle\sum (x-x')^2},\ \mathrm{MSE} = \tfrac1M\textstyle\sum (x-x')^2",
        "AP@k averages the precision at each relevant hit in the top k (R_k = relevant items found there; 0 if none), "
        "so it rewards relevant items near the top. t-AP is the same with relevance judged against the target label. "
        "Perceptibility is reported both ways the papers do: HAG's RMSE and ProS-GAN's MSE over pixels in [0,1].",
    ),
}
