"""Outside checkpoints into model folders (`python -m hashdemo import`): the state_dicts of DeepHash-pytorch's
AlexNet / VGG / ResNet hash nets (network.py's key names, shared tensors handled), the THA and ProS-GAN repositories'
nets, and any torchvision classifier whose last layer became the hash layer. The result is an ordinary model
folder (safetensors, meta.json, packed codes) that every command and page opens like a zoo model.

Files are read with torch.load(weights_only=True) or as safetensors, never unpickled in full; normalisation goes
inside the model (ImageNet's for DeepHash-pytorch and THA, none for ProS-GAN, whose nets take [0,1] images).
"""

from __future__ import annotations

import hashlib
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..core.devices import pick_device
from ..core.errors import DataNotFoundError, InvalidInputError, UnsafeFileError
from ..core.progress import Progress, silent
from ..data import load_dataset, resolve_root
from ..hashing import METHODS as HASHING_METHODS
from ..models import IMAGENET_MEAN, IMAGENET_STD, build_model, checkpoint
from ..models.card import ModelCard
from ..retrieval.encoding import encode
from ..retrieval.metrics import TIES, TOPK, mean_average_precision
from .spec import DEVICE

METHODS = (*HASHING_METHODS.names(), "unknown")  # what `import --method` records (unknown: not said)
IMPORT_IMAGE_SIZE = 224  # the crop the field's ImageNet nets take (Resize 256 + CenterCrop 224)
ARCHS = ("alexnet", "vgg11", "vgg16", "resnet18", "resnet34", "resnet50", "resnet101")
SOURCES = ("deephash", "tha", "prosgan", "state-dict")
# what each source's nets take: DeepHash-pytorch and THA normalise with ImageNet's statistics (in their transform
# or their forward), ProS-GAN's hash nets take [0,1] images as they are (their normalisation is commented out)
NORMALISATION = {
    "deephash": (IMAGENET_MEAN, IMAGENET_STD),
    "tha": (IMAGENET_MEAN, IMAGENET_STD),
    "prosgan": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
    "state-dict": (IMAGENET_MEAN, IMAGENET_STD),
}
RESNET_PARTS = ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4")


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state_dict from a .pt/.pth file (torch.load(weights_only=True): tensors and containers only) or a
    .safetensors file; a whole pickled model gets one line saying how to export its state_dict."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        return checkpoint.read_tensors(path)
    export = (
        f"{path} holds a whole pickled model, which hashdemo never unpickles: export its weights once with "
        "torch.save(model.state_dict(), 'weights.pt') and import that file"
    )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafeFileError(export) from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as exc:
        raise InvalidInputError(f"{path}: not a PyTorch weights file ({str(exc).splitlines()[0]})") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # a training checkpoint that keeps the weights under "state_dict"
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UnsafeFileError(export)
    return {k.removeprefix("module."): v for k, v in state.items()}  # nn.DataParallel's prefix


def same_or_refuse(a: torch.Tensor, b: torch.Tensor, where: str) -> None:
    if not torch.equal(a, b):
        raise InvalidInputError(f"{where}: two names of one shared tensor hold different values")


