"""A small VGG-style network for 28-56 px images: two 3x3 convolutions per stage, no BatchNorm, max-pool, and
VGG's two fully connected layers with dropout. It shares no topology with `smallcnn` (one convolution per stage,
BatchNorm, average pool) or `resnet18-cifar` (residual blocks): the transfer study's black box is built on it."""

import torch
from torch import nn

from .backbones import backbone


class SmallVGG(nn.Module):
    """[conv-relu] x2, pool for widths (w, 2w, 4w), then FC-512, FC-512 (ReLU, dropout 0.5), as VGG's classifier."""

    def __init__(self, in_channels: int = 1, width: int = 32, features: int = 512):
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for cout in (width, 2 * width, 4 * width):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
            layers += [nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2, ceil_mode=True)]
            cin = cout
        self.features = nn.Sequential(*layers, nn.AdaptiveMaxPool2d(3), nn.Flatten())
        self.classifier = nn.Sequential(
            nn.Linear(cin * 9, features),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(features, features),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
        )
        self.out_features = features
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@backbone("vgg-small", "a small VGG-style net (two convolutions per stage, no BatchNorm) for 28-56 px images")
def vgg_small(in_channels: int, width: int | None = None, pretrained: bool = True, download: bool = False):
    return SmallVGG(in_channels, width or 32)
