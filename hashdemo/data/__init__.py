"""Datasets by name. Each returns a RetrievalDataset of images in [0,1] and multi-hot labels."""

from __future__ import annotations

from functools import lru_cache

from ..errors import InvalidInputError
from . import cifar10, fashion, imagefolder, listfile, mosaic
from .base import ImageSet, RetrievalDataset

EMBEDDED = ("fashion", "fashion-mosaic")
LIST_FILE_SETS = ("nus-wide", "flickr25k", "ms-coco", "imagenet100")
DATASETS = EMBEDDED + ("cifar10", "folder") + LIST_FILE_SETS


@lru_cache(maxsize=8)
def load_dataset(
    name: str, root: str | None = None, split_seed: int = 0, image_size: int = 224, download: bool = False
) -> RetrievalDataset:
    """Load a dataset by name; `root` is the user's copy (the embedded sets need none)."""
    if name == "fashion":
        return fashion.load(root, split_seed)
    if name == "fashion-mosaic":
        return mosaic.load(root, split_seed)
    if name == "cifar10":
        return cifar10.load(root, split_seed, download_if_missing=download)
    if name == "folder":
        return imagefolder.load(root, split_seed, image_size)
    if name in LIST_FILE_SETS:
        return listfile.load(name, root, image_size)
    raise InvalidInputError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


__all__ = ["DATASETS", "EMBEDDED", "ImageSet", "RetrievalDataset", "load_dataset"]