def deephash_keys(arch: str, state: dict, classifier: str = "hash_layer") -> dict[str, torch.Tensor]:
    """DeepHash-pytorch's names -> hashdemo's (torchvision's net as `backbone.net`, the hash layer last).

    AlexNet: features.*, <classifier>.1 / .4 (the two 4096 layers), <classifier>.6 (the hash layer);
    VGG: features.*, <classifier>.0 / .3, <classifier>.6; ResNet: conv1, bn1, layer1-4 (each also stored as
    feature_layers.0-7, the same tensors) and hash_layer.
    """
    out: dict[str, torch.Tensor] = {}
    if arch.startswith("resnet"):
        shared = {i: name for i, name in zip((0, 1, 4, 5, 6, 7), RESNET_PARTS, strict=True)}
        for key, value in state.items():
            if key.startswith("feature_layers."):
                index, _, rest = key.removeprefix("feature_layers.").partition(".")
                named = f"{shared[int(index)]}.{rest}"
                if named in state:
                    same_or_refuse(state[named], value, key)
                    continue
                key = named
            out[key if key.startswith("hash_layer.") else f"backbone.net.{key}"] = value
        return out
    fc = {"1": "1", "4": "4"} if arch == "alexnet" else {"0": "0", "3": "3"}
    for key, value in state.items():
        if key.startswith("features."):
            out[f"backbone.net.{key}"] = value
        elif key.startswith(f"{classifier}."):
            index, _, rest = key.removeprefix(f"{classifier}.").partition(".")
            out[f"hash_layer.{rest}" if index == "6" else f"backbone.net.classifier.{fc.get(index, index)}.{rest}"] = (
                value
            )
        elif key.startswith("cl1."):  # THA's VGG registers its first classifier layer twice
            twin = f"{classifier}.0.{key.removeprefix('cl1.')}"
            if twin in state:
                same_or_refuse(state[twin], value, key)
            else:
                out[f"backbone.net.classifier.0.{key.removeprefix('cl1.')}"] = value
        else:
            out[key] = value  # left for load_state_dict to name as unexpected
    return out


def torchvision_keys(arch: str, state: dict, hash_layer: str) -> dict[str, torch.Tensor]:
    """A torchvision classifier's state_dict whose layer `hash_layer` (fc, classifier.6) is the hash layer."""
    out = {}
    for key, value in state.items():
        if key.startswith(f"{hash_layer}."):
            out[f"hash_layer.{key.removeprefix(hash_layer + '.')}"] = value
        else:
            out[f"backbone.net.{key}"] = value
    return out


KEY_MAPS: dict[str, Callable[[str, dict, str | None], dict]] = {
    "deephash": lambda arch, state, _: deephash_keys(arch, state),
    "tha": lambda arch, state, _: deephash_keys(arch, state, "classifier"),
    "prosgan": lambda arch, state, _: deephash_keys(arch, state, "classifier"),
    "state-dict": lambda arch, state, hash_layer: torchvision_keys(arch, state, hash_layer),
}
DESCRIBED = {
    "deephash": "DeepHash-pytorch's",
    "tha": "THA's (Wang et al. 2021)",
    "prosgan": "ProS-GAN's (Wang et al. 2021)",
    "state-dict": "torchvision's",
}


def build_imported(source: str, arch: str, bits: int, weights: Path, hash_layer: str | None, image_size: int):
    """The hash model the weights describe, loaded strictly (a wrong architecture or bit length is one line)."""
    if source not in SOURCES:
        raise InvalidInputError(f"--from must be one of {', '.join(SOURCES)}, got {source!r}")
    arch = arch.removeprefix("torchvision:")
    if arch not in ARCHS:
        raise InvalidInputError(f"--arch must be one of {', '.join(ARCHS)} (torchvision:NAME for state-dict)")
    if source == "state-dict" and not hash_layer:
        raise InvalidInputError("--from state-dict needs --hash-layer, the layer that became the hash layer (fc, ...)")
    state = KEY_MAPS[source](arch, read_state_dict(weights), hash_layer)
    found = state.get("hash_layer.weight")
    if found is None:
        raise InvalidInputError(f"{weights}: no hash layer among its keys; is it {DESCRIBED[source]} {arch}?")
    if found.shape[0] != bits:
        raise InvalidInputError(f"{weights}: its hash layer has {found.shape[0]} outputs, not {bits} (--bits)")
    mean, std = NORMALISATION[source]
    model = build_model(arch, bits, 3, mean, std, pretrained=False, input_size=image_size)
    ours = {k: v for k, v in model.state_dict().items() if k == "alpha" or k.startswith("adapter.")}
    try:
        model.load_state_dict({**state, **ours}, strict=True)  # their weights, our normalisation and tanh scale
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:300]
        raise InvalidInputError(
            f"{weights} does not fit {DESCRIBED[source]} {arch} with {bits} bits: {detail}"
        ) from exc
    return model.freeze(fold=False), mean, std


