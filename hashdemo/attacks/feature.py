"""Baseline: the feature-space attack of DHTA's appendix E (Inkawhich et al., CVPR 2019)."""

from dataclasses import dataclass

import torch

from ..models import binarize
from .base import ATTACKS, Attack, PaperSetting, Plan
from .loop import Loop
from .losses import feature_loss


@dataclass
class FeaturePlan(Plan):
    target_features: torch.Tensor | None = None  # (B, d) features of the chosen target-label image
    target_index: torch.Tensor | None = None  # (B,) its database index


@ATTACKS.register()
class FeatureAttack(Attack):
    """Move the features before the hash layer towards those of one database image of the target label.

    Compared under DHTA's settings (appendix E): 2000 iterations from x; no tanh, so no schedule."""

    name, title, group = "feature", "Feature-space", "baseline"
    paper = "Inkawhich et al., CVPR 2019, as compared in DHTA appendix E (Table 3)"
    equation = (
        r"\min_{x'}\ \tfrac{1}{d}\,\lVert \phi(x') - \phi(x_t)\rVert_2^2,\; x_t\ \text{an image of the target label}"
    )
    targeted = True
    target_kind = "target image's"
    needs = ("database_labels", "database_images")
    paper_setting = PaperSetting(2000, Loop(), "DHTA appendix E (DHTA's settings)")

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> FeaturePlan:
        k = self.knowledge
        carries = (target_labels.cpu().float() @ k.database_labels.float().T) > 0
        picks = [
            int(torch.nonzero(row).flatten()[torch.randint(int(row.sum()), (1,), generator=draw)]) for row in carries
        ]
        with torch.no_grad():
            features = self.model.features(k.database_images.images(picks).to(x.device))
        return FeaturePlan(
            target_code=binarize(self.model.head(features)),
            target_features=features,
            target_index=torch.tensor(picks, device=x.device),
        )

    def objective(self, x_adv, x, scale, plan: FeaturePlan):
        features = self.model.features(x_adv)
        return feature_loss(features, plan.target_features), self.model.head(features)
