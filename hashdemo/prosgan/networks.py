"""ProS-GAN's networks (Wang et al., CVPR 2021, Sec. 3.3-3.4 and 4.2), sized from the image shape.

- SemanticDecoder D_t: one fully connected layer and four transposed convolutions upsample the semantic
  representation r_t to a map x_t of the image's size (Sec. 3.3).
- Generator G: x and x_t concatenated into an encoder-decoder in the style of CycleGAN's ResNet generator
  (ref. [49]), the original image concatenated again before the last layer (the skip of Sec. 3.3); output in
  [0,1] (the paper works on [-1,1] images; hashdemo's images are [0,1]).
- Discriminator D: stride-2 convolutions down to a small map, then one convolution over all of it to C + 1
  sigmoid outputs: the classes and "fake" (Sec. 3.4, 4.2: five stride-2 convolutions and a 7x7 one at 224 px).
"""

from __future__ import annotations

import torch
from torch import nn


def halvings(size: int, most: int, smallest: int = 4) -> int:
    """How many times `size` can be halved exactly (at most `most` times) staying at `smallest` or more."""
    n = 0
    while n < most and size % 2 == 0 and size // 2 >= smallest:
        size //= 2
        n += 1
    return n


class SemanticDecoder(nn.Module):
    """D_t: r_t -> FC -> (width, s, s) -> four transposed convolutions (stride 2 while the size allows) -> (C, H, W)."""

    def __init__(self, semantic_dim: int, image_shape: tuple[int, int, int], width: int = 32):
        super().__init__()
        channels, size, _ = image_shape
        ups = halvings(size, 4)
        self.start = size // 2**ups
        self.width = width
        self.fc = nn.Linear(semantic_dim, width * self.start**2)
        layers: list[nn.Module] = []
        cin = width
        for i in range(4):
            stride = 2 if i < ups else 1
            cout = channels if i == 3 else max(8, cin // 2)
            if stride == 2:
                layers.append(nn.ConvTranspose2d(cin, cout, 4, 2, 1))
            else:
                layers.append(nn.ConvTranspose2d(cin, cout, 3, 1, 1))
            if i < 3:
                layers += [nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            cin = cout
        self.net = nn.Sequential(*layers)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.fc(r)).view(len(r), self.width, self.start, self.start)
        return torch.tanh(self.net(x))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Generator(nn.Module):
    """G_xt: c7s1-ngf, two stride-2 downsamplings (fewer if the image is too small), residual blocks, the same
    upsamplings, then [last features, x] -> 7x7 convolution -> sigmoid, so the output is an image in [0,1]."""

    def __init__(self, channels: int, size: int, ngf: int = 32, blocks: int = 3):
        super().__init__()
        downs = halvings(size, 2, smallest=7)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(2 * channels, ngf, 7),
            nn.InstanceNorm2d(ngf),
            nn.ReLU(True),
        ]
        width = ngf
        for _ in range(downs):
            layers += [nn.Conv2d(width, 2 * width, 3, 2, 1), nn.InstanceNorm2d(2 * width), nn.ReLU(True)]
            width *= 2
        layers += [ResidualBlock(width) for _ in range(blocks)]
        for _ in range(downs):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 3, 2, 1, output_padding=1),
                nn.InstanceNorm2d(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        self.body = nn.Sequential(*layers)
        self.last = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(width + channels, channels, 7))

    def forward(self, x: torch.Tensor, semantic_map: torch.Tensor) -> torch.Tensor:
        features = self.body(torch.cat([x, semantic_map], 1))
        return torch.sigmoid(self.last(torch.cat([features, 2 * x - 1], 1)))


class Discriminator(nn.Module):
    """Stride-2 convolutions (LeakyReLU) while the map halves exactly (to 7 px at 28, 56 and 224 px, 4 px at 32),
    then one convolution over the whole map to C + 1 sigmoid outputs."""

    def __init__(self, channels: int, size: int, num_classes: int, ndf: int = 32):
        super().__init__()
        downs = halvings(size, 5, smallest=4)
        layers: list[nn.Module] = []
        cin, cout = channels, ndf
        for _ in range(downs):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            cin, cout = cout, min(cout * 2, 256)
        final = size // 2**downs
        layers.append(nn.Conv2d(cin, num_classes + 1, final))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(2 * x - 1).flatten(1))
