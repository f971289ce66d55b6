"""The one training loop, shared by every hashing loss and every defence; writes a checkpoint with codes and clean
MAP. With a run folder it resumes: after each epoch everything the next one needs is written by atomic renames."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .. import __version__
from ..attacks.budget import EPS, STEP, STEPS
from ..core.devices import pick_device
from ..core.errors import InvalidInputError
from ..core.params import Param, setting
from ..core.paths import write_atomic
from ..core.progress import Progress, Stopped, silent
from ..data import DATASETS, load_dataset, resolve_root
from ..defences import DEFENCES, get_defence, inner_settings
from ..hashing import METHODS, get_method
from ..models import BACKBONES, BITS, build_model, checkpoint, normalisation
from ..models.card import ModelCard
from ..retrieval.encoding import encode
from ..retrieval.metrics import TOPK, mean_average_precision
from ..systems.spec import DATA_ROOT, DEVICE, IMAGE_SIZE, LIST_DIR, RESIZE
from ..systems.zoo import resolve_folder

STATE, STATE_JSON = "train-state.safetensors", "train-state.json"


@dataclass
class TrainConfig:
    """Everything that determines a trained model (same config and machine -> same numbers); each field declares
    its Param, from which the `train` command's flags are generated."""

    dataset: str = setting(Param("dataset", "fashion", "the data to train on", choices=tuple(DATASETS.names())))
    backbone: str = setting(
        Param("backbone", "smallcnn", "the network before the hash layer", choices=tuple(BACKBONES.names()))
    )
    method: str = setting(Param("method", "dpsh", "the hashing loss", choices=tuple(METHODS.names())))
    bits: int = setting(BITS)
    epochs: int = setting(Param("epochs", 40, "training epochs", 1, 10_000, integer=True))
    batch_size: int = setting(Param("batch_size", 64, "training batch size", 1, 100_000, integer=True))
    lr: float = setting(Param("lr", 1e-3, "Adam's learning rate (cosine schedule)", 0.0, None, open_low=True))
    weight_decay: float = setting(Param("weight_decay", 1e-5, "Adam's weight decay", 0.0, None))
    seed: int = setting(Param("seed", 0, "seeds the weights and the batch order", 0, 2**63 - 1, integer=True))
    split_seed: int = setting(Param("split_seed", 0, "seeds the data split", 0, 2**63 - 1, integer=True))
    width: int | None = setting(
        Param(
            "width",
            None,
            "stage width of resnet18-cifar (64 = standard) or vgg-small",
            1,
            4096,
            integer=True,
            optional=True,
        )
    )
    method_params: dict = field(default_factory=dict)  # the loss's own parameters (--set name=value)
    data_root: str | None = setting(replace(DATA_ROOT, help="your copy of the dataset (not needed for fashion*)"))
    list_dir: str | None = setting(replace(LIST_DIR, help="the folder of list files, when not the data root"))
    image_size: int | None = setting(
        replace(IMAGE_SIZE, help="pixels of the square crop of file-based data (folder, list files; default 224)")
    )
    resize: int | None = setting(
        replace(RESIZE, help="the shorter side of file-based data before the crop, 0: none; default size x 256/224")
    )
    topk: int = setting(replace(TOPK, help="the clean MAP@K recorded with the model"))
    device: str = setting(DEVICE)
    download: bool = setting(Param("download", False, "allow downloading data or ImageNet weights"))
    defence: str | None = setting(
        Param(
            "defence",
            None,
            "adversarial training (ATRDH; PgA Eq. 16)",
            choices=(None, *DEFENCES.names()),
            optional=True,
        )
    )
    defence_eps: float = setting(replace(EPS, name="defence_eps", help="the inner attack's eps (ATRDH: 8)"))
    defence_step: float = setting(replace(STEP, name="defence_step", default=2.0, help="its PGD step (ATRDH: 2)"))
    defence_steps: int = setting(replace(STEPS, name="defence_steps", default=7, help="its PGD iterations (ATRDH: 7)"))
    defence_params: dict = field(default_factory=dict)  # the defence's own parameters (--defence-set name=value)
    init: str | None = setting(
        Param(
            "init",
            None,
            "start from a trained model's weights, e.g. zoo:fashion-dph-smallcnn-32",
            optional=True,
            text=True,
        )
    )
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
        return None, *normalisation(config.backbone, *channel_stats(probe))
    folder = resolve_folder(config.init)
    card = checkpoint.read_card(folder)
    mine = (config.dataset, config.backbone, config.bits, config.width)
    theirs = (card.dataset, card.backbone, card.bits, card.width)
    if mine != theirs:
        raise InvalidInputError(f"--init {config.init} is a {theirs} model; this run trains a {mine} one")
    return checkpoint.read_tensors(folder / checkpoint.MODEL_FILE), card.mean, card.std


