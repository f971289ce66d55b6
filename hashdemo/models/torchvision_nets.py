"""torchvision's ImageNet backbones for 224 px images, with their classifier's last layer removed.

ImageNet weights are used when they are already in the user's torch cache, or downloaded when the user
asks (`download=True`); otherwise the backbone starts from random weights and says so.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

from .backbones import backbone

# backbone name -> torchvision's weights enum (torchvision is imported only when one is built: it takes 1 s)
WEIGHTS = {
    "alexnet": "AlexNet_Weights",
    "vgg11": "VGG11_Weights",
    "vgg16": "VGG16_Weights",
    "resnet18": "ResNet18_Weights",
    "resnet34": "ResNet34_Weights",
    "resnet50": "ResNet50_Weights",
    "resnet101": "ResNet101_Weights",
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_weights(name: str):
    import torchvision

    return getattr(torchvision.models, WEIGHTS[name]).IMAGENET1K_V1


def cached_weights_path(name: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(imagenet_weights(name).url).name


class TorchvisionBackbone(nn.Module):
    """A torchvision classifier whose output is the penultimate feature vector."""

    def __init__(self, name: str, pretrained: bool = True, download: bool = False):
        super().__init__()
        import torchvision

        weights = imagenet_weights(name)
        use_weights = pretrained and (download or cached_weights_path(name).is_file())
        if pretrained and not use_weights:
            print(
                f"hashdemo: no ImageNet weights for {name} in {cached_weights_path(name).parent}; "
                "starting from random weights (pass --download to fetch them)",
                file=sys.stderr,
            )
        net = getattr(torchvision.models, name)(weights=weights if use_weights else None)
        if name.startswith("resnet"):
            self.out_features = net.fc.in_features
            net.fc = nn.Identity()
        else:  # alexnet, vgg: drop the last Linear of the classifier
            self.out_features = net.classifier[-1].in_features
            net.classifier = nn.Sequential(*list(net.classifier.children())[:-1])
        self.net = net
        self.pretrained = use_weights
        self.in_channels = 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def register(name: str) -> None:
    @backbone(name, f"torchvision's {name} for 224 px images (ImageNet weights when in the torch cache)", 224, True)
    def build(in_channels: int, width: int | None = None, pretrained: bool = True, download: bool = False):
        return TorchvisionBackbone(name, pretrained=pretrained, download=download)


for each in WEIGHTS:
    register(each)
