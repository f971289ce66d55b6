"""A retrieval system: a frozen hashing model with its dataset and precomputed database / training codes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from . import checkpoint
from .data import RetrievalDataset, load_dataset
from .devices import pick_device
from .encoding import encode
from .errors import DataNotFoundError, InvalidInputError
from .models import HashingModel
from .zoo import model_dir


@dataclass
class HashingSystem:
    """What an attacker probes and a user queries: model, data splits and the codes the index holds."""

    name: str
    spec: str  # how it was loaded: zoo:<name> or a checkpoint folder
    model: HashingModel
    dataset: RetrievalDataset
    database_codes: torch.Tensor  # int8 (N_db, K)
    train_codes: torch.Tensor  # int8 (N_train, K)
    meta: dict

    @property
    def bits(self) -> int:
        return self.model.bits

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def query_codes(self) -> torch.Tensor:
        """Codes of the clean query split (1,000 small images: well under a second on the CPU)."""
        return encode(self.model, self.dataset.query)


def resolve(spec: str) -> Path:
    """'zoo:<name>' -> its folder in assets/zoo; anything else is a checkpoint folder path."""
    if spec.startswith("zoo:"):
        return model_dir(spec[4:])
    path = Path(spec)
    if path.name == checkpoint.MODEL_FILE:
        path = path.parent
    if not path.is_dir():
        raise DataNotFoundError(
            f"model {spec!r} not found: give zoo:<name> (see 'hashdemo zoo') or a folder written by 'hashdemo train'"
        )
    return path


@lru_cache(maxsize=16)
def load_system(spec: str, device: str = "cpu", data_root: str | None = None) -> HashingSystem:
    """Load a zoo model or a trained checkpoint folder with its dataset and codes (cached, never mutated)."""
    folder = resolve(spec)
    model, meta, codes = checkpoint.load(folder)
    dataset = load_dataset(meta["dataset"], data_root or meta.get("data_root"), meta.get("split_seed", 0))
    dataset = dataset.without_classes(tuple(meta.get("held_out_classes") or ()))
    for split in ("database", "train"):
        if split not in codes:
            raise InvalidInputError(f"{folder}: {checkpoint.CODES_FILE} holds no {split} codes")
        if len(codes[split]) != len(getattr(dataset, split)):
            raise InvalidInputError(
                f"{folder}: {len(codes[split])} {split} codes but the {meta['dataset']} "
                f"{split} split has {len(getattr(dataset, split))} items (other split seed?)"
            )
    model.to(pick_device(device))
    name = spec[4:] if spec.startswith("zoo:") else folder.name
    return HashingSystem(name, spec, model, dataset, codes["database"], codes["train"], meta)
