"""Image sets read lazily from image files on disk (list-file and image-folder datasets)."""

from __future__ import annotations

import os
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image, UnidentifiedImageError

from ..core.errors import DataNotFoundError, InvalidInputError
from .base import ImageSet, Index

DEFAULT_SIZE = 224  # the literature's crop for ImageNet backbones (Resize 256, CenterCrop 224)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def resize_side(size: int, resize: int | None) -> int:
    """The shorter side before the crop: `resize` (0: no resize), unset: size*256/224 rounded (256 for 224, the
    Resize(256) + CenterCrop(224) of DeepHash-pytorch and the papers' code)."""
    return round(size * 256 / 224) if resize is None else resize


def resize_center_crop(image: Image.Image, size: int, resize: int | None = None) -> Image.Image:
    """torchvision's Resize(resize) then CenterCrop(size) on a PIL image, bit for bit (they are called: the long
    side truncated, the crop's offset rounded, a crop larger than the image padded with zeros)."""
    side = resize_side(size, resize)
    if side:
        image = TF.resize(image, [side], interpolation=TF.InterpolationMode.BILINEAR)
    return TF.center_crop(image, [size, size])


SHOWN_FAULTS = 5
CONVERTED = {  # PIL modes convert("RGB") changes, as a warning names them
    "RGBA": "with alpha (dropped)",
    "LA": "grey with alpha (dropped)",
    "PA": "palette with alpha (dropped)",
    "CMYK": "CMYK",
    "P": "palette",
    "I;16": "16-bit (clipped at 255)",
    "I": "32-bit (clipped at 255)",
    "F": "floating-point (clipped at 255)",
}


def header_fault(path: Path) -> tuple[str | None, str]:
    """(what is wrong with the file, or None; its PIL mode): only the header is read."""
    try:
        with Image.open(path) as img:
            return None, img.mode
    except FileNotFoundError:
        return "missing", ""
    except (UnidentifiedImageError, OSError) as exc:
        return f"not a readable image ({exc.__class__.__name__})", ""


def check_files(entries: list[tuple[Path, str]], what: str) -> None:
    """Every image exists and has a readable header, before any encoding (threads: seconds for 200,000 files);
    else one error with the count and the first lines at fault. `entries` are (path, where it is listed). Modes
    that PIL's convert("RGB") changes (as torchvision pipelines do) are counted in one warning."""
    with ThreadPoolExecutor(max_workers=min(32, 4 * (os.cpu_count() or 1))) as pool:
        found = list(pool.map(header_fault, [path for path, _ in entries], chunksize=256))
    pairs = zip(entries, found, strict=True)
    faults = [f"{where}: {path.name} {fault}" for (path, where), (fault, _) in pairs if fault]
    if faults:
        shown = "; ".join(faults[:SHOWN_FAULTS]) + ("; ..." if len(faults) > SHOWN_FAULTS else "")
        raise DataNotFoundError(f"{what}: {len(faults):,} of {len(entries):,} images cannot be read: {shown}")
    modes = Counter("I;16" if mode.startswith("I;16") else mode for _, mode in found)
    changed = [f"{n:,} {CONVERTED.get(mode, mode)}" for mode, n in sorted(modes.items()) if mode in CONVERTED]
    if changed:
        warnings.warn(f"{what}: converted to RGB as torchvision pipelines do: {', '.join(changed)}", stacklevel=2)


class FileImageSet(ImageSet):
    """Images loaded from files on each request as torchvision pipelines load them: PIL's convert("RGB"), then
    Resize(resize) and CenterCrop(size) (resize_center_crop), then ToTensor's division by 255."""

    def __init__(self, paths: list[Path], labels: torch.Tensor, size: int = DEFAULT_SIZE, resize: int | None = None):
        self.paths = paths
        self.labels = labels.bool()
        self.size = size
        self.resize = resize
        self.image_shape = (3, size, size)

    def _load(self, path: Path) -> torch.Tensor:
        try:
            with Image.open(path) as img:
                img = resize_center_crop(img.convert("RGB"), self.size, self.resize)
        except FileNotFoundError as exc:
            raise DataNotFoundError(f"image file missing: {path}") from exc
        except (UnidentifiedImageError, OSError) as exc:
            raise InvalidInputError(f"{path}: not a readable image ({exc})") from exc
        return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)

    def images(self, index: Index) -> torch.Tensor:
        idx = torch.as_tensor(index, dtype=torch.long).tolist()
        return torch.stack([self._load(self.paths[i]) for i in idx]).float().div_(255)
