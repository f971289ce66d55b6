"""Baseline: the feature-space attack of DHTA's appendix E (Inkawhich et al., CVPR 2019)."""

import torch

from ..models import binarize
from .base import Attack
from .losses import feature_loss


class FeatureAttack(Attack):
    """Move the features before the hash layer towards those of one database image of the target label."""

    name, title, group = "feature", "Feature-space", "baseline"
    paper = "Inkawhich et al., CVPR 2019, as compared in DHTA appendix E (Table 3)"
    equation = (
        r"\min_{x'}\ \tfrac{1}{d}\,\lVert \phi(x') - \phi(x_t)\rVert_2^2,\; x_t\ \text{an image of the target label}"
    )
    targeted = True
    target_kind = "target image's"
    needs = ("database_labels", "database_images")

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> dict:
        k = self.knowledge
        carries = (target_labels.cpu().float() @ k.database_labels.float().T) > 0
        picks = [
            int(torch.nonzero(row).flatten()[torch.randint(int(row.sum()), (1,), generator=draw)]) for row in carries
        ]
        with torch.no_grad():
            features = self.model.features(k.database_images.images(picks).to(x.device))
        return {
            "target_features": features,
            "target_code": binarize(self.model.head(features)),
            "target_index": torch.tensor(picks),
        }

    def objective(self, x_adv, x, scale, plan):
        features = self.model.features(x_adv)
        return feature_loss(features, plan["target_features"]), self.model.head(features)
