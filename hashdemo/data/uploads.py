"""Uploaded images into the dataset's format (channels, size, polarity), every step reported; bad files refused."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ..core.errors import InvalidInputError
from .pil import to_pil

MAX_UPLOAD_BYTES = 20 * 2**20
MAX_UPLOAD_PIXELS = 40_000_000
READABLE = "PNG, JPEG, GIF, BMP, TIFF and WebP images"


@dataclass
class Upload:
    tensor: torch.Tensor  # (1, C, H, W) in [0,1], the dataset's format
    original: Image.Image  # a thumbnail of what was uploaded
    converted: Image.Image  # what the model sees
    steps: list[str]  # the conversion, in words


def convert_upload(data: bytes, shape: tuple[int, int, int], invert: bool | None = None) -> Upload:
    """Any common image file -> the dataset's format (channels, size); every step is reported.

    invert=None decides by the border: Fashion-MNIST items are light on a black background, so a photo on a
    light background is inverted.
    """
    if not data:
        raise InvalidInputError("the uploaded file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(f"the file is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > MAX_UPLOAD_PIXELS:
                raise InvalidInputError(
                    f"the image is {probe.width}x{probe.height} pixels; the limit is "
                    f"{MAX_UPLOAD_PIXELS // 1_000_000} megapixels"
                )
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except InvalidInputError:
        raise
    except UnidentifiedImageError:
        raise InvalidInputError(f"not a readable image file: {READABLE} are accepted") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInputError(f"not a readable image file: it is damaged or cut short ({exc})") from None
    steps = [f"read {image.format or 'image'} {image.width}x{image.height}, mode {image.mode}"]
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        steps.append(f"animated: the first of its {frames} frames is used")
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
        steps.append("transparency composited on white")
    elif image.mode == "CMYK":
        image = image.convert("RGB")
        steps.append("CMYK converted to RGB")
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
        steps.append("converted to RGB")
    original = image.copy()
    original.thumbnail((256, 256))
    channels, height, width = shape
    if channels == 1 and image.mode != "L":
        image = image.convert("L")
        steps.append("converted to grey (ITU-R 601 luma)")
    elif channels == 3 and image.mode != "RGB":
        image = image.convert("RGB")
        steps.append("grey repeated on three channels")
    side = min(image.size)
    if image.width != image.height:
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        steps.append(f"centre-cropped to {side}x{side}")
    image = image.resize((width, height), Image.LANCZOS)
    steps.append(f"resized to {width}x{height}")
    tensor = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)
    tensor = tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)
    if invert is None:
        border = torch.cat([tensor[:, 0], tensor[:, -1], tensor[:, :, 0], tensor[:, :, -1]], dim=1)
        invert = channels == 1 and float(border.mean()) > 0.5
    if invert:
        tensor = 1 - tensor
        steps.append("inverted (Fashion-MNIST items are light on black)")
    return Upload(tensor[None].clamp(0, 1), original, to_pil(tensor), steps)
