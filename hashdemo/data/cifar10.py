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

from ..errors import DataNotFoundError, InvalidInputError, UnsafeFileError
from .base import RetrievalDataset, TensorImageSet, one_hot, per_class_sample, seeded

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


def load(root: str | None, split_seed: int = 0, download_if_missing: bool = False) -> RetrievalDataset:
    """Query: 100 test images per class; database: the 50,000 training images; train: 500 per class of those."""
    if not root:
        raise DataNotFoundError(f"cifar10: give the folder that holds {FOLDER}/ (--data-root), or ask for --download")
    folder = Path(root) / FOLDER
    missing = [f for f in TRAIN_FILES + [TEST_FILE] if not (folder / f).is_file()]
    if missing and download_if_missing:
        download(root)
        missing = [f for f in TRAIN_FILES + [TEST_FILE] if not (folder / f).is_file()]
    if missing:
        raise DataNotFoundError(
            f"cifar10: expected {', '.join(missing)} in {folder} (torchvision's format; pass --download to fetch it)"
        )
    train = [read_batch(folder / f) for f in TRAIN_FILES]
    test_images, test_labels = read_batch(folder / TEST_FILE)
    db_images = torch.from_numpy(np.concatenate([b[0] for b in train]))
    db_labels = torch.from_numpy(np.concatenate([b[1] for b in train]))
    test_images, test_labels = torch.from_numpy(test_images), torch.from_numpy(test_labels)
    gen = seeded(split_seed)
    per_class = min(QUERY_PER_CLASS, int(torch.bincount(test_labels).min()))
    query_idx = per_class_sample(test_labels, per_class, gen)
    train_idx = per_class_sample(db_labels, min(TRAIN_PER_CLASS, int(torch.bincount(db_labels).min())), gen)
    database = TensorImageSet(db_images, one_hot(db_labels, 10))
    return RetrievalDataset(
        name="cifar10",
        class_names=CLASS_NAMES,
        train=database.subset(train_idx),
        query=TensorImageSet(test_images[query_idx], one_hot(test_labels[query_idx], 10)),
        database=database,
        split_seed=split_seed,
        protocol=(
            f"query = {per_class} test images per class, database = the training images, train = "
            f"{TRAIN_PER_CLASS} database images per class; torch.Generator seed {split_seed}"
        ),
    )
