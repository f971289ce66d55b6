"""Codes of whole image sets, batch by batch."""

from __future__ import annotations

import torch

from ..core.progress import Progress, silent
from ..data import ImageSet
from ..models import HashingModel


@torch.no_grad()
def encode(
    model: HashingModel,
    images: ImageSet,
    batch_size: int = 1000,
    device: torch.device | None = None,
    progress: Progress = silent,
) -> torch.Tensor:
    """+-1 int8 codes (N, K) of a whole image set, on the CPU."""
    device = device or next(model.parameters()).device
    out = []
    for idx, batch in images.batches(batch_size):
        out.append(model.encode(batch.to(device)).cpu())
        progress(int(idx[-1]) + 1, len(images), "encoding")
    return torch.cat(out) if out else torch.zeros(0, model.bits, dtype=torch.int8)