def read_codes(path: Path, expected: int, bits: int) -> torch.Tensor:
    """+-1 codes from a .npy file (DeepHash-pytorch's *-trn_binary.npy), checked against the database."""
    array = np.load(path, allow_pickle=False)
    if array.shape != (expected, bits):
        raise InvalidInputError(f"{path}: codes of shape {array.shape}, the database needs ({expected}, {bits})")
    return torch.from_numpy(np.where(array > 0, 1, -1).astype(np.int8))


def import_model(
    source: str,
    arch: str,
    bits: int,
    weights: Path,
    dataset: str,
    out: Path,
    *,
    method: str = METHODS[-1],
    data_root: str | None = None,
    list_dir: str | None = None,
    split_seed: int = 0,
    image_size: int | None = None,
    resize: int | None = None,
    hash_layer: str | None = None,
    database_codes: Path | None = None,
    database_labels: Path | None = None,
    topk: int = TOPK.default,
    ties: str = TIES.default,
    device: str = DEVICE.default,
    progress: Progress = silent,
) -> ModelCard:
    """Read the weights, encode (or take) the database codes and the training codes on `device`, measure clean
    MAP (MAP@topk, equal distances ordered by `ties`), and write the model folder `out`."""
    if method not in METHODS:
        raise InvalidInputError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    image_size = image_size or IMPORT_IMAGE_SIZE
    model, mean, std = build_imported(source, arch, bits, Path(weights), hash_layer, image_size)
    model.to(pick_device(device))
    root = resolve_root(data_root)
    lists = resolve_root(list_dir)
    data = load_dataset(dataset, root, split_seed, image_size, resize=resize, lists=lists)
    if data.image_shape[0] != 3 and data.image_shape[0] != 1:
        raise InvalidInputError(f"{dataset} has {data.image_shape[0]}-channel images; the nets take RGB")
    try:
        model(data.query.images([0]).to(next(model.parameters()).device))
    except RuntimeError as exc:
        raise InvalidInputError(
            f"{arch} refuses {data.image_shape[1]}-px images ({str(exc).splitlines()[0]}); pass --image-size 224"
        ) from exc
    codes = {"train": encode(model, data.train, batch_size=64, progress=progress)}
    if database_codes:
        codes["database"] = read_codes(Path(database_codes), len(data.database), bits)
        if database_labels is not None:
            given = torch.from_numpy(np.load(database_labels, allow_pickle=False) > 0)
            if given.shape != data.database.labels.shape or not torch.equal(given, data.database.labels):
                raise InvalidInputError(
                    f"{database_labels}: these labels are not the {dataset} database's in its order: the codes "
                    "belong to another split (check --dataset, --data-root and --split-seed)"
                )
    else:
        codes["database"] = encode(model, data.database, batch_size=64, progress=progress)
    clean = mean_average_precision(
        query_codes=encode(model, data.query, batch_size=64),
        database_codes=codes["database"],
        query_labels=data.query.labels,
        database_labels=data.database.labels,
        topk=topk,
        ties=ties,
    )
    digest = hashlib.sha256(Path(weights).read_bytes()).hexdigest()[:16]
    card = ModelCard(
        dataset=dataset,
        backbone=arch.removeprefix("torchvision:"),
        bits=bits,
        in_channels=data.image_shape[0],
        mean=tuple(mean),
        std=tuple(std),
        method=method,
        image_size=image_size,
        resize=resize,
        split_seed=split_seed,
        data_root=root,
        list_dir=lists,
        num_classes=data.num_classes,
        clean_map=round(clean, 4),
        topk=topk,
        imported={"from": source, "arch": arch, "file": Path(weights).name, "weights_sha256": digest},
    )
    checkpoint.save(Path(out), model, card, codes)
    return card
