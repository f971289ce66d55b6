"""The models a page or a command can pick: the zoo shipped in assets/zoo (names like
zoo:fashion-dpsh-smallcnn-32) and the user's own model folders under $HASHDEMO_MODELS (default ./models).

Each is a typed, frozen ModelEntry; pages filter by its fields, never by parsing names (naming.py builds and
parses names). Building the zoo lives in zoo_build.py, so that loading a model never imports the training code.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.errors import DataNotFoundError, HashdemoError, InvalidInputError
from ..core.paths import ZOO_DIR
from ..models.card import META_FILE, ModelCard, read_card

INDEX_FILE = "index.json"
ZOO = "zoo:"


@dataclass(frozen=True)
class ModelEntry:
    """A model the pickers offer: where it is, what it is and how well it retrieves when clean."""

    source: str  # zoo:<name> or the folder's absolute path
    name: str
    dataset: str
    backbone: str
    method: str
    bits: int
    width: int | None = None
    epochs: int | None = None
    clean_map: float | None = None
    topk: int = 1000
    train_seconds: float | None = None
    defence: str | None = None
    held_out_classes: tuple[int, ...] = ()
    attacks: tuple[str, ...] = ()  # trained generative attacks shipped beside it (prosgan)
    origin: str = "zoo"  # "zoo" | "local"

    @property
    def variant(self) -> str:
        if self.defence:
            return self.defence
        return "open set" if self.held_out_classes else "standard"

    @property
    def label(self) -> str:
        """Short enough for a legend or a multiselect: the zoo name without the default dataset."""
        return self.name.removeprefix("fashion-") if self.origin == "zoo" else f"{self.name} (yours)"

    def family(self) -> tuple:
        """What a model shares with its defended versions and other bit lengths (dataset, method, network)."""
        return (self.dataset, self.backbone, self.method, self.width)

    def to_index(self) -> dict:
        out = asdict(self)
        for key in ("source", "origin"):
            out.pop(key)
        out["held_out_classes"] = list(self.held_out_classes) or None
        out["attacks"] = list(self.attacks)
        return out

    @classmethod
    def from_card(cls, source: str, name: str, card: ModelCard, attacks: tuple[str, ...], origin: str) -> ModelEntry:
        return cls(
            source=source,
            name=name,
            dataset=card.dataset,
            backbone=card.backbone,
            method=card.method,
            bits=card.bits,
            width=card.width,
            epochs=card.record.get("epochs"),
            clean_map=card.clean_map,
            topk=card.topk,
            train_seconds=card.record.get("train_seconds"),
            defence=card.defence,
            held_out_classes=card.held_out_classes,
            attacks=attacks,
            origin=origin,
        )


def zoo_entries() -> list[ModelEntry]:
    """The shipped models, from the zoo's index."""
    path = ZOO_DIR / INDEX_FILE
    if not path.is_file():
        return []
    entries = []
    for m in json.loads(path.read_text())["models"]:
        known = {k: v for k, v in m.items() if k in ModelEntry.__dataclass_fields__}
        known["held_out_classes"] = tuple(known.get("held_out_classes") or ())
        known["attacks"] = tuple(known.get("attacks") or ())
        entries.append(ModelEntry(source=ZOO + m["name"], origin="zoo", **known))
    return entries


def models_dir() -> Path:
    """Where the user's own model folders live: $HASHDEMO_MODELS, else ./models."""
    return Path(os.environ.get("HASHDEMO_MODELS", "models")).expanduser().resolve()


def local_entries(folder: Path | None = None) -> list[ModelEntry]:
    """Every model folder (a meta.json inside) directly under `folder`; broken ones are skipped here and explained
    when picked by path."""
    folder = folder or models_dir()
    if not folder.is_dir():
        return []
    out = []
    for sub in sorted(p for p in folder.iterdir() if (p / META_FILE).is_file()):
        try:
            out.append(entry_of(sub))
        except HashdemoError:
            continue
    return out


def entry_of(folder: Path) -> ModelEntry:
    """A model folder as a picker entry (its meta.json validated)."""
    folder = Path(folder).expanduser().resolve()
    card = read_card(folder)
    attacks = tuple(a for a in ("prosgan",) if (folder / f"{a}.safetensors").is_file())
    return ModelEntry.from_card(str(folder), folder.name, card, attacks, "local")


def all_entries() -> list[ModelEntry]:
    return zoo_entries() + local_entries()


def model_dir(name: str) -> Path:
    names = [e.name for e in zoo_entries()]
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
