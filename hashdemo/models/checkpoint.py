"""Model folders: safetensors weights + meta.json (card.py) + packed codes. Pickled files are refused."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..core.errors import DataNotFoundError, InvalidInputError, UnsafeFileError
from ..core.paths import file_stamp, write_atomic
from . import HashingModel, build_model
from .card import META_FILE, ModelCard, read_card

MODEL_FILE, CODES_FILE = "model.safetensors", "codes.safetensors"


def pack_codes(codes: torch.Tensor) -> torch.Tensor:
    """+-1 codes (N, K) -> uint8 bit-packed (N, ceil(K/8))."""
    return torch.from_numpy(np.packbits((codes > 0).cpu().numpy(), axis=1))


def unpack_codes(packed: torch.Tensor, bits: int) -> torch.Tensor:
    """Inverse of pack_codes: int8 +-1 codes (N, bits)."""
    bits_array = np.unpackbits(packed.numpy(), axis=1, count=bits)
    return torch.from_numpy(bits_array.astype(np.int8) * 2 - 1)


def check_safetensors(path: Path) -> None:
    """Refuse anything that is not a safetensors file, pickles and torch zip archives above all."""
    if not path.is_file():
        raise DataNotFoundError(f"checkpoint not found: {path}")
    with open(path, "rb") as fh:
        head = fh.read(9)
    size = path.stat().st_size
    if len(head) == 9 and head[8:9] == b"{" and 8 + int.from_bytes(head[:8], "little") <= size:
        return
    if head[:2] == b"PK" or head[:1] == b"\x80":
        raise UnsafeFileError(
            f"{path} is a pickled torch checkpoint; hashdemo never unpickles files. Import it once with "
            "`python -m hashdemo import --weights FILE ...` (it reads state_dicts with torch.load(weights_only=True))"
        )
    raise InvalidInputError(f"{path}: not a safetensors file (corrupt or another format)")


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    check_safetensors(path)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: corrupt safetensors file ({exc})") from exc


def read_header(path: Path) -> dict:
    """The JSON a hashdemo safetensors file keeps in its header under "hashdemo" ({} when it has none)."""
    check_safetensors(Path(path))
    try:
        with safe_open(str(path), framework="pt") as fh:
            return json.loads((fh.metadata() or {}).get("hashdemo", "{}"))
    except (TypeError, json.JSONDecodeError, SafetensorError, OSError) as exc:
        raise InvalidInputError(f"{path}: unreadable safetensors header ({exc})") from exc


def save(folder: Path, model: HashingModel, card: ModelCard, codes: dict[str, torch.Tensor]) -> None:
    """Write model.safetensors, meta.json and codes.safetensors (packed +-1 codes) into folder. A frozen model
    (BatchNorm folded) is saved as it is and recorded as folded, so that load rebuilds the same form."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = replace(card, folded=bool(getattr(model, "folded", False))).to_json()
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    write_atomic(folder / MODEL_FILE, lambda p: save_file(state, str(p), metadata={"hashdemo": json.dumps(meta)}))
    write_atomic(folder / CODES_FILE, lambda p: save_file({k: pack_codes(v) for k, v in codes.items()}, str(p)))
    write_atomic(folder / META_FILE, lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))


def tensors_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 (16 hex digits) of named tensors' contents: names, dtypes, shapes and values."""
    digest = hashlib.sha256()
    for key in sorted(tensors):
        value = tensors[key].detach().cpu().contiguous()
        digest.update(f"{key}:{value.dtype}:{tuple(value.shape)}".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=256)
def _contents_digest(path: str, size: int, mtime_ns: int) -> str:
    return tensors_digest(read_tensors(Path(path)))


def contents_digest(path: Path) -> str:
    """SHA-256 (first 16 hex digits) of a safetensors file's tensors (names, dtypes, shapes, values), not of its
    header: a checkpoint imported into two folders (whose meta.json name other data roots) has one digest."""
    stat = os.stat(path)
    return _contents_digest(os.path.abspath(path), stat.st_size, stat.st_mtime_ns)


def weights_digest(folder: Path) -> str:
    return contents_digest(Path(folder) / MODEL_FILE)


def codes_digest(folder: Path) -> str:
    return contents_digest(Path(folder) / CODES_FILE)


def card_of(folder: Path, source: str, origin: str) -> ModelCard:
    """A model folder's card with where it was read: its source, name, origin, weights digest, shipped attacks;
    read again only when its meta.json, weights or ProS-GAN file change (a page's model picker asks for every
    card on every rerun of every session)."""
    attacks = tuple(a for a in SHIPPED_ATTACKS if os.path.isfile(os.path.join(folder, f"{a}.safetensors")))
    signature = tuple(file_stamp(os.path.join(folder, name)) for name in (META_FILE, MODEL_FILE))
    if None in signature:  # not cached: read_card and the digest say what is missing
        return _card_of.__wrapped__(Path(folder), source, origin, attacks, ())
    return _card_of(Path(os.path.abspath(folder)), source, origin, attacks, signature)


SHIPPED_ATTACKS = ("prosgan",)  # attacks whose trained file (<name>.safetensors) a model folder may hold


@lru_cache(maxsize=256)
def _card_of(folder: Path, source: str, origin: str, attacks: tuple[str, ...], files: tuple) -> ModelCard:
    """The card itself; `files` (the file_stamp of meta.json and of the weights) only keys the cache."""
    card = read_card(folder)
    return replace(
        card, source=source, name=folder.name, origin=origin, weights=weights_digest(folder), attacks=attacks
    )


def build_from_card(card: ModelCard) -> HashingModel:
    return build_model(
        card.backbone,
        card.bits,
        card.in_channels,
        card.mean,
        card.std,
        width=card.width,
        alpha=card.alpha,
        pretrained=False,
        input_size=card.image_size if card.imported else None,
    )


def load(folder: Path) -> tuple[HashingModel, ModelCard, dict[str, torch.Tensor]]:
    """Model (frozen for inference), card and unpacked codes from a model folder."""
    folder = Path(folder)
    card = read_card(folder)
    state = read_tensors(folder / MODEL_FILE)
    found = None if "hash_layer.weight" not in state else state["hash_layer.weight"].shape[0]
    if found != card.bits:
        raise InvalidInputError(f"{folder}: meta.json says {card.bits} bits but the weights have {found}")
    model = build_from_card(card)
    if card.folded:
        model.freeze()  # the saved state is the folded form
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise InvalidInputError(f"{folder}: weights do not fit a {card.backbone} model ({exc})") from exc
    model.freeze(fold=not card.imported)
    codes = {k: unpack_codes(v, card.bits) for k, v in read_tensors(folder / CODES_FILE).items()}
    return model, card, codes


def optimiser_tensors(prefix: str, optimiser: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Adam's moments and step counts as named tensors (safetensors holds tensors only)."""
    out = {}
    for index, state in optimiser.state_dict()["state"].items():
        for name, value in state.items():
            out[f"{prefix}.{index}.{name}"] = torch.as_tensor(value).clone()
    return out


def load_optimiser(prefix: str, optimiser: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    state = optimiser.state_dict()
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            _, index, name = key.rsplit(".", 2)
            state["state"].setdefault(int(index), {})[name] = value
    optimiser.load_state_dict(state)
