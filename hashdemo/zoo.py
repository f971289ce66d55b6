"""The model zoo shipped in assets/zoo: names like zoo:fashion-dpsh-smallcnn-32 and their index (reading only).

Building the zoo lives in zoo_build.py, so that loading a model never imports the training code.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import DataNotFoundError
from .paths import ZOO_DIR

INDEX_FILE = "index.json"
INDEX_KEYS = (
    "dataset",
    "backbone",
    "method",
    "bits",
    "width",
    "epochs",
    "clean_map",
    "topk",
    "train_seconds",
    "defence",
    "held_out_classes",
)


def variant(entry: dict) -> str:
    """How a zoo model differs from the plain one: its defence, or the classes it never saw in training."""
    if entry.get("defence"):
        return entry["defence"]
    return "open set" if entry.get("held_out_classes") else "standard"


def list_models() -> list[dict]:
    """The index entries (name, dataset, backbone, method, bits, clean MAP, ...) of the shipped models."""
    path = ZOO_DIR / INDEX_FILE
    if not path.is_file():
        return []
    return json.loads(path.read_text())["models"]


def model_dir(name: str) -> Path:
    names = [m["name"] for m in list_models()]
    if name not in names:
        raise DataNotFoundError(f"no zoo model {name!r}; available: {', '.join(names) or 'none (run make zoo)'}")
    return ZOO_DIR / name
