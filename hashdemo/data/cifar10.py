"""CIFAR-10 in torchvision's on-disk format (`root/cifar-10-batches-py/`), read without unpickling code.

The batches are Python pickles. They are read with an unpickler that only rebuilds plain containers and
numpy arrays, so a tampered file cannot run code. `download=True` (only when the user asks) fetches the
archive with torchvision's checksum-verified downloader.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import torch

from ..core.errors import DataNotFoundError, InvalidInputError, UnsafeFileError
from .base import RetrievalDataset, TensorImageSet, one_hot, per_class_sample, seeded
from .catalog import DataRequest, dataset

FOLDER = "cifar-10-batches-py"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILE = "test_batch"
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
QUERY_PER_CLASS = 100
TRAIN_PER_CLASS = 500

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise UnsafeFileError(f"refusing to load {module}.{name} from a CIFAR-10 batch file")
        return super().find_class(module, name)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 3, 32, 32), labels int64 (N,)) from one batch file."""
    try:
        batch = _ArrayOnlyUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except UnsafeFileError:
        raise
    except Exception as exc:  # any malformed pickle is a corrupt file to the user
        raise InvalidInputError(f"{path}: not a CIFAR-10 batch file ({exc})") from exc
    return data, labels


def download(root: str) -> None:
    """Fetch and unpack the official archive into root (only on explicit request)."""
    from torchvision.datasets.utils import download_and_extract_archive

    download_and_extract_archive(URL, root, md5=MD5)


def read_folder(request: DataRequest, name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, train labels, test images, test labels) of torchvision's files under request.root."""
    if not request.root:
        raise DataNotFoundError(f"{name}: give the folder that holds {FOLDER}/ (--data-root), or ask for --download")
    folder = Path(request.root) / FOLDER
    missing = [f for f in TRAIN_FILES + [TEST_FILE] if not (folder / f).is_file()]
    if missing and request.download:
        download(request.root)
        missing = [f for f in TRAIN_FILES + [TEST_FILE] if not (folder / f).is_file()]
    if missing:
        raise DataNotFoundError(
            f"{name}: expected {', '.join(missing)} in {folder} (torchvision's format; pass --download to fetch it)"
        )
    train = [read_batch(folder / f) for f in TRAIN_FILES]
    test_images, test_labels = read_batch(folder / TEST_FILE)
    return (
        torch.from_numpy(np.concatenate([b[0] for b in train])),
        torch.from_numpy(np.concatenate([b[1] for b in train])),
        torch.from_numpy(test_images),
        torch.from_numpy(test_labels),
    )


@dataset("cifar10-hashdemo", "CIFAR-10, hashdemo's split: 100 test images per class query the 50,000 training images")
def load(request: DataRequest) -> RetrievalDataset:
    """Query: 100 test images per class; database: the 50,000 training images; train: 500 per class of those."""
    db_images, db_labels, test_images, test_labels = read_folder(request, "cifar10-hashdemo")
    gen = seeded(request.split_seed)
    per_class = min(QUERY_PER_CLASS, int(torch.bincount(test_labels).min()))
    query_idx = per_class_sample(test_labels, per_class, gen)
    train_idx = per_class_sample(db_labels, min(TRAIN_PER_CLASS, int(torch.bincount(db_labels).min())), gen)
    database = TensorImageSet(db_images, one_hot(db_labels, 10))
    return RetrievalDataset(
        name="cifar10-hashdemo",
        class_names=CLASS_NAMES,
        train=database.subset(train_idx),
        query=TensorImageSet(test_images[query_idx], one_hot(test_labels[query_idx], 10)),
        database=database,
        split_seed=request.split_seed,
        protocol=(
            f"query = {per_class} test images per class, database = the training images, train = "
            f"{TRAIN_PER_CLASS} database images per class; torch.Generator seed {request.split_seed}"
        ),
    )


# DeepHash-pytorch's CIFAR-10 protocols: the 60,000 images pooled, per class `query` queries, then `train` training
# images, the rest the database; cifar10-1 adds the training images to the database, cifar10-2 searches them only
DEEPHASH_SPLITS = {
    "cifar10": (100, 500, "rest", "query 1,000, train 5,000, database 54,000 (the rest)"),
    "cifar10-1": (100, 500, "train+rest", "query 1,000, train 5,000, database 59,000 (train + the rest)"),
    "cifar10-2": (1000, 5000, "train", "query 10,000, train 50,000, database 50,000 (= train)"),
}


def deephash_split(name: str, request: DataRequest) -> RetrievalDataset:
    """A DeepHash-pytorch CIFAR-10 split, drawn per class with torch.Generator(split_seed) (theirs is unseeded)."""
    query_n, train_n, database, sizes = DEEPHASH_SPLITS[name]
    train_images, train_labels, test_images, test_labels = read_folder(request, name)
    images, labels = torch.cat([train_images, test_images]), torch.cat([train_labels, test_labels])
    gen = seeded(request.split_seed)
    parts: dict[str, list[torch.Tensor]] = {"query": [], "train": [], "rest": []}
    for c in range(10):
        members = torch.nonzero(labels == c).flatten()
        members = members[torch.randperm(len(members), generator=gen)]
        parts["query"].append(members[:query_n])
        parts["train"].append(members[query_n : query_n + train_n])
        parts["rest"].append(members[query_n + train_n :])
    index = {k: torch.sort(torch.cat(v)).values for k, v in parts.items()}
    index["train+rest"] = torch.sort(torch.cat([index["train"], index["rest"]])).values
    every = TensorImageSet(images, one_hot(labels, 10))
    return RetrievalDataset(
        name=name,
        class_names=CLASS_NAMES,
        train=every.subset(index["train"]),
        query=every.subset(index["query"]),
        database=every.subset(index[database]),
        split_seed=request.split_seed,
        protocol=f"DeepHash-pytorch's {name}: {sizes}, drawn per class; torch.Generator seed {request.split_seed}",
    )


def register(name: str) -> None:
    @dataset(name, f"CIFAR-10 as DeepHash-pytorch's {name}: {DEEPHASH_SPLITS[name][3]}")
    def load_split(request: DataRequest) -> RetrievalDataset:
        return deephash_split(name, request)


for each in DEEPHASH_SPLITS:
    register(each)
