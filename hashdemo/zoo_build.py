"""Rebuilding the zoo from scratch (`make zoo`): the recipe of every shipped model, trained two at a time."""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import replace

import torch

from .errors import DataNotFoundError
from .paths import ZOO_DIR
from .progress import StderrBar
from .train import TrainConfig, train_and_save
from .zoo import INDEX_FILE, INDEX_KEYS

RESNET_WIDTH = 16  # keeps the shipped ResNet-18 at 0.7 M parameters (2.8 MB)
SPECS: list[TrainConfig] = [
    TrainConfig("fashion", "smallcnn", method, bits)
    for method in ("dph", "dpsh", "hashnet", "csq")
    for bits in (16, 32, 64)
] + [
    TrainConfig("fashion", "resnet18-cifar", "dpsh", 32, width=RESNET_WIDTH),
    TrainConfig("fashion-mosaic", "smallcnn", "dpsh", 32),
]


def spec_name(config: TrainConfig) -> str:
    return f"{config.dataset}-{config.method}-{config.backbone}-{config.bits}"


def write_index() -> list[dict]:
    """Rebuild index.json from the meta.json of every model folder present."""
    entries = []
    for config in SPECS:
        meta_path = ZOO_DIR / spec_name(config) / "meta.json"
        if meta_path.is_file():
            meta = json.loads(meta_path.read_text())
            entries.append({"name": spec_name(config), **{k: meta[k] for k in INDEX_KEYS}})
    (ZOO_DIR / INDEX_FILE).write_text(json.dumps({"models": entries}, indent=2) + "\n")
    return entries


def _build_one(config: TrainConfig) -> str:
    torch.set_num_threads(1)  # one thread per model: the shipped numbers were made this way
    name = spec_name(config)
    meta = train_and_save(replace(config, device="cpu"), ZOO_DIR / name, StderrBar())
    return f"{name}: clean MAP@{meta['topk']} {meta['clean_map']:.4f} in {meta['train_seconds']:.0f} s"


def build(only: list[str] | None = None, jobs: int = 2) -> list[dict]:
    """Train the zoo (or the named part of it) from scratch, `jobs` models at a time, then rewrite the index."""
    configs = [c for c in SPECS if not only or spec_name(c) in only]
    unknown = set(only or []) - {spec_name(c) for c in SPECS}
    if unknown:
        raise DataNotFoundError(f"not in the zoo's recipe: {', '.join(sorted(unknown))}")
    with multiprocessing.get_context("spawn").Pool(max(1, jobs)) as pool:
        for line in pool.imap(_build_one, configs):
            print(line, flush=True)
    return write_index()
