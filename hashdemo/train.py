"""The one training loop, shared by every hashing loss and every defence; writes a checkpoint with codes and clean
MAP. With a run folder it resumes: after each epoch everything the next one needs is written by atomic renames."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from . import __version__, checkpoint
from .budget import Budget
from .cache import Stopped
from .data import load_dataset
from .defences import get_defence
from .devices import pick_device
from .encoding import encode
from .errors import InvalidInputError
from .hashing import get_method
from .metrics import mean_average_precision
from .models import build_model
from .paths import write_atomic
from .progress import Progress, silent

STATE, STATE_JSON = "train-state.safetensors", "train-state.json"


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
    defence: str | None = None  # adversarial training: "atrdh" or "pharos-at" (hashdemo.defences)
    defence_eps: float = 8.0  # the inner attack's budget, 1/255 units (ATRDH: 8/255, step 2/255, 7 steps)
    defence_step: float = 2.0
    defence_steps: int = 7
    init: str | None = None  # start from a trained model's weights (zoo:<name> or a folder), e.g. to harden it
    held_out_classes: tuple[int, ...] = ()  # classes kept out of the training split (an open-set model)

    def recorded(self) -> dict:
        """The settings written into the checkpoint (where it ran is not one of them)."""
        settings = {k: v for k, v in asdict(self).items() if k not in ("device", "download")}
        return {**settings, "held_out_classes": list(self.held_out_classes)}


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of a batch of training images (the normalisation stored in the model)."""
    flat = images.transpose(0, 1).flatten(1)
    return tuple(round(v, 4) for v in flat.mean(1).tolist()), tuple(round(v, 4) for v in flat.std(1).tolist())


def starting_weights(config: TrainConfig, data) -> tuple[dict[str, torch.Tensor] | None, tuple, tuple]:
    """The weights and normalisation to start from: `config.init`'s (checked to fit), else none and the data's."""
    if config.init is None:
        probe = data.train.images(torch.arange(min(len(data.train), 5000)))
        mean, std = channel_stats(probe)
        return None, mean, std
    from .system import resolve

    folder = resolve(config.init)
    meta = checkpoint.read_meta(folder)
    mine = (config.dataset, config.backbone, config.bits, config.width)
    theirs = (meta["dataset"], meta["backbone"], meta["bits"], meta.get("width"))
    if mine != theirs:
        raise InvalidInputError(f"--init {config.init} is a {theirs} model; this run trains a {mine} one")
    return checkpoint.read_tensors(folder / checkpoint.MODEL_FILE), tuple(meta["mean"]), tuple(meta["std"])


