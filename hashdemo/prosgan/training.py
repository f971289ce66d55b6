"""Training ProS-GAN against a frozen hashing model (Wang et al., CVPR 2021; supplement Algorithm 1), resumable
epoch by epoch, with every term, weight and schedule as the paper states it and, where the paper is silent or its
printed formula and the authors' public training script disagree, the script's choice (each a setting below):

- the PrototypeNet is pre-trained (30,000 Adam steps of batch 64, lr 1e-4 divided by 10 at 1/2 and 3/4) and then
  frozen, its outputs detached (the script; Algorithm 1 updates it jointly: prototype="joint");
- the generator loss is alpha J_ham + beta J_re + gamma J_adv with alpha = 5 (the script; the paper gives none),
  beta = 50 (the paper), gamma = 1; J_re a mean over pixels of the [-1, 1] images, J_adv a mean over the C + 1
  outputs (the script's MSELoss; Eq. 8 and 10 print sums);
- the discriminator steps every third batch (the script), spectrally normalised, raw outputs (no sigmoid) into
  the least-squares loss (the script; Sec. 3.4 says sigmoid outputs);
- Adam (0.5, 0.999) at 1e-4, constant for the first half of the epochs, then decaying linearly to zero (the
  script: 50 + 50 of 100 epochs; the paper: 100 epochs);
- the generator as the script's: 64 base channels, 3 + 3 residual blocks, a 128-wide semantic decoder.
Per batch the targets y_t are drawn per image from label vectors that share no class with it. After each epoch
the run folder gets, each by an atomic rename: state.safetensors (what resuming needs), prosgan.safetensors (the
shipped form) and log.json (loss curves, held-out t-MAP and perceptibility).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..core.errors import InvalidInputError
from ..core.params import Param, setting
from ..core.paths import cache_dir, write_atomic
from ..core.progress import Progress, Stopped, silent
from ..core.units import from_255
from ..models.checkpoint import load_optimiser, optimiser_tensors
from ..retrieval.metrics import mean_average_precision, perceptibility_rmse
from ..targets.codes import draw_target_labels
from ..targets.prototype import PrototypeNet
from . import losses
from .model import FILE, Architecture, ProsganModel, identity_of, save
from .networks import Discriminator

STATE, LOG = "state.safetensors", "log.json"


def choice(name, default, help_text, choices) -> Param:
    return Param(name, default, help_text, choices=choices)


@dataclass(frozen=True)
class TrainSettings:
    """A ProS-GAN recipe; the defaults are the paper's and its script's (module docstring)."""

    epochs: int = setting(Param("epochs", 100, "training epochs (the paper: 100)", 1, 10_000, integer=True))
    decay: float = setting(
        Param("decay", 0.5, "share of the epochs at the end over which lr decays linearly to 0 (the script: 0.5)", 0, 1)
    )
    batch_size: int = setting(Param("batch_size", 24, "images per batch (the paper: 24)", 1, 10_000, integer=True))
    lr: float = setting(
        Param("lr", 1e-4, "Adam's learning rate (the paper: 1e-4)", 0.0, 1.0, open_low=True, label="learning rate")
    )
    alpha: float = setting(Param("alpha", 5.0, "weight of J_ham (the script: 5; the paper gives none)", 0.0, None))
    beta: float = setting(
        Param("beta", 50.0, "weight of the reconstruction loss J_re (the paper: 50, or 100 on FLICKR-25K)", 0.0, None)
    )
    gamma: float = setting(Param("gamma", 1.0, "weight of J_adv (the paper: 1)", 0.0, None))
    ham_scale: float = setting(
        Param(
            "ham_scale",
            1.0,
            "J_ham on tanh(s H) of the model's pre-tanh output H (Eq. 7: s = 1); s < 1 reaches bits tanh saturates",
            0.0,
            1.0,
            open_low=True,
            label="J_ham's scale s",
        )
    )
    j_re_scale: str = setting(
        choice(
            "j_re_scale",
            "[-1,1]",
            "J_re on the [-1,1] images (the script) or on [0,1] (4x smaller)",
            ("[-1,1]", "[0,1]"),
        )
    )
    j_adv: str = setting(
        choice("j_adv", "mean", "J_adv over the C+1 outputs: their mean (the script) or sum (Eq. 10)", ("mean", "sum"))
    )
    d_every: int = setting(
        Param("d_every", 3, "a discriminator step every n batches (the script: 3)", 1, 100, integer=True)
    )
    spectral_norm: bool = setting(Param("spectral_norm", True, "spectral normalisation of D (the script)"))
    d_sigmoid: bool = setting(Param("d_sigmoid", False, "D's outputs through a sigmoid (Sec. 3.4; the script: none)"))
    prototype: str = setting(
        choice(
            "prototype",
            "frozen",
            "frozen: pre-trained then fixed (the script); joint: trained with G (Algorithm 1)",
            ("frozen", "joint"),
        )
    )
    prototype_steps: int = setting(
        Param(
            "prototype_steps",
            30_000,
            "Adam steps pre-training the PrototypeNet (the script: 100 x 300)",
            1,
            10**6,
            integer=True,
        )
    )
    ngf: int = setting(Param("ngf", 64, "the generator's base channels (the script: 64)", 4, 512, integer=True))
    blocks: int = setting(Param("blocks", 6, "its residual blocks (the script: 3 + 3)", 0, 32, integer=True))
    decoder_width: int = setting(
        Param(
            "decoder_width",
            128,
            "channels of the semantic decoder's first map (the script: 128)",
            8,
            1024,
            integer=True,
        )
    )
    ndf: int = setting(Param("ndf", 64, "the discriminator's base channels (the script: 64)", 4, 512, integer=True))
    bound: float = setting(
        Param(
            "bound",
            0.0,
            "0: unbounded (the paper); else x' = x + eps tanh(.) at this eps (1/255)",
            0.0,
            255.0,
            unit="(1/255)",
        )
    )
    seed: int = setting(
        Param("seed", 0, "seeds the networks, the batches and the target draws", 0, 2**63 - 1, integer=True)
    )
    held_out: int = 200  # query images whose t-MAP is logged after each epoch (monitoring only, chooses nothing)

    def to_json(self) -> dict:
        return asdict(self)


# the recipe of hashdemo's first ProS-GAN (the ablation's starting point, README "ProS-GAN")
FIRST = TrainSettings(
    alpha=1.0,
    j_re_scale="[0,1]",
    j_adv="sum",
    d_every=1,
    spectral_norm=False,
    d_sigmoid=True,
    prototype="joint",
    decay=0.0,
    ngf=16,
    blocks=3,
    decoder_width=32,
    ndf=32,
)


# the shipped generators' recipe: the faithful one with a narrower generator (the script's is 64 wide), a tenth
# of the PrototypeNet's pre-training steps (30,000 took 38 min on one thread of this CPU) and, set per
# model in zoo_build, fewer epochs (README "ProS-GAN")
ZOO_RECIPE = TrainSettings(epochs=24, ngf=16, decoder_width=32, ndf=32, prototype_steps=3000)
# past the paper: a residual x + tanh(.) has no reconstruction floor; J_ham through tanh(0.1 H) and lr 1e-3 let it
# learn, beta 100 keeps its RMSE near 0.03 (README "ProS-GAN")
RESIDUAL_RECIPE = replace(ZOO_RECIPE, epochs=16, bound=255, ham_scale=0.1, lr=1e-3, beta=100)
RECIPES = {
    "the zoo's (for a CPU)": ZOO_RECIPE,
    "the paper's (for a GPU)": TrainSettings(),
    "residual, past the paper (for a CPU)": RESIDUAL_RECIPE,
}


def architecture(system, settings: TrainSettings) -> Architecture:
    data = system.dataset
    return Architecture(
        data.num_classes,
        system.bits,
        data.image_shape,
        settings.ngf,
        settings.blocks,
        settings.decoder_width,
        from_255(settings.bound),
    )


def cached_run(system, settings: TrainSettings) -> Path:
    """The cache folder of a run: one per attacked model and training settings (epochs aside when the lr is
    constant: more can follow)."""
    key = {"attacked": identity_of(system), "settings": resumable(settings.to_json())}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir() / "prosgan" / digest


def resumable(settings: dict) -> dict:
    """What a run must share with the one it continues: every setting, epochs aside unless the lr decays (its
    schedule depends on the number of epochs)."""
    return {k: v for k, v in settings.items() if k != "epochs" or settings["decay"] > 0}


def held_out_draw(system, settings: TrainSettings) -> tuple[torch.Tensor, torch.Tensor]:
    """The `held_out` seeded query positions a run is monitored on, and their target label vectors."""
    data = system.dataset
    g = torch.Generator().manual_seed(settings.seed + 7)
    index = torch.randperm(len(data.query), generator=g)[: settings.held_out]
    return index, draw_target_labels(data.query.labels[index], data.train.labels, g)


def held_out_t_map(system, model: ProsganModel, settings: TrainSettings) -> dict:
    """t-MAP over the whole database (ProS-GAN's protocol), RMSE and L-inf on `held_out` seeded query images."""
    data = system.dataset
    index, targets = held_out_draw(system, settings)
    x = data.query.images(index).to(system.device)
    model.eval()
    with torch.no_grad():
        x_adv, _ = model(x, targets.to(system.device))
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


def pretrain_prototype(system, settings: TrainSettings, progress: Progress = silent) -> PrototypeNet:
    """The script's PrototypeNet: Adam (0.5, 0.999) at lr, /10 at 1/2 and 3/4 of the steps, batches of 64 target
    label vectors against every training code (Eq. 3-4). Cached per attacked model and these settings."""
    data, device = system.dataset, system.device
    key = json.dumps([identity_of(system), settings.prototype_steps, settings.lr, settings.seed])
    path = cache_dir() / "prosgan-prototypes" / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.safetensors"
    torch.manual_seed(settings.seed)
    net = PrototypeNet(data.num_classes, system.bits, label_head=True).to(device)
    if path.is_file():
        net.load_state_dict(load_file(str(path)))
        return net.eval().requires_grad_(False)
    optimiser = torch.optim.Adam(net.parameters(), lr=settings.lr, betas=(0.5, 0.999))
    steps = settings.prototype_steps
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimiser, [steps // 2, steps * 3 // 4], 0.1)
    label_set = torch.unique(data.train.labels.bool(), dim=0)
    label_set = label_set[label_set.any(1)].to(device)
    codes, code_labels = system.train_codes.to(device), data.train.labels.to(device)
    draw = torch.Generator().manual_seed(settings.seed + 3)
    for step in range(steps):
        batch = label_set[torch.randint(len(label_set), (64,), generator=draw).to(device)]
        semantic = net.semantic(batch)
        loss = losses.prototype_loss(
            torch.tanh(net.hash(semantic)), net.predict_labels(semantic), batch, codes, code_labels
        )
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        progress(step, steps, "pre-training the PrototypeNet")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(
        path, lambda p: save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(p))
    )
    return net.eval().requires_grad_(False)


def decay_factor(settings: TrainSettings) -> Callable[[int], float]:
    """lr factor at an epoch: 1, then linearly to 0 over the last `decay` share of the epochs (the script's rule
    1 - max(0, e + 1 - n) / (n_decay + 1))."""
    n_decay = round(settings.epochs * settings.decay)
    constant = settings.epochs - n_decay
    return lambda epoch: 1.0 - max(0, epoch + 1 - constant) / (n_decay + 1)


def train(
    system,
    settings: TrainSettings,
    folder: Path,
    *,
    resume: bool = True,
    progress: Progress = silent,
    on_epoch: Callable[[dict], None] = lambda entry: None,
    stop: Callable[[], bool] = lambda: False,
) -> dict:
    """Train (or resume) a ProS-GAN for `system` into `folder`; returns the log. A stopped run raises Stopped and
    leaves the folder as it was after the last complete epoch."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data, device, hashing = system.dataset, system.device, system.model
    arch = architecture(system, settings)
    log = {"settings": settings.to_json(), "attacked": identity_of(system), "architecture": asdict(arch), "epochs": []}
    resuming = resume and (folder / LOG).is_file() and (folder / STATE).is_file()
    if resuming:
        previous = json.loads((folder / LOG).read_text())
        if resumable(previous["settings"]) != resumable(log["settings"]) or previous["attacked"] != log["attacked"]:
            raise InvalidInputError(
                f"{folder} holds a ProS-GAN run with other settings or for another model (with lr decay, the "
                "epochs too); use another folder or the same settings to resume it"
            )
        log = {**previous, "settings": log["settings"]}
    torch.manual_seed(settings.seed)
    prototype = PrototypeNet(data.num_classes, system.bits, label_head=True).to(device)
    if settings.prototype == "frozen" and not resuming:
        prototype = pretrain_prototype(system, settings, progress)
    label_set = torch.unique(data.train.labels.bool(), dim=0)
    label_set = label_set[label_set.any(1)]
    torch.manual_seed(settings.seed + 1)
    model = ProsganModel.of(arch, prototype, label_set).to(device).train()
    discriminator = Discriminator(
        data.image_shape[0], data.image_shape[1], data.num_classes, settings.ndf, settings.spectral_norm
    ).to(device)
    trained = [*model.decoder.parameters(), *model.generator.parameters()]
    if settings.prototype == "joint":
        trained += list(prototype.parameters())
    opt_g = torch.optim.Adam(trained, lr=settings.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=settings.lr, betas=(0.5, 0.999))
    factor = decay_factor(settings)
    shuffle = torch.Generator().manual_seed(settings.seed)
    draw = torch.Generator().manual_seed(settings.seed + 1)
    if resuming:
        tensors = load_file(str(folder / STATE))
        for prefix, module in (("model.", model), ("disc.", discriminator), ("prototype.", prototype)):
            module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
        load_optimiser("opt_g", opt_g, tensors)
        load_optimiser("opt_d", opt_d, tensors)
        shuffle.set_state(tensors["rng.shuffle"])
        draw.set_state(tensors["rng.draw"])
    codes, code_labels = system.train_codes.to(device), data.train.labels.to(device)
    n, size = len(data.train), settings.batch_size
    steps = -(-n // size)
    discriminate = torch.sigmoid if settings.d_sigmoid else (lambda d: d)

    def d_out(images):
        return discriminate(discriminator(images))

    for epoch in range(len(log["epochs"]), settings.epochs):
        start = time.perf_counter()
        for optimiser in (opt_g, opt_d):
            for group in optimiser.param_groups:
                group["lr"] = settings.lr * factor(epoch)
        sums: dict[str, float] = {}
        order = torch.randperm(n, generator=shuffle)
        for step, first in enumerate(range(0, n, size)):
            if stop():
                raise Stopped(f"ProS-GAN training stopped in epoch {epoch + 1}; epochs 1-{epoch} are kept")
            index = order[first : first + size]
            x = 2 * data.train.images(index).to(device) - 1  # the networks' [-1, 1] scale
            labels = data.train.labels[index].to(device)
            targets = draw_target_labels(data.train.labels[index], label_set, draw).to(device)
            semantic = prototype.semantic(targets)
            h = torch.tanh(prototype.hash(semantic))
            if settings.prototype == "frozen":
                semantic, h = semantic.detach(), h.detach()
            x_adv = model.generator(x, model.decoder(semantic))
            terms = {}
            if step % settings.d_every == 0:  # the discriminator, on the real images and the detached fakes
                terms["loss_discriminator"] = losses.discriminator_loss(
                    d_out(x), labels, d_out(x_adv.detach()), targets, settings.j_adv
                )
                opt_d.zero_grad(set_to_none=True)
                terms["loss_discriminator"].backward()
                opt_d.step()
            pre_tanh = hashing.pre_tanh((x_adv + 1) / 2)
            terms["j_ham"] = losses.hamming_loss(pre_tanh, torch.sign(h).detach(), settings.ham_scale).mean()
            scale = 1.0 if settings.j_re_scale == "[-1,1]" else 0.25  # ([0,1] images: a quarter of the square)
            terms["j_re"] = scale * losses.reconstruction_loss(x, x_adv).mean()
            terms["j_adv"] = losses.generator_adversarial_loss(d_out(x_adv), targets, settings.j_adv).mean()
            terms["loss_generator"] = (
                settings.alpha * terms["j_ham"] + settings.beta * terms["j_re"] + settings.gamma * terms["j_adv"]
            )
            objective = terms["loss_generator"]
            if settings.prototype == "joint":
                terms["loss_prototype"] = losses.prototype_loss(
                    h, prototype.predict_labels(semantic), targets, codes, code_labels
                )
                objective = objective + terms["loss_prototype"]
            opt_g.zero_grad(set_to_none=True)
            objective.backward()
            opt_g.step()
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            progress(
                step, steps, f"epoch {epoch + 1}/{settings.epochs}: generator loss {float(objective.detach()):.4f}"
            )
        if settings.prototype == "joint":  # the shipped table follows the jointly trained PrototypeNet
            fresh = ProsganModel.of(arch, prototype, label_set).to(device)
            model.semantic.copy_(fresh.semantic)
            model.codes.copy_(fresh.codes)
        counts = {"loss_discriminator": -(-steps // settings.d_every)}
        entry = {
            "epoch": epoch + 1,
            **{k: round(v / counts.get(k, steps), 5) for k, v in sums.items()},
            **held_out_t_map(system, model, settings),
            "seconds": round(time.perf_counter() - start, 1),
        }
        log["epochs"].append(entry)
        log["train_seconds"] = round(sum(e["seconds"] for e in log["epochs"]), 1)
        state = {f"model.{k}": v for k, v in model.state_dict().items()}
        state |= {f"disc.{k}": v for k, v in discriminator.state_dict().items()}
        state |= {f"prototype.{k}": v for k, v in prototype.state_dict().items()}
        state |= optimiser_tensors("opt_g", opt_g) | optimiser_tensors("opt_d", opt_d)
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
