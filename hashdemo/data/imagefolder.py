"""An image-folder dataset: `root/<class name>/<image files>`, split by a seed."""

from __future__ import annotations

from pathlib import Path

import torch

from ..core.errors import DataNotFoundError
from .base import RetrievalDataset, one_hot, seeded
from .catalog import DataRequest, dataset
from .files import DEFAULT_SIZE, IMAGE_SUFFIXES, FileImageSet, check_files

MAX_QUERY_PER_CLASS = 100
MAX_TRAIN_PER_CLASS = 500


@dataset("folder", "your images, one sub-folder per class (--data-root; --image-size, default 224)")
def load(request: DataRequest) -> RetrievalDataset:
    """Per class: 10% (1 to 100) of the images are queries, the rest the database; train = up to 500 of those."""
    root, split_seed, image_size = request.root, request.split_seed, request.image_size or DEFAULT_SIZE
    if not root or not Path(root).is_dir():
        raise DataNotFoundError(f"image folder not found: {root!r} (expected root/<class name>/<images>)")
    classes = sorted(p.name for p in Path(root).iterdir() if p.is_dir())
    files = {c: sorted(p for p in (Path(root) / c).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) for c in classes}
    classes = [c for c in classes if len(files[c]) >= 2]
    if len(classes) < 2:
        raise DataNotFoundError(f"{root}: need at least two class folders with two or more images each")
    check_files([(path, f"{c}/") for c in classes for path in files[c]], f"folder {root}")
    gen = seeded(split_seed)
    split_paths = {"train": [], "query": [], "database": []}
    split_classes = {"train": [], "query": [], "database": []}
    for c_index, c in enumerate(classes):
        order = torch.randperm(len(files[c]), generator=gen).tolist()
        n_query = min(MAX_QUERY_PER_CLASS, max(1, len(order) // 10))
        parts = {
            "query": order[:n_query],
            "database": order[n_query:],
            "train": order[n_query : n_query + MAX_TRAIN_PER_CLASS],
        }
        for split, members in parts.items():
            split_paths[split] += [files[c][i] for i in sorted(members)]
            split_classes[split] += [c_index] * len(members)
    sets = {
        s: FileImageSet(
            split_paths[s], one_hot(torch.tensor(split_classes[s]), len(classes)), image_size, request.resize
        )
        for s in split_paths
    }
    return RetrievalDataset(
        name="folder",
        class_names=tuple(classes),
        train=sets["train"],
        query=sets["query"],
        database=sets["database"],
        split_seed=split_seed,
        protocol=(
            f"per class, 10% of the images (1 to {MAX_QUERY_PER_CLASS}) are queries and the rest the "
            f"database; train = up to {MAX_TRAIN_PER_CLASS} database images per class; seed {split_seed}"
        ),
    )
