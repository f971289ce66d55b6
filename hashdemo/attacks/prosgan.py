"""ProS-GAN (Wang et al., CVPR 2021): a trained generator turns (image, target label) into the adversarial image
in one forward pass; the prototype code is its target."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch

from ..core.errors import DataNotFoundError, InvalidInputError
from ..core.params import Param
from ..core.progress import Progress, silent
from ..core.units import to_255
from ..models.checkpoint import contents_digest
from ..prosgan import model as prosgan_model
from .base import ATTACKS, Attack, Plan
from .budget import Budget

_LOADED: dict[tuple[str, float, str], prosgan_model.ProsganModel] = {}


def generator_for(system, bound: float) -> Path:
    """The generator for this bound (0: unbounded): shipped beside the model, else the newest finished run trained
    for it (the ProS-GAN page, `hashdemo train-attack prosgan`); none is trained silently."""
    from ..prosgan.gallery import available_generators

    found = [g for g in available_generators(system) if g.settings["bound"] == bound]
    if not found:
        kind = "unbounded" if not bound else f"bounded at {bound:g}/255"
        raise InvalidInputError(
            f"no {kind} ProS-GAN generator for {system.spec.source}: train one on the ProS-GAN page or with "
            f"`python -m hashdemo train-attack prosgan --model {system.spec.source}"
            + (f" --bound {bound:g}`" if bound else "`")
        )
    return found[0].path


@dataclass
class ProsganPlan(Plan):
    adversarial: torch.Tensor | None = None  # G(x, D_t(r_t)), (B, C, H, W) in [0,1]
    semantic_map: torch.Tensor | None = None  # D_t(r_t), (B, C, H, W) in [-1,1]


@ATTACKS.register()
class ProSGAN(Attack):
    """Generator G(x, D_t(P(y_t))) trained with the Hamming, reconstruction and adversarial losses (Eq. 5-13);
    the prototype code sign(h_t) is its target. No gradient step at attack time.

    The paper bounds no L-inf norm: by default the image is only clipped to [0,1] (its L-inf and RMSE are
    reported); bound=8 takes the generator trained with x' = x + eps tanh(.) at 8/255 (one forward pass within the
    iterative attacks' budget); projection=true clips any output to the budget's eps-ball afterwards.
    Example: ``ProSGAN(system, bound=8)(x, y, budget=Budget.from_255(eps=8))``.
    """

    name, title, group = "prosgan", "ProS-GAN", "targeted"
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
            "bound",
            0.0,
            "0: the paper's unbounded generator; 8: the one trained with x' = x + eps tanh(.) at 8/255",
            0.0,
            255.0,
            unit="(1/255)",
            label="generator's bound",
        ),
        Param("projection", False, "clip the output to the budget's eps-ball (the paper bounds no L-inf norm)"),
        Param(
            "generator",
            "auto",
            "auto: the shipped (or trained here) generator of this bound; a shipped generator's name (`zoo "
            "--json` lists them, e.g. prosgan-bound8); or the path of a prosgan.safetensors written by train-attack",
        ),
    )
    fixed_steps = 0
    uses_budget = False  # unbounded in its paper: eps applies only with projection=true, step and T never

    @cached_property
    def generator_path(self) -> Path:
        """The generator's file: a given one, or the one for this bound shipped beside the model or trained for it."""
        named = self.params["generator"]
        if named != "auto":
            beside = self.system.folder / f"{named}.safetensors" if self.system and self.system.folder else None
            path = beside if beside is not None and beside.is_file() else Path(named)
            if not path.is_file():
                raise InvalidInputError(f"no ProS-GAN generator named {named!r} beside the model, nor a file there")
            return path
        if self.system is None:
            raise InvalidInputError("ProS-GAN on a bare model needs generator=<path of a prosgan.safetensors>")
        return generator_for(self.system, self.params["bound"])

    def resources(self) -> dict[str, str]:
        try:
            return {"generator": contents_digest(self.generator_path)}
        except (InvalidInputError, DataNotFoundError):
            return {"generator": "none"}  # the run itself says why

    @cached_property
    def net(self) -> prosgan_model.ProsganModel:
        """The generator, loaded once per file and device."""
        path = self.generator_path
        device = next(self.model.parameters()).device
        key = (str(path.resolve()), path.stat().st_mtime, str(device))
        if key not in _LOADED:
            net, _meta = prosgan_model.load(path, self.system)
            _LOADED[key] = net.to(device)
        return _LOADED[key]

    def setup(self, progress: Progress = silent) -> None:
        """Loading the generator is the one-off work (timed apart from the attack)."""
        _ = self.net

    def prepare(self, x, clean_pre, labels, target_labels, draw) -> ProsganPlan:
        targets = target_labels.to(x.device)
        with torch.no_grad():
            adversarial, semantic_map = self.net(x, targets)
        return ProsganPlan(self.net.prototype_codes(targets), adversarial, semantic_map)

    def eps_for(self, budget: Budget) -> float:
        """The budget's eps with projection; else the generator's own bound (1: unbounded, the whole box)."""
        return budget.eps if self.params["projection"] else (self.net.arch.bound or 1.0)

    def effective(self, budget: Budget, loop) -> dict:
        return {**super().effective(budget, loop), "bound": self.net.arch.bound and to_255(self.net.arch.bound)}

    def start_point(self, x, plan: ProsganPlan, budget, generator) -> torch.Tensor:
        return plan.adversarial

    def loss(self, out, x_adv, x, plan, scale) -> torch.Tensor:
        return torch.zeros(len(out), device=out.device)
