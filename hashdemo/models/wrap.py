"""Any nn.Module as a hash model: `hashdemo.wrap(net, output="pre-tanh", mean=..., std=...)`, after which every
attack, metric, protocol, report and figure works on it (the way torchattacks takes any classifier)."""

from __future__ import annotations

import torch
from torch import nn

from ..core.errors import InvalidInputError
from .hashing_model import HashModel

OUTPUTS = ("pre-tanh", "tanh")
ATANH_LIMIT = 1 - 1e-6  # tanh outputs are clipped just inside (-1, 1) before atanh


class WrappedModel(HashModel):
    """A user's network with its normalisation inside: images in [0,1] -> (x - mean) / std -> net(x).

    output="pre-tanh": the net returns H (DeepHash-pytorch's nets: codes sign(net(x))); "tanh": it returns tanh(H),
    and H = atanh(out) (clipped inside (-1, 1), so saturated bits keep a finite, tiny gradient). `bits` is found
    with one forward pass on a probe of `input_shape` unless given.
    """

    def __init__(
        self,
        net: nn.Module,
        output: str = "pre-tanh",
        mean: tuple[float, ...] = (0.0,),
        std: tuple[float, ...] = (1.0,),
        bits: int | None = None,
        input_shape: tuple[int, int, int] | None = None,
    ):
        super().__init__()
        if not isinstance(net, nn.Module):
            raise InvalidInputError(f"wrap() takes an nn.Module, got {type(net).__name__}")
        if output not in OUTPUTS:
            raise InvalidInputError(f"output must be 'pre-tanh' or 'tanh', got {output!r}")
        if len(mean) != len(std):
            raise InvalidInputError("mean and std need one value per channel each")
        self.net, self.output = net, output
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        if bits is None:
            if input_shape is None:
                raise InvalidInputError("give bits=K or input_shape=(C, H, W) so the code length can be probed")
            device = next(net.parameters()).device
            with torch.no_grad():
                was = net.training
                net.eval()
                bits = int(net(torch.zeros(1, *input_shape, device=device)).shape[-1])
                net.train(was)
        self.bits = int(bits)

    def pre_tanh(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net((x - self.mean) / self.std)
        if out.ndim != 2 or out.shape[1] != self.bits:
            raise InvalidInputError(f"the wrapped net must return (B, {self.bits}), got {tuple(out.shape)}")
        if self.output == "tanh":
            return torch.atanh(out.clamp(-ATANH_LIMIT, ATANH_LIMIT))
        return out


def wrap(
    net: nn.Module,
    output: str = "pre-tanh",
    mean: tuple[float, ...] = (0.0,),
    std: tuple[float, ...] = (1.0,),
    bits: int | None = None,
    input_shape: tuple[int, int, int] | None = None,
) -> WrappedModel:
    """A frozen hash model from any nn.Module (see WrappedModel); the module is put in eval mode, untouched else."""
    return WrappedModel(net, output, mean, std, bits, input_shape).freeze()
