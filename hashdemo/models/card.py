"""A model folder's meta.json as a typed, frozen card, validated with one clear message per missing or wrong field.

The schema (also in the README, "Your own model"): required `format` ("hashdemo-checkpoint-1"), `dataset`,
`backbone`, `bits`, `in_channels`, `mean`, `std`; optional `method`, `width`, `alpha`, `image_size`, `resize`,
`split_seed`, `data_root`, `list_dir` (absolute), `num_classes`, `clean_map`, `topk`, `defence`, `defence_params`,
`held_out_classes`, `folded`, `imported` (where an imported model came from), `hash_layer`, `output`;
every other key (the training record: epochs, lr, seed, machine, ...) is kept as it is.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..core.errors import DataNotFoundError, InvalidInputError

FORMAT = "hashdemo-checkpoint-1"
DEFAULT_DATASET = "fashion"  # the embedded data: its name is left out of short labels
LOCATED = ("source", "name", "origin", "weights", "attacks")
META_FILE = "meta.json"

# field -> (python types accepted, one line saying what it is)
REQUIRED: dict[str, tuple[tuple[type, ...], str]] = {
    "format": ((str,), f'"{FORMAT}"'),
    "dataset": ((str,), "the dataset it was trained on, a name of `hashdemo datasets`"),
    "backbone": ((str,), "the network before the hash layer, a name of `hashdemo backbones`"),
    "bits": ((int,), "the code length K"),
    "in_channels": ((int,), "image channels the model takes (1 grey, 3 RGB)"),
    "mean": ((list,), "per-channel normalisation mean (applied inside the model)"),
    "std": ((list,), "per-channel normalisation std"),
}


@dataclass(frozen=True)
class ModelCard:
    """What a model folder says of itself."""

    dataset: str
    backbone: str
    bits: int
    in_channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    method: str = "unknown"
    width: int | None = None
    alpha: float = 1.0
    image_size: int | None = None
    resize: int | None = None  # the shorter side before the crop (unset: image_size x 256/224)
    split_seed: int = 0
    data_root: str | None = None
    list_dir: str | None = None  # where a list-file dataset's lists are, when not in data_root (absolute)
    num_classes: int | None = None
    clean_map: float | None = None
    topk: int = 1000
    defence: str | None = None
    defence_params: dict = field(default_factory=dict)
    held_out_classes: tuple[int, ...] = ()
    folded: bool = False
    imported: dict | None = None  # {"from": "deephash", "arch": "alexnet", "weights_sha256": ...}
    split: str = ""  # what identifies the data split beyond its seed (a digest of list files); written with it
    record: dict = field(default_factory=dict)  # every other key of meta.json (the training record)
    # where the card was read, filled by the reader (never written into meta.json)
    source: str = ""  # zoo:<name>, the folder's absolute path, or python:<label>
    name: str = ""  # the zoo name or the folder's name
    origin: str = ""  # "zoo", "yours" (a folder of your own) or "python" (built in Python)
    weights: str = ""  # digest of the weight tensors' contents (the same wherever the folder lies)
    attacks: tuple[str, ...] = ()  # trained generative attacks shipped beside it (prosgan)

    @property
    def variant(self) -> str:
        """How it differs from a plain model: its defence, or the classes it never saw in training."""
        if self.defence:
            return self.defence
        return "open set" if self.held_out_classes else "standard"

    @property
    def label(self) -> str:
        """Short enough for a legend: a zoo name without the default dataset, your folder's name marked as yours."""
        if self.origin == "zoo":
            return self.name.removeprefix(f"{DEFAULT_DATASET}-")
        return f"{self.name} (yours)" if self.origin == "yours" else self.name

    @property
    def split_identity(self) -> str:
        return self.split or f"seed {self.split_seed}"

    @property
    def source_digest(self) -> str | None:
        """The SHA-256 of the checkpoint file an imported model came from."""
        return (self.imported or {}).get("weights_sha256")

    def family(self) -> tuple:
        """What a model shares with its defended versions and other bit lengths (dataset, method, network)."""
        return (self.dataset, self.backbone, self.method, self.width)

    def describe(self) -> dict:
        """What an export names: the model, its dataset and split, backbone, method, bits, weight digests."""
        return {
            "model": self.source,
            "label": self.label,
            "dataset": self.dataset,
            "split": self.split_identity,
            "backbone": self.backbone,
            "method": self.method,
            "bits": self.bits,
            "defence": self.defence,
            "weights": self.weights,
            "source_checkpoint": self.source_digest,
        }

    @classmethod
    def from_json(cls, meta: dict, where: str) -> ModelCard:
        missing = [name for name in REQUIRED if name not in meta]
        if missing:
            lines = "; ".join(f"{name} ({REQUIRED[name][1]})" for name in missing)
            raise InvalidInputError(f"{where}: meta.json lacks {lines}")
        for name, (types, what) in REQUIRED.items():
            if not isinstance(meta[name], types) or isinstance(meta[name], bool):
                raise InvalidInputError(f"{where}: meta.json's {name} must be {what}, got {meta[name]!r}")
        if meta["format"] != FORMAT:
            raise InvalidInputError(f"{where}: unknown checkpoint format {meta['format']!r} (expected {FORMAT!r})")
        if len(meta["mean"]) != len(meta["std"]):
            raise InvalidInputError(f"{where}: meta.json's mean and std differ in length")
        names = {f.name for f in fields(cls)} - {"record", *LOCATED}
        known = {k: v for k, v in meta.items() if k in names and v is not None}
        known["mean"], known["std"] = tuple(known["mean"]), tuple(known["std"])
        known["held_out_classes"] = tuple(known.get("held_out_classes") or ())
        record = {k: v for k, v in meta.items() if k not in names and k != "format"}
        return cls(**known, record=record)

    def to_json(self) -> dict:
        """What meta.json holds (where the card was read is not part of it)."""
        written = {k: v for k, v in asdict(self).items() if k not in ("record", *LOCATED)}
        out = {"format": FORMAT, **written, **self.record}
        out["mean"], out["std"] = list(self.mean), list(self.std)
        out["held_out_classes"] = list(self.held_out_classes)
        return out


def read_card(folder: Path) -> ModelCard:
    path = Path(folder) / META_FILE
    if not path.is_file():
        raise DataNotFoundError(
            f"no {META_FILE} in {folder}: a model folder holds model.safetensors, codes.safetensors and meta.json "
            "(written by `hashdemo train` or `hashdemo import`; the schema is in the README)"
        )
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path}: corrupt metadata ({exc})") from exc
    if not isinstance(meta, dict):
        raise InvalidInputError(f"{path}: meta.json must hold one JSON object")
    return ModelCard.from_json(meta, str(path))