def train(
    config: TrainConfig,
    progress: Progress = silent,
    folder: Path | None = None,
    should_stop: Callable[[], bool] = lambda: False,
):
    """Train a hashing model (resuming the run in `folder` if one is there); returns (model, meta, codes).
    A stopped run raises Stopped; `folder` then holds the state of the last complete epoch."""
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    data = load_dataset(config.dataset, config.data_root, config.split_seed).without_classes(config.held_out_classes)
    init, mean, std = starting_weights(config, data)
    model = build_model(
        config.backbone, config.bits, data.image_shape[0], mean, std, width=config.width, download=config.download
    ).to(device)
    if init is not None:
        model.load_state_dict(init)
    loss_fn = get_method(config.method, config.bits, data.num_classes, len(data.train), **config.method_params).to(
        device
    )
    defence = None
    if config.defence:
        budget = Budget.from_255(config.defence_eps, config.defence_step, config.defence_steps, True, config.seed)
        defence = get_defence(config.defence, budget, data.num_classes, config.bits, config.seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(data.train) // config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.epochs * steps_per_epoch)
    shuffle = torch.Generator().manual_seed(config.seed)
    done, seconds = 0, 0.0
    if folder is not None and (Path(folder) / STATE_JSON).is_file():
        done, seconds = resume(Path(folder), config, model, loss_fn, optimiser, schedule, shuffle, defence)
    labels = data.train.labels
    step = done * steps_per_epoch
    for epoch in range(done, config.epochs):
        start = time.perf_counter()
        if defence is not None:
            defence.start_epoch(model, data, epoch)
        model.train()
        order = torch.randperm(len(data.train), generator=shuffle)
        for first in range(0, len(order), config.batch_size):
            if should_stop():
                raise Stopped(f"training stopped in epoch {epoch + 1}; epochs 1-{epoch} are kept")
            index = order[first : first + config.batch_size]
            model.alpha.fill_(loss_fn.activation_scale(step))
            x, y = data.train.images(index).to(device), labels[index].to(device)
            u = model(x)
            loss = loss_fn(u, y, index.to(device))
            if defence is not None:
                x_adv, target = defence.adversarial(model, x, y)
                loss = loss + defence.loss(u, model(x_adv), y, target)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
        seconds += time.perf_counter() - start
        progress(epoch + 1, config.epochs, f"epoch {epoch + 1} loss {loss.item():.4f}")
        if folder is not None:
            save_state(Path(folder), config, epoch + 1, seconds, model, loss_fn, optimiser, schedule, shuffle, defence)
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
        **config.recorded(),
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


def save_state(folder: Path, config, epochs, seconds, model, loss_fn, optimiser, schedule, shuffle, defence) -> None:
    """Everything the next epoch needs, tensors first and the JSON last (its presence means a complete state)."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors |= {f"method.{k}": v for k, v in loss_fn.state_dict().items()}
    tensors |= checkpoint.optimiser_tensors("optimiser", optimiser)
    tensors |= {"rng.shuffle": shuffle.get_state(), "rng.torch": torch.get_rng_state()}
    if defence is not None:
        tensors |= {f"defence.{k}": v for k, v in defence.state().items()}
    write_atomic(
        folder / STATE, lambda p: save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(p))
    )
    state = {
        "config": config.recorded(),
        "epochs": epochs,
        "seconds": seconds,
        "schedule": schedule.state_dict(),
        "lr": [group["lr"] for group in optimiser.param_groups],
    }
    write_atomic(folder / STATE_JSON, lambda p: p.write_text(json.dumps(state, indent=2)))


def resume(folder: Path, config, model, loss_fn, optimiser, schedule, shuffle, defence) -> tuple[int, float]:
    """Load the state of the last complete epoch; the run must have had the same settings."""
    state = json.loads((folder / STATE_JSON).read_text())
    if state["config"] != config.recorded():
        raise InvalidInputError(f"{folder} holds a training run with other settings; use another --out or --restart")
    tensors = load_file(str(folder / STATE))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    loss_fn.load_state_dict({k[7:]: v for k, v in tensors.items() if k.startswith("method.")})
    checkpoint.load_optimiser("optimiser", optimiser, tensors)
    for group, lr in zip(optimiser.param_groups, state["lr"], strict=True):
        group["lr"] = lr
    schedule.load_state_dict(state["schedule"])
    shuffle.set_state(tensors["rng.shuffle"])
    torch.set_rng_state(tensors["rng.torch"])
    if defence is not None:
        defence.load_state({k[8:]: v for k, v in tensors.items() if k.startswith("defence.")})
    return state["epochs"], state["seconds"]


def train_and_save(config: TrainConfig, out: Path, progress: Progress = silent, resume_run: bool = True) -> dict:
    """Train (resuming a stopped run in `out`), then write the checkpoint; the per-epoch state goes once done."""
    out = Path(out)
    if not resume_run:
        for name in (STATE, STATE_JSON):
            (out / name).unlink(missing_ok=True)
    model, meta, codes = train(config, progress, out)
    checkpoint.save(out, model, meta, codes)
    for name in (STATE, STATE_JSON):
        (out / name).unlink(missing_ok=True)
    return meta
