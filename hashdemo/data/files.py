"""Image sets read lazily from image files on disk (list-file and image-folder datasets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..core.errors import DataNotFoundError, InvalidInputError
from .base import ImageSet, Index

DEFAULT_SIZE = 224  # the literature's crop for ImageNet backbones (Resize 256, CenterCrop 224)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def resize_center_crop(image: Image.Image, size: int) -> Image.Image:
    """The literature's test-time transform: shorter side to size*256/224 (256 for 224), then centre crop."""
    short = round(size * 256 / 224)
    w, h = image.size
    scale = short / min(w, h)
    image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    return image.crop((left, top, left + size, top + size))


class FileImageSet(ImageSet):
    """Images loaded from files on each request, converted to RGB and resized/cropped to `size`."""

    def __init__(self, paths: list[Path], labels: torch.Tensor, size: int = DEFAULT_SIZE):
        self.paths = paths
        self.labels = labels.bool()
        self.size = size
        self.image_shape = (3, size, size)

    def _load(self, path: Path) -> torch.Tensor:
        try:
            with Image.open(path) as img:
                img = resize_center_crop(img.convert("RGB"), self.size)
        except FileNotFoundError as exc:
            raise DataNotFoundError(f"image file missing: {path}") from exc
        except (UnidentifiedImageError, OSError) as exc:
            raise InvalidInputError(f"{path}: not a readable image ({exc})") from exc
        return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)

    def images(self, index: Index) -> torch.Tensor:
        idx = torch.as_tensor(index, dtype=torch.long).tolist()
        return torch.stack([self._load(self.paths[i]) for i in idx]).float().div_(255)
