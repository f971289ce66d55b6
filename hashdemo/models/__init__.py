"""Backbones by name and the hashing model built on them."""

from __future__ import annotations

from torch import nn

from ..errors import InvalidInputError
from .hashing_model import HashingModel, InputAdapter, binarize
from .resnet_cifar import ResNet18Cifar
from .smallcnn import SmallCNN
from .torchvision_nets import IMAGENET_MEAN, IMAGENET_STD, WEIGHTS, TorchvisionBackbone

SMALL_BACKBONES = ("smallcnn", "resnet18-cifar")
BACKBONES = SMALL_BACKBONES + tuple(WEIGHTS)
MAX_BITS = 1024


def build_backbone(
    name: str, in_channels: int, width: int | None = None, pretrained: bool = True, download: bool = False
) -> nn.Module:
    if name == "smallcnn":
        return SmallCNN(in_channels)
    if name == "resnet18-cifar":
        return ResNet18Cifar(in_channels, width or 64)
    if name in WEIGHTS:
        return TorchvisionBackbone(name, pretrained=pretrained, download=download)
    raise InvalidInputError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")


def build_model(
    backbone: str,
    bits: int,
    in_channels: int,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    width: int | None = None,
    alpha: float = 1.0,
    pretrained: bool = True,
    download: bool = False,
) -> HashingModel:
    """A HashingModel; 224-px backbones get ImageNet normalisation and resize their input to 224."""
    if not isinstance(bits, int) or not 1 <= bits <= MAX_BITS:
        raise InvalidInputError(f"bit length must be an integer from 1 to {MAX_BITS}, got {bits!r}")
    net = build_backbone(backbone, in_channels, width, pretrained, download)
    if backbone in WEIGHTS:
        adapter = InputAdapter(in_channels, 3, IMAGENET_MEAN, IMAGENET_STD, size=224)
    else:
        adapter = InputAdapter(in_channels, in_channels, mean, std)
    return HashingModel(adapter, net, bits, alpha)


__all__ = ["BACKBONES", "HashingModel", "InputAdapter", "binarize", "build_model"]
