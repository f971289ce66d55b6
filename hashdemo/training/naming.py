"""Model names: the one builder (fashion-dpsh-smallcnn-32, ...-atrdh, ...-open) and its parser, by the registries'
names (which may hold hyphens themselves)."""

from __future__ import annotations

from ..core.errors import InvalidInputError
from ..data import DATASETS
from ..defences import DEFENCES
from ..hashing import METHODS
from ..models import BACKBONES
from ..systems.zoo import ZOO


def model_name(dataset: str, method: str, backbone: str, bits: int, defence: str | None = None, open_set=False) -> str:
    """The one name builder: fashion-dpsh-smallcnn-32, fashion-dph-smallcnn-32-atrdh, ...-open."""
    variant = f"-{defence}" if defence else "-open" if open_set else ""
    return f"{dataset}-{method}-{backbone}-{bits}{variant}"


def parse_name(name: str) -> dict:
    """The inverse of model_name, by the registries' names (which may hold hyphens themselves)."""

    def take(rest: str, names: list[str], what: str) -> tuple[str, str]:
        for candidate in sorted(names, key=len, reverse=True):
            if rest == candidate or rest.startswith(candidate + "-"):
                return candidate, rest[len(candidate) + 1 :]
        raise InvalidInputError(f"{name!r} is not a model name: no {what} at {rest!r}")

    dataset, rest = take(name.removeprefix(ZOO), DATASETS.names(), "dataset")
    method, rest = take(rest, METHODS.names(), "hashing method")
    backbone, rest = take(rest, BACKBONES.names(), "backbone")
    bits, _, variant = rest.partition("-")
    if not bits.isdigit():
        raise InvalidInputError(f"{name!r} is not a model name: no bit length at {rest!r}")
    if variant not in ("", "open", *DEFENCES.names()):
        raise InvalidInputError(f"{name!r} is not a model name: unknown variant {variant!r}")
    defence = variant if variant in DEFENCES else None
    return {
        "dataset": dataset,
        "method": method,
        "backbone": backbone,
        "bits": int(bits),
        "defence": defence,
        "open_set": variant == "open",
    }
