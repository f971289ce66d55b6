"""A retrieval system: a frozen hash model with its dataset and the database / training codes the index holds.

Loaded from a ModelSpec once per process and passed on as an object (so a device, a data root and a user's own
checkpoint survive every hop), or built in Python from any nn.Module and the user's tensors:

    system = HashingSystem.from_tensors(hashdemo.wrap(net, mean=..., std=...), database=(images, labels),
                                        queries=(q_images, q_labels))
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
from .zoo import folder_card, resolve_folder

PYTHON = "python:"  # the source of a system built in Python


@dataclass(eq=False)
class HashingSystem:
    """What an attacker probes and a user queries: model, data splits and the codes the index holds."""

    spec: ModelSpec
    model: HashModel
    dataset: RetrievalDataset
    database_codes: torch.Tensor  # int8 (N_db, K), on the CPU
    train_codes: torch.Tensor  # int8 (N_train, K), on the CPU
    card: ModelCard  # what the model is, with where it was read and its weights digest
    codes_digest: str  # of the database and training codes the index holds
    prototypes: PrototypeTable | None = None  # THA's prototype codes, shipped beside zoo models
    folder: Path | None = None  # the model folder it was loaded from (None: built in Python)
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def label(self) -> str:
        return self.card.label

    @property
    def bits(self) -> int:
        return self.model.bits

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def identity(self) -> dict:
        """What its results depend on (cache keys): the weights' and codes' contents, the data splits, the
        device; not where the folder lies."""
        return {
            "weights": self.spec.digest,
            "codes": self.codes_digest,
            "data": self.dataset.identity(),
            "device": self.device.type,
        }

    def describe(self) -> dict:
        """What an export names: the model card's fields, the device and the torch version."""
        return {**self.card.describe(), "device": self.device.type, "torch": torch.__version__}

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
        card = ModelCard(
            dataset=data.name,
            backbone=type(getattr(model, "net", model)).__name__,
            bits=model.bits,
            in_channels=data.image_shape[0],
            mean=tuple(getattr(model, "mean", torch.zeros(1)).flatten().tolist()),
            std=tuple(getattr(model, "std", torch.ones(1)).flatten().tolist()),
            image_size=data.image_shape[1],
            split=data.protocol,
            source=f"{PYTHON}{name}",
            name=name,
            origin="python",
            weights=module_digest(model),
        )
        spec = ModelSpec(card.source, str(model_device(model)), digest=card.weights)
        codes = checkpoint.tensors_digest({"database": database_codes, "train": train_codes})
        return cls(spec, model, data, database_codes, train_codes, card, codes)


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def module_digest(model: torch.nn.Module) -> str:
    """The digest of a model's parameters and buffers (for systems built in Python)."""
    return checkpoint.tensors_digest(model.state_dict())


@lru_cache(maxsize=16)
def load_system(spec: ModelSpec) -> HashingSystem:
    """Load a zoo model or a model folder with its dataset and codes, on the spec's device (cached, never mutated);
    the system's spec carries the digest of the weights' contents."""
    if not isinstance(spec, ModelSpec):
        raise InvalidInputError(f"load_system takes a ModelSpec, got {type(spec).__name__}: ModelSpec({spec!r})")
    device = pick_device(spec.device)
    folder = resolve_folder(spec.source)
    card = folder_card(folder)
    model, _, codes = checkpoint.load(folder)
    size, resize = preprocessing(card, spec)
    root, lists = spec.data_root or card.data_root, spec.list_dir or card.list_dir
    dataset = load_dataset(card.dataset, root, card.split_seed, size, resize=resize, lists=lists)
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
        replace(spec, digest=card.weights),
        model,
        dataset,
        codes["database"],
        codes["train"],
        card,
        checkpoint.codes_digest(folder),
        prototypes,
        folder=folder,
    )


def preprocessing(card: ModelCard, spec: ModelSpec) -> tuple[int | None, int | None]:
    """The crop and the resize file-based data is cut with: what the model folder was saved with; a spec asking for
    another is refused (a 32-px net fed 64-px crops retrieves nonsense, silently, and the database codes in the
    folder were made with the folder's)."""
    if card.dataset not in ("folder", "list") and not card.imported:
        return None, None  # embedded data: the model takes the dataset's own size
    for name, flag in (("image_size", "--image-size"), ("resize", "--resize")):
        asked, saved = getattr(spec, name), getattr(card, name)
        if asked is not None and saved is not None and asked != saved:
            raise InvalidInputError(
                f"{card.source} was saved with {name.replace('_', ' ')} {saved}, not {asked}: leave {flag} unset "
                "(or import the checkpoint again with the one it was evaluated with)"
            )
    return spec.image_size or card.image_size, card.resize if spec.resize is None else spec.resize
