"""The models a page or a command can pick: the zoo shipped in assets/zoo (names like zoo:fashion-dpsh-smallcnn-32,
in the order of its index) and the user's own model folders under $HASHDEMO_MODELS (default ./models).

Each is the model's own card (models.card.ModelCard, read from its meta.json, with where it was read); pages filter
by its fields, never by parsing names. Building the zoo lives in training.zoo_build, so that loading a model never
imports the training code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..core.errors import DataNotFoundError, HashdemoError, InvalidInputError
from ..core.paths import ZOO_DIR
from ..models.card import META_FILE, ModelCard
from ..models.checkpoint import card_of

INDEX_FILE = "index.json"
ZOO = "zoo:"


def zoo_names() -> list[str]:
    """The shipped models' names, in the index's order."""
    path = ZOO_DIR / INDEX_FILE
    return json.loads(path.read_text())["models"] if path.is_file() else []


def zoo_cards() -> list[ModelCard]:
    """The shipped models, each its card."""
    return [card_of(ZOO_DIR / name, ZOO + name, "zoo") for name in zoo_names()]


def models_dir() -> Path:
    """Where the user's own model folders live: $HASHDEMO_MODELS, else ./models."""
    return Path(os.environ.get("HASHDEMO_MODELS", "models")).expanduser().resolve()


def local_cards(folder: Path | None = None) -> list[ModelCard]:
    """Every model folder (a meta.json inside) directly under `folder`; broken ones are skipped here and explained
    when picked by path."""
    folder = folder or models_dir()
    if not folder.is_dir():
        return []
    out = []
    for sub in sorted(p for p in folder.iterdir() if (p / META_FILE).is_file()):
        try:
            out.append(folder_card(sub))
        except HashdemoError:
            continue
    return out


def folder_card(folder: Path) -> ModelCard:
    """A model folder of the user's (or the zoo's, named by path) as its card, its meta.json validated."""
    folder = Path(folder).expanduser().resolve()
    if folder.parent == ZOO_DIR.resolve():
        return card_of(folder, ZOO + folder.name, "zoo")
    return card_of(folder, str(folder), "yours")


def all_cards() -> list[ModelCard]:
    return zoo_cards() + local_cards()


def card_for(source: str) -> ModelCard:
    """The card of zoo:<name> or a model folder."""
    return folder_card(resolve_folder(source))


def model_dir(name: str) -> Path:
    names = zoo_names()
    if name not in names:
        raise DataNotFoundError(f"no zoo model {name!r}; available: {', '.join(names) or 'none (run make zoo)'}")
    return ZOO_DIR / name


def resolve_folder(source: str) -> Path:
    """'zoo:<name>' -> its folder in assets/zoo; anything else is a model folder path."""
    if source.startswith(ZOO):
        return model_dir(source[len(ZOO) :])
    path = Path(source).expanduser()
    if path.suffix in (".pt", ".pth", ".ckpt", ".bin") and path.is_file():
        raise InvalidInputError(
            f"{source} is a PyTorch file, not a model folder: convert it once with `python -m hashdemo import "
            f"--from deephash --arch ... --bits K --weights {source} --dataset NAME --out DIR` (or --from state-dict)"
        )
    if path.name in ("model.safetensors", META_FILE):
        path = path.parent
    if not path.is_dir():
        raise DataNotFoundError(
            f"model {source!r} not found: give zoo:<name> (see 'hashdemo zoo'), a folder written by 'hashdemo "
            "train' or 'hashdemo import', or import your own checkpoint with 'hashdemo import'"
        )
    return path.resolve()
