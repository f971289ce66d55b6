"""A small CNN for 28-56 px images (the embedded default): three conv blocks and a 256-d feature layer."""

import torch
from torch import nn

from .backbones import backbone


def conv_block(cin: int, cout: int, pool: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    return layers + [nn.MaxPool2d(2)] if pool else layers


class SmallCNN(nn.Module):
    """conv32-pool, conv64-pool, conv128, 3x3 average pool, FC-256.

    Forward + backward to the input: about 0.33 ms per 28-px image on 2 CPU threads (bench/attack_speed.py)."""

    def __init__(
        self,
        in_channels: int = 1,
        widths: tuple[int, int, int] = (32, 64, 128),
        features: int = 256,
        dropout: float = 0.3,
    ):
        super().__init__()
        c1, c2, c3 = widths
        self.body = nn.Sequential(
            *conv_block(in_channels, c1, True),
            *conv_block(c1, c2, True),
            *conv_block(c2, c3, False),
            nn.AdaptiveAvgPool2d(3),
            nn.Flatten(),
            nn.Linear(c3 * 9, features),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
        )
        self.out_features = features
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@backbone("smallcnn", "a small CNN (3 conv blocks + FC-256) for 28-56 px images")
def smallcnn(in_channels: int, width: int | None = None, pretrained: bool = True, download: bool = False) -> SmallCNN:
    return SmallCNN(in_channels)
