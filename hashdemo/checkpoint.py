"""Checkpoints as safetensors (weights) + JSON metadata + packed codes. Pickled files are refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import DataNotFoundError, InvalidInputError, UnsafeFileError
from .models import HashingModel, build_model
from .paths import write_atomic

FORMAT = "hashdemo-checkpoint-1"
MODEL_FILE, META_FILE, CODES_FILE = "model.safetensors", "meta.json", "codes.safetensors"


def pack_codes(codes: torch.Tensor) -> torch.Tensor:
    """+-1 codes (N, K) -> uint8 bit-packed (N, ceil(K/8))."""
    return torch.from_numpy(np.packbits((codes > 0).numpy(), axis=1))


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
            f"{path} is a pickled torch checkpoint; hashdemo never unpickles files. Convert it once with "
            "safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors')"
        )
    raise InvalidInputError(f"{path}: not a safetensors file (corrupt or another format)")


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    check_safetensors(path)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: corrupt safetensors file ({exc})") from exc


def save(folder: Path, model: HashingModel, meta: dict, codes: dict[str, torch.Tensor]) -> None:
    """Write model.safetensors, meta.json and codes.safetensors (packed +-1 codes) into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, **meta}
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    write_atomic(folder / MODEL_FILE, lambda p: save_file(state, str(p), metadata={"hashdemo": json.dumps(meta)}))
    write_atomic(folder / CODES_FILE, lambda p: save_file({k: pack_codes(v) for k, v in codes.items()}, str(p)))
    write_atomic(folder / META_FILE, lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))


def read_meta(folder: Path) -> dict:
    path = folder / META_FILE
    if not path.is_file():
        raise DataNotFoundError(f"no {META_FILE} in {folder} (expected a folder written by 'hashdemo train')")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path}: corrupt metadata ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise InvalidInputError(f"{path}: unknown checkpoint format {meta.get('format')!r}")
    return meta


def load(folder: Path) -> tuple[HashingModel, dict, dict[str, torch.Tensor]]:
    """Model (frozen for inference), metadata and unpacked codes from a checkpoint folder."""
    folder = Path(folder)
    meta = read_meta(folder)
    state = read_tensors(folder / MODEL_FILE)
    bits = int(meta["bits"])
    if state.get("hash_layer.weight") is None or state["hash_layer.weight"].shape[0] != bits:
        found = None if "hash_layer.weight" not in state else state["hash_layer.weight"].shape[0]
        raise InvalidInputError(f"{folder}: metadata says {bits} bits but the weights have {found}")
    model = build_model(
        meta["backbone"],
        bits,
        meta["in_channels"],
        tuple(meta["mean"]),
        tuple(meta["std"]),
        width=meta.get("width"),
        alpha=meta.get("alpha", 1.0),
        pretrained=False,
    )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise InvalidInputError(f"{folder}: weights do not fit a {meta['backbone']} model ({exc})") from exc
    model.freeze()
    codes = {k: unpack_codes(v, bits) for k, v in read_tensors(folder / CODES_FILE).items()}
    return model, meta, codes


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
