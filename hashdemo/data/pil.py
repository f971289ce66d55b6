"""Image tensors as PIL images (for display and for the conversion of an upload)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def to_pil(image: torch.Tensor) -> Image.Image:
    """(C, H, W) in [0,1] -> RGB PIL image (grey images repeated on three channels)."""
    array = image.detach().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return Image.fromarray(array, "RGB")
