"""A trained ProS-GAN in its shipped form: the frozen PrototypeNet's output for every target label vector of the
training set (the semantic representation r_t and the prototype code), the semantic decoder and the generator;
one forward pass from (image, target label) to the adversarial image. Saved as safetensors with the attacked
model's identity, refused for any other model."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..core.errors import DataNotFoundError, InvalidInputError
from ..core.paths import write_atomic
from ..models.checkpoint import read_header
from ..targets.prototype import PrototypeNet
from .networks import Generator, SemanticDecoder

FORMAT = "hashdemo-prosgan-2"
FILE = "prosgan.safetensors"


@dataclass(frozen=True)
class Architecture:
    """What builds the networks (kept in the checkpoint, so a file rebuilds exactly its model)."""

    num_classes: int
    bits: int
    image_shape: tuple[int, int, int]
    ngf: int
    blocks: int
    decoder_width: int
    bound: float  # 0: unbounded (the paper); else the L-inf budget in [0,1] pixel units


def identity_of(system) -> dict:
    """What a generator is tied to: the attacked model's name, bit length, data, and a digest of its training codes."""
    digest = hashlib.sha256(system.train_codes.numpy().tobytes()).hexdigest()[:16]
    return {"model": system.spec.source, "bits": system.bits, "dataset": system.dataset.name, "train_codes_sha": digest}


class ProsganModel(nn.Module):
    """ProS-GAN's attack path (Fig. 1): y_t -> r_t, h_t (the frozen PrototypeNet, as a table) -> D_t -> x_t;
    (x, x_t) -> G -> x'."""

    def __init__(self, arch: Architecture, labels: torch.Tensor, semantic: torch.Tensor, codes: torch.Tensor):
        super().__init__()
        self.arch = arch
        channels, size, _ = arch.image_shape
        self.register_buffer("labels", labels.bool())  # (M, C): the target label vectors it knows
        self.register_buffer("semantic", semantic.float())  # (M, 512): r_t of each
        self.register_buffer("codes", codes.to(torch.int8))  # (M, K): sign(h_t) of each
        self.decoder = SemanticDecoder(PrototypeNet.semantic_dim, arch.image_shape, arch.decoder_width)
        self.generator = Generator(channels, size, arch.ngf, arch.blocks, 2 * arch.bound or None)

    @classmethod
    def of(cls, arch: Architecture, prototype: PrototypeNet, label_set: torch.Tensor) -> ProsganModel:
        with torch.no_grad():
            semantic = prototype.semantic(label_set)
            codes = torch.where(prototype.hash(semantic) > 0, 1, -1)
        return cls(arch, label_set.cpu(), semantic.cpu(), codes.cpu())

    def rows(self, target_labels: torch.Tensor) -> torch.Tensor:
        match = (target_labels.bool()[:, None, :] == self.labels[None]).all(2)
        if not bool(match.any(1).all()):
            raise InvalidInputError(
                "this ProS-GAN generator knows the target label vectors of its training set only; "
                "choose a target label that occurs there"
            )
        return match.int().argmax(1)

    def forward(self, x: torch.Tensor, target_labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(adversarial images in [0,1], the decoded semantic maps D_t(r_t), on the [-1,1] scale)."""
        semantic_map = self.decoder(self.semantic[self.rows(target_labels)])
        return (self.generator(2 * x - 1, semantic_map) + 1) / 2, semantic_map

    def prototype_codes(self, target_labels: torch.Tensor) -> torch.Tensor:
        """The prototype codes sign(h_t) (int8 +-1), the target the generator was trained towards."""
        return self.codes[self.rows(target_labels)]


def save(path: Path, model: ProsganModel, identity: dict, training: dict, half: bool = True) -> None:
    """Weights (fp16 when `half`: half the size, the shipped form) with architecture, identity and training
    settings in the safetensors header; written via a temporary file and a rename."""
    state = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
    }
    meta = {"format": FORMAT, "architecture": asdict(model.arch), "attacked": identity, "training": training}
    write_atomic(path, lambda p: save_file(state, str(p), metadata={"hashdemo": json.dumps(meta)}))


def metadata(path: Path) -> dict:
    """What a generator file says of itself (architecture, attacked model, training), without its weights."""
    meta = read_header(Path(path))
    if meta.get("format") != FORMAT:
        raise InvalidInputError(f"{path}: not a hashdemo ProS-GAN file of format {FORMAT} ({meta.get('format')!r})")
    return meta


def training_settings(path: Path) -> dict:
    """The training settings of a generator file, with the number of epochs it was trained for."""
    training = metadata(path)["training"]
    return {**training["settings"], "epochs": training["epochs"]}


def load(path: Path, system=None) -> tuple[ProsganModel, dict]:
    """A ProS-GAN from a safetensors file (never a pickle), refused when it was trained for another model."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"no ProS-GAN generator at {path}")
    meta = metadata(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise InvalidInputError(f"{path}: corrupt ProS-GAN file ({exc})") from exc
    if system is not None:
        mine = identity_of(system)
        if meta["attacked"] != mine:
            theirs = meta["attacked"]
            raise InvalidInputError(
                f"this ProS-GAN generator was trained for {theirs['model']} ({theirs['bits']} bits, "
                f"{theirs['dataset']}); the model in use is {mine['model']} ({mine['bits']} bits, {mine['dataset']}). "
                f"Train one for it: python -m hashdemo train-attack prosgan --model {mine['model']}"
            )
    arch = meta["architecture"]
    arch = Architecture(**{**arch, "image_shape": tuple(arch["image_shape"])})
    try:
        model = ProsganModel(arch, state["labels"], state["semantic"], state["codes"])
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (KeyError, RuntimeError) as exc:
        raise InvalidInputError(f"{path}: weights do not fit the ProS-GAN architecture ({exc})") from exc
    return model.eval().requires_grad_(False), meta
