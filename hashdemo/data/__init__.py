"""Datasets by name (a registry each dataset file adds itself to). Each returns a RetrievalDataset of images in
[0,1] and multi-hot labels."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from . import cifar10, fashion, imagefolder, listfile, mosaic  # noqa: F401  (each registers its datasets)
from .base import FloatImageSet, ImageSet, RetrievalDataset
from .catalog import DATASETS, DataRequest, DatasetEntry


def resolve_root(root: str | None) -> str | None:
    """A data root as an absolute path (so a model folder that records it works from any directory)."""
    return None if root in (None, "") else str(Path(root).expanduser().resolve())


@lru_cache(maxsize=8)
def load_dataset(
    name: str,
    root: str | None = None,
    split_seed: int = 0,
    image_size: int | None = None,
    download: bool = False,
    resize: int | None = None,
    lists: str | None = None,
) -> RetrievalDataset:
    """Load a dataset by name; `root` is the user's copy (the embedded sets need none)."""
    request = DataRequest(resolve_root(root), split_seed, image_size, download, resize, resolve_root(lists))
    return DATASETS.get(name).load(request)


def embedded() -> list[str]:
    return [name for name, entry in DATASETS.items() if entry.embedded]


__all__ = [
    "DATASETS",
    "DataRequest",
    "DatasetEntry",
    "FloatImageSet",
    "ImageSet",
    "RetrievalDataset",
    "embedded",
    "load_dataset",
    "resolve_root",
]
