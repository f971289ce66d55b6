"""The list-file format of the hashing literature (NUS-WIDE, FLICKR-25K, MS-COCO, ImageNet-100).

`root/` (or a folder of lists apart, `--list-dir`, as DeepHash-pytorch keeps them in ./data/<name>/) holds train.txt,
test.txt (the queries) and database.txt; each line is `<image path relative to root> <0/1 label vector>`. An
optional classes.txt beside them names the classes, one per line.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..core.errors import DataNotFoundError, InvalidInputError
from .base import RetrievalDataset
from .catalog import DataRequest, dataset
from .files import DEFAULT_SIZE, FileImageSet, check_files

SPLIT_FILES = {"train": "train.txt", "query": "test.txt", "database": "database.txt"}


def read_list(path: Path, root: Path) -> tuple[list[Path], torch.Tensor, list[str]]:
    """Image paths (relative to `root`), multi-hot labels and where each is listed ('test.txt line 3')."""
    paths, labels, where = [], [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) < 2 or any(p not in ("0", "1") for p in parts[1:]):
            raise InvalidInputError(f"{path} line {number}: expected '<image path> <0/1 label vector>'")
        if labels and len(parts) - 1 != len(labels[0]):
            raise InvalidInputError(
                f"{path} line {number}: {len(parts) - 1} labels, earlier lines have {len(labels[0])}"
            )
        paths.append(root / parts[0])
        labels.append([int(p) for p in parts[1:]])
        where.append(f"{path.name} line {number}")
    if not paths:
        raise InvalidInputError(f"{path}: no entries")
    return paths, torch.tensor(labels, dtype=torch.bool), where


def load(name: str, request: DataRequest) -> RetrievalDataset:
    """Read the three list files (in `request.lists`, else in the image root) and check every image they name
    before anything is encoded; images are loaded lazily, resized and centre-cropped."""
    root, image_size = request.root, request.image_size or DEFAULT_SIZE
    if not root:
        raise DataNotFoundError(
            f"{name}: give the folder that holds train.txt, test.txt and database.txt (--data-root)"
        )
    folder, lists = Path(root), Path(request.lists or root)
    missing = [f for f in SPLIT_FILES.values() if not (lists / f).is_file()]
    if missing:
        raise DataNotFoundError(
            f"{name}: expected {', '.join(missing)} in {lists} (lines '<image path relative to {folder}> "
            "<0/1 label vector>'; --list-dir names a folder of lists kept apart, as DeepHash-pytorch's ./data/<name>/)"
        )
    splits = {split: read_list(lists / f, folder) for split, f in SPLIT_FILES.items()}
    widths = {labels.shape[1] for _, labels, _ in splits.values()}
    if len(widths) != 1:
        raise InvalidInputError(f"{name}: the list files disagree on the number of classes ({sorted(widths)})")
    listed = [entry for paths, _, where in splits.values() for entry in zip(paths, where, strict=True)]
    check_files(listed, f"{name} in {folder}")
    n_classes = widths.pop()
    names_file = lists / "classes.txt"
    class_names = (
        tuple(names_file.read_text().split("\n")[:n_classes])
        if names_file.is_file()
        else tuple(f"class {i}" for i in range(n_classes))
    )
    sets = {
        split: FileImageSet(paths, labels, image_size, request.resize) for split, (paths, labels, _) in splits.items()
    }
    return RetrievalDataset(
        name=name,
        class_names=class_names,
        train=sets["train"],
        query=sets["query"],
        database=sets["database"],
        split_seed=-1,
        protocol=f"splits as given by the list files in {lists}",
    )


# the literature's multi-label and ImageNet subsets in their list-file format; "list": any other data in it
LIST_FILE_SETS = {
    "nus-wide": "NUS-WIDE",
    "flickr25k": "FLICKR-25K (MIRFLICKR)",
    "ms-coco": "MS-COCO",
    "imagenet100": "ImageNet-100",
    "list": "any data",
}


def register(name: str) -> None:
    @dataset(name, f"{LIST_FILE_SETS[name]} as list files train.txt, test.txt, database.txt (--data-root)")
    def load_named(request: DataRequest) -> RetrievalDataset:
        return load(name, request)


for each in LIST_FILE_SETS:
    register(each)
