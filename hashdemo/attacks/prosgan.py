"""ProS-GAN (Wang et al., CVPR 2021): a trained generator turns (image, target label) into the adversarial image
in one forward pass; the prototype code is its target."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..budget import Budget
from ..errors import InvalidInputError
from ..params import Param
from ..progress import Progress, silent
from ..prosgan import model as prosgan_model
from ..prosgan.training import TrainSettings, cached_run, train
from .base import ATTACKS, Attack, Plan

_LOADED: dict[tuple[str, float, str], prosgan_model.ProsganModel] = {}
UNSHIPPED_EPOCHS = 10


def shipped_generator(system) -> Path | None:
    """The generator file beside the model's folder, if the model has a folder and the folder has one."""
    from ..zoo import resolve_folder

    if system.spec.source.startswith("python:"):
        return None
    path = resolve_folder(system.spec.source) / prosgan_model.FILE
    return path if path.is_file() else None


def generator_for(system, beta: float, epochs: int, progress: Progress = silent) -> Path:
    """The generator file for these settings: shipped beside the model, or trained into the cache once."""
    shipped = shipped_generator(system)
    if shipped is not None:
        trained = prosgan_model.training_settings(shipped)
        if trained["beta"] == beta and epochs in (0, trained["epochs"]):
            return shipped
    settings = TrainSettings(epochs=epochs or UNSHIPPED_EPOCHS, beta=beta)
    folder = cached_run(system, settings)
    if (
        not (folder / prosgan_model.FILE).is_file()
        or prosgan_model.training_settings(folder / prosgan_model.FILE)["epochs"] < settings.epochs
    ):
        train(system, settings, folder, progress=progress)
    return folder / prosgan_model.FILE


@dataclass
class ProsganPlan(Plan):
    adversarial: torch.Tensor | None = None  # G(x, D_t(r_t)), (B, C, H, W) in [0,1]
    semantic_map: torch.Tensor | None = None  # D_t(r_t), (B, C, H, W) in [-1,1]


@ATTACKS.register()
class ProSGAN(Attack):
    """Generator G(x, D_t(P(y_t))) trained with the Hamming, reconstruction and adversarial losses (Eq. 5-13);
    the prototype code sign(h_t) is its target. No gradient step at attack time.

    The paper bounds no L-inf norm: by default the image is only clipped to [0,1] (its L-inf and RMSE are
    reported); projection=true clips it to the budget's eps-ball, to compare at the iterative attacks' budget.
    Example: ``ProSGAN(system)(x, y, budget=Budget.from_255(eps=8))``.
    """

    name, title, group = "prosgan", "ProS-GAN", "targeted"
    colour, marker, dash = "#D55E00", "cross", "dash"
    target_title = "Prototype code (ProS-GAN)"
    paper = "Wang et al., Prototype-supervised Adversarial Network for Targeted Attack of Deep Hashing, CVPR 2021"
    equation = (
        r"x' = G\big(x,\ D_t(r_t)\big),\ r_t = P(y_t);\quad \min\ \alpha J_{ham} + \beta J_{re} + \gamma J_{adv},\ "
        r"J_{ham} = 1 - \tfrac{1}{K}\,h_t^\top f(x')"
    )
    targeted = True
    open_set = False
    open_set_reason = (
        "its prototype and semantic map come from a PrototypeNet fitted to the training codes, and a class "
        "absent from training has none (DHTA's anchor, from database items of the class, does)"
    )
    target_kind = "ProS-GAN prototype"
    parameters = (
        Param(
            "beta",
            50.0,
            "weight of the reconstruction loss J_re (paper: 50, or 100 on FLICKR-25K); a value without a shipped "
            "generator trains one once (cached)",
            0.0,
            None,
            label="beta (reconstruction)",
        ),
        Param("epochs", 0, "epochs of the generator; 0 = the shipped generator's (else 10)", 0, 1000, integer=True),
        Param("projection", False, "clip to the budget's eps-ball (the paper bounds no L-inf norm)"),
        Param(
            "generator",
            "auto",
            "auto: the shipped or cached generator for beta and epochs; or the path of a prosgan.safetensors "
            "written by train-attack",
        ),
    )
    fixed_steps = 0
    uses_budget = False  # unbounded in its paper: eps applies only with projection=true, step and T never

    def setup(self, progress: Progress = silent) -> None:
        """The generator: a given file, the one shipped beside the model when beta and epochs match it, or one
        trained for these settings once and cached (progress reports the epochs)."""
        if self.params["generator"] != "auto":
            path = Path(self.params["generator"])
        elif self.system is None:
            raise InvalidInputError("ProS-GAN on a bare model needs generator=<path of a prosgan.safetensors>")
        else:
            path = generator_for(self.system, self.params["beta"], self.params["epochs"], progress)
        device = next(self.model.parameters()).device
        key = (str(path.resolve()), path.stat().st_mtime, str(device))
        if key not in _LOADED:
            net, _meta = prosgan_model.load(path, self.system)
            _LOADED[key] = net.to(device)
        self.net = _LOADED[key]

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> ProsganPlan:
        targets = target_labels.to(x.device)
        with torch.no_grad():
            adversarial, semantic_map = self.net(x, targets)
        return ProsganPlan(self.net.prototype_codes(targets), adversarial, semantic_map)

    def eps_for(self, budget: Budget) -> float:
        return budget.eps if self.params["projection"] else 1.0

    def start_point(self, x, plan: ProsganPlan, budget, generator) -> torch.Tensor:
        return plan.adversarial

    def loss(self, out, x_adv, x, plan, scale) -> torch.Tensor:
        return torch.zeros(len(out), device=out.device)
