"""Where tensors live: 'auto' picks the GPU when one is present."""

from __future__ import annotations

import torch

from .errors import InvalidInputError


def pick_device(device: str | None = "auto") -> torch.device:
    """'auto' = the GPU when one is present, else the CPU; asking for CUDA without a GPU is an error."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidInputError("device 'cuda' asked for, but no GPU is available")
    if device != "cpu" and not device.startswith("cuda"):
        raise InvalidInputError(f"device must be auto, cpu or cuda, got {device!r}")
    return torch.device(device)