def train(
    config: TrainConfig,
    progress: Progress = silent,
    folder: Path | None = None,
    stop: Callable[[], bool] = lambda: False,
):
    """Train a hashing model (resuming the run in `folder` if one is there); returns (model, meta, codes).
    A stopped run raises Stopped; `folder` then holds the state of the last complete epoch."""
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    data = load_dataset(
        config.dataset,
        config.data_root,
        config.split_seed,
        config.image_size,
        config.download,
        resize=config.resize,
        lists=config.list_dir,
    )
    data = data.without_classes(config.held_out_classes)
    init, mean, std = starting_weights(config, data)
    model = build_model(
        config.backbone, config.bits, data.image_shape[0], mean, std, width=config.width, download=config.download
    ).to(device)
    if init is not None:
        model.load_state_dict(init)
    loss_fn = get_method(config.method, config.bits, data.num_classes, len(data.train), **config.method_params).to(
        device
    )
    steps_per_epoch = -(-len(data.train) // config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    defence = None
    if config.defence:
        inner = inner_settings(
            config.defence, config.defence_eps, config.defence_step, config.defence_steps, config.seed
        )
        defence = get_defence(
            config.defence, inner, data.num_classes, config.bits, total_steps, **config.defence_params
        )
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, total_steps)
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
            if stop():
                raise Stopped(f"training stopped in epoch {epoch + 1}; epochs 1-{epoch} are kept")
            index = order[first : first + config.batch_size]
            model.alpha.fill_(loss_fn.activation_scale(step))
            x, y = data.train.images(index).to(device), labels[index].to(device)
            u = model(x)
            loss = loss_fn(u, y, index.to(device))
            if defence is not None:
                loss = defence.clean_loss(loss, u, y, index)
                inner = defence.adversarial(model, x, y, step)
                loss = loss + defence.loss(u, model(inner.adversarial), y, inner, index)
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
    recorded = config.recorded()
    meta = {
        "format": "hashdemo-checkpoint-1",
        **recorded,
        "data_root": resolve_root(config.data_root),
        "list_dir": resolve_root(config.list_dir),
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
    return model.cpu(), ModelCard.from_json(meta, "the trained model"), codes


def save_state(folder: Path, config, epochs, seconds, model, loss_fn, optimiser, schedule, shuffle, defence) -> None:
    """Everything the next epoch needs, tensors first and the JSON last (its presence means a complete state)."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors |= {f"method.{k}": v for k, v in loss_fn.state_dict().items()}
    tensors |= checkpoint.optimiser_tensors("optimiser", optimiser)
    tensors |= {"rng.shuffle": shuffle.get_state(), "rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        tensors |= {f"rng.cuda.{i}": state for i, state in enumerate(torch.cuda.get_rng_state_all())}
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
    cuda = [tensors[k] for k in sorted((k for k in tensors if k.startswith("rng.cuda.")), key=lambda k: int(k[9:]))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    if defence is not None:
        defence.load_state({k[8:]: v for k, v in tensors.items() if k.startswith("defence.")})
    return state["epochs"], state["seconds"]


def train_and_save(config: TrainConfig, out: Path, progress: Progress = silent, resume_run: bool = True) -> ModelCard:
    """Train (resuming a stopped run in `out`), then write the checkpoint; the per-epoch state goes once done."""
    out = Path(out)
    if not resume_run:
        for name in (STATE, STATE_JSON):
            (out / name).unlink(missing_ok=True)
    model, card, codes = train(config, progress, out)
    checkpoint.save(out, model, card, codes)
    for name in (STATE, STATE_JSON):
        (out / name).unlink(missing_ok=True)
    return card
