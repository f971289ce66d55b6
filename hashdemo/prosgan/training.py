"""Training ProS-GAN against a frozen hashing model (supplement Algorithm 1), resumable epoch by epoch.

Per batch: targets y_t drawn per image from label vectors that share no class with it; the PrototypeNet and the
generator take one Adam step on L_pro + L_gen (Eq. 3, 5), then the discriminator one on L_dis (Eq. 13).
Algorithm 1 writes the first two updates on L_pro + L_gen - L_dis; the useful part of -L_dis (fool the
real/fake node) is J_adv's, and its class part would undo Sec. 3.4 (D should find the target class in x'), so
hashdemo uses the usual least-squares GAN alternation. After each epoch the run folder gets, each by an
atomic rename: state.safetensors (all weights, optimiser moments, random states: what resuming needs),
prosgan.safetensors (the generator in its shipped form) and log.json (loss curves, held-out t-MAP).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..cache import Stopped
from ..checkpoint import load_optimiser, optimiser_tensors
from ..errors import InvalidInputError
from ..metrics import mean_average_precision, perceptibility_rmse
from ..models import binarize
from ..params import Param, setting
from ..paths import cache_dir, write_atomic
from ..progress import Progress, silent
from ..targets import draw_target_labels
from . import losses
from .model import FILE, Architecture, ProsganModel, identity_of, save
from .networks import Discriminator

STATE, LOG = "state.safetensors", "log.json"


@dataclass(frozen=True)
class TrainSettings:
    """ProS-GAN Sec. 4.2 unless noted: Adam lr 1e-4 (0.5, 0.999), batch 24, alpha = gamma = 1, beta = 50 (NUS-WIDE,
    MS-COCO; 100 for FLICKR-25K), alpha_1..3 = 1, 1e-4, 1. The paper trains 100 epochs; the zoo trains fewer
    (see the README for t-MAP against epochs on this CPU)."""

    epochs: int = setting(Param("epochs", 10, "training epochs (the paper: 100)", 1, 10_000, integer=True))
    batch_size: int = setting(Param("batch_size", 24, "images per batch (the paper: 24)", 1, 10_000, integer=True))
    lr: float = 1e-4
    alpha: float = 1.0
    beta: float = setting(
        Param("beta", 50.0, "weight of the reconstruction loss J_re (the paper: 50, or 100 on FLICKR-25K)", 0.0, None)
    )
    gamma: float = 1.0
    prototype_alphas: tuple[float, float, float] = (1.0, 1e-4, 1.0)
    balanced: bool = False  # J1 as the paper writes it (see losses.prototype_loss)
    reconstruction: str = "mean"  # J_re over pixels: "mean" (the public code) or "sum" (Eq. 8 literally)
    seed: int = setting(
        Param("seed", 0, "seeds the networks, the batches and the target draws", 0, 2**63 - 1, integer=True)
    )
    held_out: int = 200  # query images whose t-MAP is logged after each epoch (monitoring only)
    ngf: int = 16
    blocks: int = 3
    decoder_width: int = 32
    ndf: int = 32

    def to_json(self) -> dict:
        return {**asdict(self), "prototype_alphas": list(self.prototype_alphas)}


def cached_run(system, settings: TrainSettings) -> Path:
    """The cache folder of a run: one per attacked model and training settings (epochs aside: more can follow)."""
    key = {"attacked": identity_of(system), "settings": {k: v for k, v in settings.to_json().items() if k != "epochs"}}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir() / "prosgan" / digest


def held_out_t_map(system, model: ProsganModel, settings: TrainSettings) -> dict:
    """t-MAP over the whole database (ProS-GAN's protocol), RMSE and L-inf on `held_out` seeded query images."""
    data = system.dataset
    g = torch.Generator().manual_seed(settings.seed + 7)
    index = torch.randperm(len(data.query), generator=g)[: settings.held_out]
    labels = data.query.labels[index]
    targets = draw_target_labels(labels, data.train.labels, g)
    device = system.device
    x = data.query.images(index).to(device)
    model.eval()
    with torch.no_grad():
        x_adv, _ = model(x, targets.to(device))
        codes = system.model.encode(x_adv).cpu()
    model.train()
    t_map = mean_average_precision(
        query_codes=codes,
        database_codes=system.database_codes,
        query_labels=targets,
        database_labels=data.database.labels,
        topk=-1,
    )
    return {
        "held_out_t_map": round(t_map, 4),
        "held_out_rmse": round(float(perceptibility_rmse(x.cpu(), x_adv.cpu()).mean()), 5),
        "held_out_linf_255": round(float((x - x_adv).abs().amax()) * 255, 2),
    }


def train(
    system,
    settings: TrainSettings,
    folder: Path,
    *,
    resume: bool = True,
    progress: Progress = silent,
    on_epoch: Callable[[dict], None] = lambda entry: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict:
    """Train (or resume) a ProS-GAN for `system` into `folder`; returns the log. A stopped run raises Stopped and
    leaves the folder as it was after the last complete epoch."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = system.dataset
    device = system.device
    hashing = system.model
    arch = Architecture(
        data.num_classes, system.bits, data.image_shape, settings.ngf, settings.blocks, settings.decoder_width
    )
    torch.manual_seed(settings.seed)
    model = ProsganModel(arch).to(device).train()
    discriminator = Discriminator(data.image_shape[0], data.image_shape[1], data.num_classes, settings.ndf).to(device)
    betas = (0.5, 0.999)
    opt_model = torch.optim.Adam(model.parameters(), lr=settings.lr, betas=betas)
    opt_disc = torch.optim.Adam(discriminator.parameters(), lr=settings.lr, betas=betas)
    shuffle = torch.Generator().manual_seed(settings.seed)
    draw = torch.Generator().manual_seed(settings.seed + 1)
    log = {"settings": settings.to_json(), "attacked": identity_of(system), "architecture": asdict(arch), "epochs": []}
    if resume and (folder / LOG).is_file() and (folder / STATE).is_file():
        previous = json.loads((folder / LOG).read_text())
        same = {k: v for k, v in previous["settings"].items() if k != "epochs"} == {
            k: v for k, v in log["settings"].items() if k != "epochs"
        }
        if not same or previous["attacked"] != log["attacked"]:
            raise InvalidInputError(
                f"{folder} holds a ProS-GAN run with other settings or for another model; use another folder or "
                "the same settings to resume it"
            )
        tensors = load_file(str(folder / STATE))
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        discriminator.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("disc.")})
        load_optimiser("opt_model", opt_model, tensors)
        load_optimiser("opt_disc", opt_disc, tensors)
        shuffle.set_state(tensors["rng.shuffle"])
        draw.set_state(tensors["rng.draw"])
        log = {**previous, "settings": log["settings"]}  # more epochs may be asked for
    codes, code_labels = system.train_codes.to(device), data.train.labels.to(device)
    pool = torch.unique(data.train.labels.bool(), dim=0)
    n, size = len(data.train), settings.batch_size
    steps = -(-n // size)
    for epoch in range(len(log["epochs"]), settings.epochs):
        start = time.perf_counter()
        sums: dict[str, float] = {}
        order = torch.randperm(n, generator=shuffle)
        for step, first in enumerate(range(0, n, size)):
            if should_stop():
                raise Stopped(f"ProS-GAN training stopped in epoch {epoch + 1}; epochs 1-{epoch} are kept")
            index = order[first : first + size]
            x = data.train.images(index).to(device)
            labels = data.train.labels[index]
            targets = draw_target_labels(labels, pool, draw).to(device)
            # PrototypeNet and generator: L_pro + L_gen (Eq. 3, 5)
            semantic = model.prototype.semantic(targets)
            h = torch.tanh(model.prototype.hash(semantic))
            predicted = model.prototype.predict_labels(semantic)
            prototype_code = torch.sign(h).detach()
            x_adv = model.generator(x, model.decoder(semantic))
            out = hashing(x_adv)
            d_fake = discriminator(x_adv)
            l_pro = losses.prototype_loss(
                h, predicted, targets, codes, code_labels, settings.prototype_alphas, settings.balanced
            )
            j_ham = losses.hamming_loss(out, prototype_code).mean()
            j_re = losses.reconstruction_loss(x, x_adv, settings.reconstruction).mean()
            j_adv = losses.generator_adversarial_loss(d_fake, targets).mean()
            l_gen = settings.alpha * j_ham + settings.beta * j_re + settings.gamma * j_adv
            opt_model.zero_grad(set_to_none=True)
            (l_pro + l_gen).backward()
            opt_model.step()
            # discriminator: L_dis (Eq. 13) on the real image and the detached adversarial one
            l_dis = losses.discriminator_loss(
                discriminator(x), labels.to(device), discriminator(x_adv.detach()), targets
            )
            opt_disc.zero_grad(set_to_none=True)
            l_dis.backward()
            opt_disc.step()
            for name, value in (
                ("loss_prototype", l_pro),
                ("loss_generator", l_gen),
                ("j_ham", j_ham),
                ("j_re", j_re),
                ("j_adv", j_adv),
                ("loss_discriminator", l_dis),
            ):
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            loss = float(l_gen.detach())
            progress(step + 1, steps, f"epoch {epoch + 1}/{settings.epochs}: generator loss {loss:.4f}")
        entry = {
            "epoch": epoch + 1,
            **{k: round(v / steps, 5) for k, v in sums.items()},
            **held_out_t_map(system, model, settings),
            "seconds": round(time.perf_counter() - start, 1),
        }
        log["epochs"].append(entry)
        log["train_seconds"] = round(sum(e["seconds"] for e in log["epochs"]), 1)
        state = {f"model.{k}": v for k, v in model.state_dict().items()}
        state |= {f"disc.{k}": v for k, v in discriminator.state_dict().items()}
        state |= optimiser_tensors("opt_model", opt_model) | optimiser_tensors("opt_disc", opt_disc)
        state |= {"rng.shuffle": shuffle.get_state(), "rng.draw": draw.get_state()}
        write_atomic(
            folder / STATE,
            lambda p, state=state: save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(p)),
        )
        save(
            folder / FILE,
            model,
            log["attacked"],
            {"settings": log["settings"], "epochs": len(log["epochs"]), "train_seconds": log["train_seconds"]},
        )
        write_atomic(folder / LOG, lambda p: p.write_text(json.dumps(log, indent=2)))
        on_epoch(entry)
    return log


def prototype_codes(model: ProsganModel, num_classes: int) -> torch.Tensor:
    """The prototype code of every single class (C, K), as a quick check that they differ."""
    with torch.no_grad():
        device = next(model.parameters()).device
        return binarize(model.prototype(torch.eye(num_classes, dtype=torch.bool, device=device)))
