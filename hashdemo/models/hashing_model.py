"""Hash models: the interface every attack reads (HashModel), and hashdemo's own model: input adapter
(normalisation inside the model), backbone, hash layer, tanh(alpha * y)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_batchnorm(module: nn.Module) -> None:
    """In every nn.Sequential below `module`, fold a BatchNorm2d into the Conv2d before it (eval mode only)."""
    for child in module.children():
        fold_batchnorm(child)
    if isinstance(module, nn.Sequential):
        layers = list(module)
        for i in range(len(layers) - 1):
            if isinstance(layers[i], nn.Conv2d) and isinstance(layers[i + 1], nn.BatchNorm2d):
                module[i] = fuse_conv_bn_eval(layers[i], layers[i + 1])
                module[i + 1] = nn.Identity()


def binarize(values: torch.Tensor) -> torch.Tensor:
    """sign() as in HAG Eq. 1: +1 where v > 0, else -1; returned as int8 codes."""
    return torch.where(values > 0, 1, -1).to(torch.int8)


class InputAdapter(nn.Module):
    """Maps images in [0,1] to what the backbone expects: channel count, size, then (x - mean) / std."""

    def __init__(
        self,
        in_channels: int,
        backbone_channels: int,
        mean: tuple[float, ...],
        std: tuple[float, ...],
        size: int | None = None,
    ):
        super().__init__()
        self.in_channels = in_channels
        self.backbone_channels = backbone_channels
        self.size = size
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1 and self.backbone_channels == 3:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] == 3 and self.backbone_channels == 1:
            x = (x * torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
        if self.size is not None and x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std


class HashModel(nn.Module):
    """What attacks, metrics and pages use of a hashing network: images in [0,1] (B, C, H, W) -> the pre-tanh
    output H (B, K) (`pre_tanh`), tanh(H) (`forward`), sign(H) as int8 codes (`encode`). The feature-space attack
    also needs `features` and `head` (H = head(features(x)))."""

    bits: int
    has_features: bool = False

    def pre_tanh(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} exposes no features before its hash layer")

    def head(self, features: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} exposes no hash layer")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.pre_tanh(x))

    def freeze(self) -> HashModel:
        """Inference form: eval mode, no parameter gradients."""
        return self.eval().requires_grad_(False)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """+-1 int8 codes of a batch."""
        return binarize(self.pre_tanh(x))

    def input_std(self) -> torch.Tensor:
        """One unit of the (x - mean) / std inside the model, in [0,1] pixels, broadcastable to (1, C, 1, 1): the
        std per channel (ones for a model that does not normalise)."""
        std = getattr(self, "std", None)
        return std if std is not None else torch.ones(1, 1, 1, 1, device=next(self.parameters()).device)


class HashingModel(HashModel):
    """images in [0,1] -> features -> y = Linear(features, K) -> H = alpha * y -> tanh(H); codes = sign(H)."""

    has_features = True

    def __init__(self, adapter: InputAdapter, backbone: nn.Module, bits: int, alpha: float = 1.0):
        super().__init__()
        self.adapter = adapter
        self.backbone = backbone
        self.hash_layer = nn.Linear(backbone.out_features, bits)
        self.register_buffer("alpha", torch.tensor(float(alpha)))
        self.bits = bits
        self.folded = False  # BatchNorm folded into the convolutions (freeze); a checkpoint records it

    def input_std(self) -> torch.Tensor:
        """The adapter's std; its smallest value where the adapter converts grey <-> RGB, so that a box of that
        size on the input stays inside the same box in normalised units."""
        a = self.adapter
        return a.std if a.in_channels == a.backbone_channels else a.std.min().view(1, 1, 1, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The representation before the hash layer (used by the feature-space attack)."""
        return self.backbone(self.adapter(x))

    def head(self, features: torch.Tensor) -> torch.Tensor:
        """Pre-tanh output H = alpha * y from features."""
        return self.alpha * self.hash_layer(features)

    def pre_tanh(self, x: torch.Tensor) -> torch.Tensor:
        """H(x), the continuous output before the hash activation (HAG needs it)."""
        return self.head(self.features(x))

    def freeze(self, fold: bool = True) -> HashingModel:
        """Inference form: eval mode, no parameter gradients, and (fold=True) BatchNorm folded into convolutions
        (same codes on every zoo model's 60,000 database items; attacks run about 20% faster). An imported model
        is not folded, so that its codes stay bit for bit those of the code it came from."""
        self.eval().requires_grad_(False)
        if fold and not self.folded:
            fold_batchnorm(self)
            self.folded = True
        return self
