"""Backbones by name (a registry each backbone file adds itself to) and the hashing model built on them."""

from __future__ import annotations

from ..core.errors import InvalidInputError
from ..core.params import Param
from . import resnet_cifar, smallcnn, torchvision_nets, vgg_small  # noqa: F401  (each registers its backbone)
from .backbones import BACKBONES, Backbone
from .hashing_model import HashingModel, HashModel, InputAdapter, binarize
from .torchvision_nets import IMAGENET_MEAN, IMAGENET_STD

MAX_BITS = 1024
BITS = Param("bits", 32, "code length K", 1, MAX_BITS, integer=True, label="bit length")


def normalisation(backbone: str, data_mean: tuple[float, ...], data_std: tuple[float, ...]):
    """The (mean, std) a new model normalises with: ImageNet's for the ImageNet backbones, the data's otherwise."""
    return (IMAGENET_MEAN, IMAGENET_STD) if BACKBONES.get(backbone).imagenet else (data_mean, data_std)


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
    input_size: int | None = None,
) -> HashingModel:
    """A HashingModel normalising its input by (mean, std) inside; the ImageNet backbones take 3 channels and
    resize their input to theirs (their normalisation: models.normalisation)."""
    if not isinstance(bits, int) or not 1 <= bits <= MAX_BITS:
        raise InvalidInputError(f"bit length must be an integer from 1 to {MAX_BITS}, got {bits!r}")
    spec = BACKBONES.get(backbone)
    net = spec.build(in_channels, width, pretrained, download)
    if spec.imagenet:
        adapter = InputAdapter(in_channels, 3, mean, std, size=input_size or spec.input_size)
    else:
        adapter = InputAdapter(in_channels, in_channels, mean, std)
    return HashingModel(adapter, net, bits, alpha)


__all__ = [
    "BACKBONES",
    "Backbone",
    "HashModel",
    "HashingModel",
    "InputAdapter",
    "binarize",
    "build_model",
    "normalisation",
]
