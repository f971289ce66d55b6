"""The dataset registry: each dataset file registers its loader with `@dataset(...)` (one import line in
data/__init__.py adds it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.registry import Registry
from .base import RetrievalDataset


@dataclass(frozen=True)
class DataRequest:
    """What a loader is asked for: the user's copy (root), the split seed, the image size of file-based data
    (None: the loader's default), whether a download is allowed, and the resize before the crop."""

    root: str | None = None
    split_seed: int = 0
    image_size: int | None = None
    download: bool = False
    resize: int | None = None  # the shorter side before the crop (data.files.resize_side)
    lists: str | None = None  # the folder of a list-file dataset's lists, when not the image root


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    load: Callable[[DataRequest], RetrievalDataset]
    description: str  # one line for help texts and the app's picker
    embedded: bool = False  # shipped in assets/ (needs no --data-root)


DATASETS: Registry[DatasetEntry] = Registry("dataset")


def dataset(name: str, description: str, embedded: bool = False):
    """Decorator: register a loader (DataRequest) -> RetrievalDataset under `name`."""

    def add(load: Callable[[DataRequest], RetrievalDataset]) -> Callable[[DataRequest], RetrievalDataset]:
        DATASETS.register(name)(DatasetEntry(name, load, description, embedded))
        return load

    return add
