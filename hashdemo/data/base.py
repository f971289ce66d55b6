"""Image sets (one split each) and the retrieval dataset that bundles train / query / database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import torch

Index = Sequence[int] | torch.Tensor


class ImageSet:
    """N images fetched by index as float tensors in [0,1] (n, C, H, W), with multi-hot labels (N, C)."""

    labels: torch.Tensor  # bool, (N, num_classes)
    image_shape: tuple[int, int, int]

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def images(self, index: Index) -> torch.Tensor:
        raise NotImplementedError

    def batches(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (indices, images) over the whole set in order."""
        for start in range(0, len(self), batch_size):
            idx = torch.arange(start, min(start + batch_size, len(self)))
            yield idx, self.images(idx)

    def subset(self, index: Index) -> SubsetImageSet:
        return SubsetImageSet(self, torch.as_tensor(index, dtype=torch.long))


class TensorImageSet(ImageSet):
    """Images held in memory as uint8 (N, C, H, W)."""

    def __init__(self, pixels: torch.Tensor, labels: torch.Tensor):
        if pixels.dtype != torch.uint8 or pixels.ndim != 4:
            raise ValueError("pixels must be uint8 of shape (N, C, H, W)")
        self.pixels = pixels
        self.labels = labels.bool()
        self.image_shape = tuple(pixels.shape[1:])

    def images(self, index: Index) -> torch.Tensor:
        return self.pixels[torch.as_tensor(index, dtype=torch.long)].float().div_(255)


class FloatImageSet(ImageSet):
    """Images given as a float tensor in [0,1] (N, C, H, W), e.g. a researcher's own preprocessed images."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        if not images.is_floating_point() or images.ndim != 4:
            raise ValueError("images must be a float tensor (N, C, H, W) in [0,1]")
        self.pixels = images.detach().cpu()
        self.labels = labels.bool().cpu()
        self.image_shape = tuple(images.shape[1:])

    def images(self, index: Index) -> torch.Tensor:
        return self.pixels[torch.as_tensor(index, dtype=torch.long)].clone()


class SubsetImageSet(ImageSet):
    """A view on some items of another image set."""

    def __init__(self, parent: ImageSet, indices: torch.Tensor):
        self.parent = parent
        self.indices = indices
        self.labels = parent.labels[indices]
        self.image_shape = parent.image_shape

    def images(self, index: Index) -> torch.Tensor:
        return self.parent.images(self.indices[torch.as_tensor(index, dtype=torch.long)])


@dataclass(frozen=True)
class RetrievalDataset:
    """A retrieval benchmark: train (hashing model), query (attacked) and database (searched) splits."""

    name: str
    class_names: tuple[str, ...]
    train: ImageSet
    query: ImageSet
    database: ImageSet
    split_seed: int
    protocol: str  # one sentence describing how the splits were drawn
    extra: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.query.image_shape

    def without_classes(self, classes: tuple[int, ...]) -> RetrievalDataset:
        """The same data with the training split stripped of every item carrying one of `classes` (an open-set
        model never sees them; query and database keep them, DHTA appendix "open-set targeted attack")."""
        if not classes:
            return self
        keep = ~self.train.labels[:, list(classes)].any(1)
        return replace(
            self,
            train=self.train.subset(torch.nonzero(keep).flatten()),
            extra={**self.extra, "held_out_classes": tuple(classes)},
        )

    def identity(self) -> dict:
        """What identifies these splits (cache keys, exports): name, split seed, sizes and image shape."""
        return {
            "dataset": self.name,
            "split_seed": self.split_seed,
            "sizes": [len(self.train), len(self.query), len(self.database)],
            "image_shape": list(self.image_shape),
            "held_out_classes": list(self.extra.get("held_out_classes", ())),
        }

    def label_names(self, labels: torch.Tensor) -> str:
        """'T-shirt/top + Bag' for a multi-hot label vector."""
        names = [self.class_names[i] for i in torch.nonzero(labels.bool()).flatten().tolist()]
        return " + ".join(names) if names else "(none)"


def one_hot(classes: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Multi-hot (here one-hot) bool labels from class indices."""
    return torch.nn.functional.one_hot(classes.long(), num_classes).bool()


def per_class_sample(classes: torch.Tensor, per_class: int, generator: torch.Generator) -> torch.Tensor:
    """Sorted indices of `per_class` items of each class, drawn without replacement."""
    chosen = []
    for c in torch.unique(classes).tolist():
        members = torch.nonzero(classes == c).flatten()
        if len(members) < per_class:
            raise ValueError(f"class {c} has {len(members)} items, fewer than {per_class}")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.sort(torch.cat(chosen)).values


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))
