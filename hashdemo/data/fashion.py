"""Fashion-MNIST, the embedded default: real 28x28 grey photos of clothing, shipped in assets/."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch

from ..core.errors import DataNotFoundError
from ..core.paths import FASHION_DIR
from .base import RetrievalDataset, TensorImageSet, one_hot, per_class_sample, seeded
from .catalog import DataRequest, dataset
from .idx import read_idx

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
QUERY_PER_CLASS = 100
TRAIN_SIZE = 10_000


@lru_cache(maxsize=2)
def load_raw(root: str | None = None) -> dict[str, torch.Tensor]:
    """The four IDX arrays as tensors: images uint8 (N, 1, 28, 28), labels int64 (N,)."""
    folder = Path(root) if root else FASHION_DIR
    missing = [name for name in FILES.values() if not (folder / name).is_file()]
    if missing:
        raise DataNotFoundError(
            f"Fashion-MNIST not found: expected {', '.join(missing)} in {folder} "
            "(they ship in assets/data/fashion-mnist; Debian: apt-get install dataset-fashion-mnist "
            "puts them in /usr/share/datasets/fashion-mnist)"
        )
    out = {}
    for key, name in FILES.items():
        array = torch.from_numpy(read_idx(folder / name).copy())
        out[key] = array.unsqueeze(1) if key.endswith("images") else array.long()
    return out


@dataset("fashion", "Fashion-MNIST: 28x28 grey clothing photos, 10 classes (shipped)", embedded=True)
def load(request: DataRequest = DataRequest()) -> RetrievalDataset:
    """Query: 100 test images per class; database: the 60,000 training images; train: 10,000 of the database."""
    raw = load_raw(request.root)
    split_seed = request.split_seed
    gen = seeded(split_seed)
    query_idx = per_class_sample(raw["test_labels"], QUERY_PER_CLASS, gen)
    train_idx = torch.sort(torch.randperm(len(raw["train_labels"]), generator=gen)[:TRAIN_SIZE]).values
    database = TensorImageSet(raw["train_images"], one_hot(raw["train_labels"], 10))
    query = TensorImageSet(raw["test_images"][query_idx], one_hot(raw["test_labels"][query_idx], 10))
    return RetrievalDataset(
        name="fashion",
        class_names=CLASS_NAMES,
        train=database.subset(train_idx),
        query=query,
        database=database,
        split_seed=split_seed,
        protocol=(
            f"query = {QUERY_PER_CLASS} test images per class (1,000), database = the 60,000 training "
            f"images, train = {TRAIN_SIZE:,} images drawn from the database; torch.Generator seed {split_seed}"
        ),
        extra={"train_indices": train_idx, "query_indices": query_idx},
    )
