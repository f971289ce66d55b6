"""A retrieval system: a frozen hash model with its dataset and the database / training codes the index holds.

Loaded from a ModelSpec once per process and passed on as an object (so a device, a data root and a user's own
checkpoint survive every hop), or built in Python from any nn.Module and the user's tensors:

    system = HashingSystem.from_tensors(hashdemo.wrap(net, mean=..., std=...), database=(images, labels),
                                        queries=(q_images, q_labels))
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

from ..core.devices import pick_device
from ..core.errors import InvalidInputError
from ..core.progress import Progress, StderrBar
from ..data import FloatImageSet, RetrievalDataset, load_dataset
from ..models import HashModel, checkpoint
from ..models.card import ModelCard
from ..retrieval.encoding import encode
from ..targets.prototype import TABLE_FILE, PrototypeTable
from .spec import ModelSpec
from .zoo import ZOO, resolve_folder


@dataclass(eq=False)
class HashingSystem:
    """What an attacker probes and a user queries: model, data splits and the codes the index holds."""

    spec: ModelSpec
    model: HashModel
    dataset: RetrievalDataset
    database_codes: torch.Tensor  # int8 (N_db, K), on the CPU
    train_codes: torch.Tensor  # int8 (N_train, K), on the CPU
    card: ModelCard
    digest: str  # of the weights and codes: a retrained model under the same name is another system
    prototypes: PrototypeTable | None = None  # THA's prototype codes, shipped beside zoo models
    folder: Path | None = None  # the model folder it was loaded from (None: built in Python)
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        source = self.spec.source
        return source[len(ZOO) :] if source.startswith(ZOO) else source.rstrip("/").split("/")[-1]

    @property
    def label(self) -> str:
        """Short enough for a legend: the zoo name without the default dataset, or the folder's name."""
        return self.name.removeprefix("fashion-")

    @property
    def bits(self) -> int:
        return self.model.bits

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def identity(self) -> dict:
        """What its results depend on: the weights and codes, the data splits, and the device (cache keys)."""
        return {"weights": self.digest, "data": self.dataset.identity(), "device": self.device.type}

    def describe(self) -> dict:
        """What an export names: model, dataset and split, backbone, method, bits, weights digest, device, torch."""
        return {
            "model": self.spec.source,
            "dataset": self.dataset.name,
            "split": f"seed {self.dataset.split_seed}",
            "backbone": self.card.backbone,
            "method": self.card.method,
            "bits": self.bits,
            "weights": self.digest,
            "device": self.device.type,
            "torch": torch.__version__,
        }

    def query_codes(self) -> torch.Tensor:
        """Codes of the clean query split."""
        return encode(self.model, self.dataset.query)

    @classmethod
    def from_tensors(
        cls,
        model: HashModel,
        *,
        database: tuple[torch.Tensor, torch.Tensor],
        queries: tuple[torch.Tensor, torch.Tensor],
        train: tuple[torch.Tensor, torch.Tensor] | None = None,
        class_names: tuple[str, ...] | None = None,
        name: str = "my-model",
        progress: Progress | None = None,
    ) -> HashingSystem:
        """A system from the user's images in [0,1] (N, C, H, W) and multi-hot labels (N, C): the database is
        encoded once (a progress bar on stderr). `train` is what the attacker knows of the training set (the
        pharos code, THA's prototypes); without it the database stands in for it."""
        (db_images, db_labels), (q_images, q_labels) = database, queries
        train_images, train_labels = train or database
        labels = [torch.as_tensor(x).bool() for x in (db_labels, q_labels, train_labels)]
        if labels[0].ndim != 2 or any(x.shape[1] != labels[0].shape[1] for x in labels):
            raise InvalidInputError("labels must be multi-hot (N, C) with the same C for every split")
        num_classes = labels[0].shape[1]
        data = RetrievalDataset(
            name=name,
            class_names=class_names or tuple(f"class {i}" for i in range(num_classes)),
            train=FloatImageSet(train_images, labels[2]),
            query=FloatImageSet(q_images, labels[1]),
            database=FloatImageSet(db_images, labels[0]),
            split_seed=-1,
            protocol="the splits given in Python",
        )
        return cls.from_dataset(model, data, name=name, progress=progress)

    @classmethod
    def from_dataset(
        cls, model: HashModel, data: RetrievalDataset, *, name: str = "my-model", progress: Progress | None = None
    ) -> HashingSystem:
        """A system from a hash model and a RetrievalDataset (e.g. `hashdemo.data.load_dataset("cifar10", root)`)."""
        if not isinstance(model, HashModel):
            raise InvalidInputError(
                f"expected a hash model, got {type(model).__name__}: wrap it first, hashdemo.wrap(module, ...)"
            )
        model.freeze()
        bar = progress or StderrBar()
        database_codes = encode(model, data.database, progress=bar)
        train_codes = encode(model, data.train, progress=bar)
        digest = weights_digest(model, database_codes)
        card = ModelCard(
            dataset=data.name,
            backbone=type(getattr(model, "net", model)).__name__,
            bits=model.bits,
            in_channels=data.image_shape[0],
            mean=tuple(getattr(model, "mean", torch.zeros(1)).flatten().tolist()),
            std=tuple(getattr(model, "std", torch.ones(1)).flatten().tolist()),
            image_size=data.image_shape[1],
        )
        return cls(
            ModelSpec(f"python:{name}", str(model_device(model))),
            model,
            data,
            database_codes,
            train_codes,
            card,
            digest,
        )


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def weights_digest(model: torch.nn.Module, codes: torch.Tensor) -> str:
    """SHA-256 of a model's parameters and buffers and its database codes (for systems built in Python)."""
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    digest.update(codes.numpy().tobytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=16)
def load_system(spec: ModelSpec | str) -> HashingSystem:
    """Load a zoo model or a model folder with its dataset and codes, on the spec's device (cached, never mutated)."""
    spec = ModelSpec(spec) if isinstance(spec, str) else spec
    device = pick_device(spec.device)
    folder = resolve_folder(spec.source)
    model, card, codes = checkpoint.load(folder)
    image_size = card.image_size if card.dataset in ("folder", "list") or card.imported else None
    dataset = load_dataset(card.dataset, spec.data_root or card.data_root, card.split_seed, image_size)
    dataset = dataset.without_classes(card.held_out_classes)
    for split in ("database", "train"):
        if split not in codes:
            raise InvalidInputError(f"{folder}: {checkpoint.CODES_FILE} holds no {split} codes")
        if len(codes[split]) != len(getattr(dataset, split)):
            raise InvalidInputError(
                f"{folder}: {len(codes[split])} {split} codes but the {card.dataset} {split} split has "
                f"{len(getattr(dataset, split))} items (another split seed or data root?)"
            )
    if dataset.image_shape[0] != card.in_channels:
        raise InvalidInputError(
            f"{folder}: the model takes {card.in_channels}-channel images, {card.dataset} has {dataset.image_shape[0]}"
        )
    table = folder / TABLE_FILE
    prototypes = PrototypeTable.load(table) if table.is_file() else None
    model.to(device)
    return HashingSystem(
        spec,
        model,
        dataset,
        codes["database"],
        codes["train"],
        card,
        checkpoint.weights_digest(folder),
        prototypes,
        folder=folder,
    )
