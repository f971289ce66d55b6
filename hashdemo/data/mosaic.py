"""fashion-mosaic: multi-label 56x56 mosaics of 1-4 real Fashion-MNIST items (2x2 grid, empty cells allowed).

The label vector is the union of the items' classes, as in NUS-WIDE / MS-COCO. Everything is generated
deterministically from the shipped Fashion-MNIST files, so no extra download is needed.
"""

from __future__ import annotations

import torch

from .base import ImageSet, Index, RetrievalDataset, seeded
from .catalog import DataRequest, dataset
from .fashion import CLASS_NAMES, TRAIN_SIZE, load_raw

CELL = 28
QUERY_SIZE = 1000
TEST_MOSAICS = 10_000
DATABASE_MOSAICS = 60_000


def random_layouts(count: int, source_size: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 4) source-image index per grid cell, -1 for an empty cell; 1-4 items per mosaic."""
    n_items = torch.randint(1, 5, (count,), generator=generator)
    cell_order = torch.argsort(torch.rand(count, 4, generator=generator), dim=1)
    items = torch.randint(0, source_size, (count, 4), generator=generator)
    filled = torch.zeros(count, 4, dtype=torch.bool)
    filled.scatter_(1, cell_order, torch.arange(4).expand(count, 4) < n_items[:, None])
    return torch.where(filled, items, torch.full_like(items, -1))


class MosaicImageSet(ImageSet):
    """Mosaics composed on demand from source images and a layout table (cheap to hold in memory)."""

    def __init__(self, source_images: torch.Tensor, source_classes: torch.Tensor, layouts: torch.Tensor):
        self.source_images = source_images
        self.layouts = layouts
        self.image_shape = (1, 2 * CELL, 2 * CELL)
        labels = torch.zeros(len(layouts), len(CLASS_NAMES), dtype=torch.bool)
        for cell in range(4):
            used = layouts[:, cell] >= 0
            labels[used, source_classes[layouts[used, cell]]] = True
        self.labels = labels

    def images(self, index: Index) -> torch.Tensor:
        layout = self.layouts[torch.as_tensor(index, dtype=torch.long)]
        out = torch.zeros(len(layout), 1, 2 * CELL, 2 * CELL)
        for cell in range(4):
            row, col = divmod(cell, 2)
            used = layout[:, cell] >= 0
            tiles = self.source_images[layout[used, cell]].float().div_(255)
            out[used, :, row * CELL : (row + 1) * CELL, col * CELL : (col + 1) * CELL] = tiles
        return out


@dataset(
    "fashion-mosaic", "2x2 mosaics of 1-4 Fashion-MNIST items, multi-label like NUS-WIDE / MS-COCO (shipped)", True
)
def load(request: DataRequest = DataRequest()) -> RetrievalDataset:
    """Query: 1,000 of 10,000 test mosaics; database: 60,000 training mosaics; train: 10,000 of the database."""
    raw = load_raw(request.root)
    split_seed = request.split_seed
    gen = seeded(split_seed)
    database = MosaicImageSet(
        raw["train_images"], raw["train_labels"], random_layouts(DATABASE_MOSAICS, len(raw["train_labels"]), gen)
    )
    test = MosaicImageSet(
        raw["test_images"], raw["test_labels"], random_layouts(TEST_MOSAICS, len(raw["test_labels"]), gen)
    )
    query_idx = torch.sort(torch.randperm(TEST_MOSAICS, generator=gen)[:QUERY_SIZE]).values
    train_idx = torch.sort(torch.randperm(DATABASE_MOSAICS, generator=gen)[:TRAIN_SIZE]).values
    return RetrievalDataset(
        name="fashion-mosaic",
        class_names=CLASS_NAMES,
        train=database.subset(train_idx),
        query=test.subset(query_idx),
        database=database,
        split_seed=split_seed,
        protocol=(
            f"2x2 mosaics of 1-4 Fashion-MNIST items; query = {QUERY_SIZE:,} of {TEST_MOSAICS:,} mosaics of "
            f"test images, database = {DATABASE_MOSAICS:,} mosaics of training images, train = "
            f"{TRAIN_SIZE:,} drawn from the database; torch.Generator seed {split_seed}"
        ),
        extra={"train_indices": train_idx, "query_indices": query_idx},
    )
