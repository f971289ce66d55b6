"""The one training loop, shared by every hashing loss; writes a checkpoint with codes and clean MAP."""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from . import __version__, checkpoint
from .data import load_dataset
from .devices import pick_device
from .encoding import encode
from .hashing import get_method
from .metrics import mean_average_precision
from .models import build_model
from .progress import Progress, silent


@dataclass
class TrainConfig:
    """Everything that determines a trained model (same config and machine -> same numbers)."""

    dataset: str = "fashion"
    backbone: str = "smallcnn"
    method: str = "dpsh"
    bits: int = 32
    epochs: int = 40
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-5
    seed: int = 0
    split_seed: int = 0
    width: int | None = None
    method_params: dict = field(default_factory=dict)
    data_root: str | None = None
    topk: int = 1000
    device: str = "auto"
    download: bool = False


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of a batch of training images (the normalisation stored in the model)."""
    flat = images.transpose(0, 1).flatten(1)
    return tuple(round(v, 4) for v in flat.mean(1).tolist()), tuple(round(v, 4) for v in flat.std(1).tolist())


def train(config: TrainConfig, progress: Progress = silent):
    """Train a hashing model; returns (model, meta, codes) ready for checkpoint.save."""
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    data = load_dataset(config.dataset, config.data_root, config.split_seed)
    probe = data.train.images(torch.arange(min(len(data.train), 5000)))
    mean, std = channel_stats(probe)
    model = build_model(
        config.backbone, config.bits, data.image_shape[0], mean, std, width=config.width, download=config.download
    ).to(device)
    loss_fn = get_method(config.method, config.bits, data.num_classes, len(data.train), **config.method_params).to(
        device
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(data.train) // config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.epochs * steps_per_epoch)
    shuffle = torch.Generator().manual_seed(config.seed)
    labels = data.train.labels
    start, step = time.perf_counter(), 0
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(data.train), generator=shuffle)
        for first in range(0, len(order), config.batch_size):
            index = order[first : first + config.batch_size]
            model.alpha.fill_(loss_fn.activation_scale(step))
            u = model(data.train.images(index).to(device))
            loss = loss_fn(u, labels[index].to(device), index.to(device))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
        progress(epoch + 1, config.epochs, f"epoch {epoch + 1} loss {loss.item():.4f}")
    seconds = time.perf_counter() - start
    model.eval().requires_grad_(False)
    codes = {"database": encode(model, data.database, device=device), "train": encode(model, data.train, device=device)}
    clean_map = mean_average_precision(
        query_codes=encode(model, data.query, device=device),
        database_codes=codes["database"],
        query_labels=data.query.labels,
        database_labels=data.database.labels,
        topk=config.topk,
    )
    meta = {
        **{k: v for k, v in asdict(config).items() if k not in ("device", "download")},
        "in_channels": data.image_shape[0],
        "image_size": data.image_shape[1],
        "mean": list(mean),
        "std": list(std),
        "alpha": float(model.alpha),
        "num_classes": data.num_classes,
        "clean_map": round(clean_map, 4),
        "train_seconds": round(seconds, 1),
        "pretrained": bool(getattr(model.backbone, "pretrained", False)),
        "machine": f"{platform.machine()} {device.type}, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "hashdemo": __version__,
    }
    return model.cpu(), meta, codes


def train_and_save(config: TrainConfig, out: Path, progress: Progress = silent) -> dict:
    model, meta, codes = train(config, progress)
    checkpoint.save(Path(out), model, meta, codes)
    return meta
