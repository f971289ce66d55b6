"""The backbone registry: each backbone file registers a factory with `@backbone(...)` (one line in
models/__init__.py imports it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..core.registry import Registry

# (in_channels, width, pretrained, download) -> a module with `out_features`
Factory = Callable[[int, int | None, bool, bool], nn.Module]


@dataclass(frozen=True)
class Backbone:
    """A network before the hash layer: how to build it, what it takes, one line for the app's help."""

    name: str
    build: Factory
    description: str
    input_size: int | None = None  # the size it resizes every input to (224 for the ImageNet nets), None: any
    imagenet: bool = False  # ImageNet normalisation inside the model instead of the data's own


BACKBONES: Registry[Backbone] = Registry("backbone")


def backbone(name: str, description: str, input_size: int | None = None, imagenet: bool = False):
    """Decorator: register a factory (in_channels, width, pretrained, download) -> nn.Module under `name`."""

    def add(factory: Factory) -> Factory:
        BACKBONES.register(name)(Backbone(name, factory, description, input_size, imagenet))
        return factory

    return add
