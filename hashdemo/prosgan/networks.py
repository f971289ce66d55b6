"""ProS-GAN's networks (Wang et al., CVPR 2021, Sec. 3.3-3.4 and 4.2) as the authors' code builds them, sized from
the image shape.

- SemanticDecoder D_t: a fully connected layer to a (width, s, s) map, four transposed convolutions (stride 2 while
  the size allows) with InstanceNorm and ReLU, then a 3x3 convolution to the image's channels (no activation).
- Generator G: [D_t(r_t), x] -> 7x7 convolution, two stride-2 downsamplings, residual blocks (half before the
  bottleneck, half after, as the code's encoder and decoder), two transposed-convolution upsamplings, then
  [features, x] -> 3x3 convolution -> tanh: the image itself in [-1, 1] (the code's skip from the input). The
  bounded variant adds eps * tanh(.) to x instead, so it never leaves the L-inf ball.
- Discriminator D: spectrally normalised stride-2 convolutions (LeakyReLU 0.01) while the map halves exactly, then
  one convolution over the whole map to C + 1 outputs, the classes and "fake"; no sigmoid (the code's note: a
  least-squares GAN takes the raw outputs). The paper's text says sigmoid outputs; the code's choice is kept.
The networks work on [-1, 1] images as the code does; the attack's interface is [0, 1].
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def halvings(size: int, most: int, smallest: int = 4) -> int:
    """How many times `size` can be halved exactly (at most `most` times) staying at `smallest` or more."""
    n = 0
    while n < most and size % 2 == 0 and size // 2 >= smallest:
        size //= 2
        n += 1
    return n


class SemanticDecoder(nn.Module):
    """D_t: r_t -> FC + ReLU -> (width, s, s) -> four transposed convolutions -> 3x3 convolution -> (C, H, W)."""

    def __init__(self, semantic_dim: int, image_shape: tuple[int, int, int], width: int = 128):
        super().__init__()
        channels, size, _ = image_shape
        ups = halvings(size, 4)
        self.start, self.width = size // 2**ups, width
        self.fc = nn.Sequential(nn.Linear(semantic_dim, width * self.start**2), nn.ReLU(True))
        layers: list[nn.Module] = []
        cin = width
        for i in range(4):
            cout = max(4, cin // 2)
            conv = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False) if i < ups else nn.Conv2d(cin, cout, 3, 1, 1)
            layers += [conv, nn.InstanceNorm2d(cout), nn.ReLU(True)]
            cin = cout
        layers.append(nn.Conv2d(cin, channels, 3, 1, 1, bias=False))
        self.net = nn.Sequential(*layers)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(r).view(len(r), self.width, self.start, self.start))


class ResidualBlock(nn.Module):
    """[3x3 convolution, InstanceNorm] x 2 with a ReLU between and the input added back."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels),
            nn.ReLU(True),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Generator(nn.Module):
    """G_xt on [-1, 1] images: (x, semantic map) -> the adversarial image (unbounded), or x + bound * tanh(.)."""

    def __init__(self, channels: int, size: int, ngf: int = 64, blocks: int = 6, bound: float | None = None):
        super().__init__()
        downs = halvings(size, 2, smallest=7)
        layers: list[nn.Module] = [nn.Conv2d(2 * channels, ngf, 7, 1, 3), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        width = ngf
        for _ in range(downs):
            layers += [nn.Conv2d(width, 2 * width, 4, 2, 1), nn.InstanceNorm2d(2 * width), nn.ReLU(True)]
            width *= 2
        layers += [ResidualBlock(width) for _ in range(blocks)]
        for _ in range(downs):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                nn.InstanceNorm2d(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        self.body = nn.Sequential(*layers)
        self.last = nn.Conv2d(width + channels, channels, 3, 1, 1, bias=False)
        self.bound = bound  # in [-1, 1] units: twice the [0, 1] budget

    def forward(self, x: torch.Tensor, semantic_map: torch.Tensor) -> torch.Tensor:
        out = torch.tanh(self.last(torch.cat([self.body(torch.cat([semantic_map, x], 1)), x], 1)))
        return out if self.bound is None else (x + self.bound * out).clamp(-1, 1)


class Discriminator(nn.Module):
    """Spectrally normalised stride-2 convolutions while the map halves exactly (to 7 px at 28, 56 and 224 px),
    then one convolution over the whole map to C + 1 raw outputs."""

    def __init__(self, channels: int, size: int, num_classes: int, ndf: int = 64, normalise: bool = True):
        super().__init__()
        norm = spectral_norm if normalise else (lambda layer: layer)
        downs = halvings(size, 5, smallest=4)
        layers: list[nn.Module] = []
        cin, cout = channels, ndf
        for _ in range(downs):
            layers += [norm(nn.Conv2d(cin, cout, 4, 2, 1)), nn.LeakyReLU(0.01)]
            cin, cout = cout, cout * 2
        layers.append(nn.Conv2d(cin, num_classes + 1, size // 2**downs, bias=False))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)
