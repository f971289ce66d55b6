"""Rebuilding the zoo from scratch (`make zoo`): the recipe of every shipped model, trained two at a time, with
THA's prototype codes and the ProS-GAN generators beside them."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch

from ..core.errors import DataNotFoundError
from ..core.paths import ZOO_DIR, cache_dir
from ..core.progress import StderrBar
from ..models.card import META_FILE, ModelCard
from ..prosgan.model import FILE
from ..prosgan.training import LOG, RESIDUAL_RECIPE, ZOO_RECIPE, TrainSettings
from ..prosgan.training import train as train_prosgan
from ..systems.spec import ModelSpec
from ..systems.zoo import INDEX_FILE, ZOO, zoo_cards
from ..targets.prototype import TABLE_FILE, PrototypeTable, cached_prototype_net
from .naming import model_name
from .train import TrainConfig, train_and_save

RESNET_WIDTH = 16  # keeps the shipped ResNet-18 at 0.7 M parameters (2.8 MB)
HELD_OUT_WIDTH = 8  # the first black-box target: CSQ on a ResNet-18 narrower than any source
OPEN_SET_CLASSES = (1, 8)
DEFENDED_EPOCHS = 10  # adversarial fine-tuning: about 10 minutes a model on one CPU thread (README)
SPECS: list[TrainConfig] = [
    TrainConfig("fashion", "smallcnn", method, bits)
    for method in ("dph", "dpsh", "hashnet", "csq")
    for bits in (16, 32, 64)
] + [
    TrainConfig("fashion", "resnet18-cifar", "dpsh", 32, width=RESNET_WIDTH),
    TrainConfig("fashion-mosaic", "smallcnn", "dpsh", 32),
    # transfer: a second bit length on the second network, a held-out model of another method on a third width
    TrainConfig("fashion", "resnet18-cifar", "dpsh", 16, width=RESNET_WIDTH),
    TrainConfig("fashion", "resnet18-cifar", "csq", 32, width=HELD_OUT_WIDTH),
    # the black box that shares neither loss nor topology with any source: CSQ on a small VGG-style net
    TrainConfig("fashion", "vgg-small", "csq", 32, width=16, epochs=12),
    # open set: Trouser (1) and Bag (8) never seen in training; the database holds them (DHTA appendix)
    TrainConfig("fashion", "smallcnn", "dpsh", 32, held_out_classes=OPEN_SET_CLASSES),
    # adversarially trained: fine-tuned from the undefended model above (its weights and normalisation)
    *(
        TrainConfig(
            "fashion",
            "smallcnn",
            method,
            32,
            epochs=DEFENDED_EPOCHS,
            lr=1e-4,
            defence=defence,
            defence_params={"batch": "mean"} if defence == "pharos-at" else {},  # as the shipped model was trained
            init=f"zoo:fashion-{method}-smallcnn-32",
        )
        for method, defence in (("dph", "atrdh"), ("dph", "pharos-at"), ("dpsh", "atrdh"))
    ),
]


@dataclass(frozen=True)
class GeneratorRecipe:
    """A ProS-GAN generator shipped beside a zoo model: `file` (and its log, the same name .json) in its folder."""

    model: str
    settings: TrainSettings
    file: str = FILE

    @property
    def name(self) -> str:
        return f"{self.model}/{self.file.removesuffix('.safetensors')}"


# ProS-GAN's recipe with a narrower generator (training.ZOO_RECIPE); epochs: the default model's faithful one the
# paper's 100, by which its RMSE stops falling (93 min on one thread of this 2-core CPU); the others what one thread
# trains in under an hour each (the bounded default, the ResNet-18 model, the 56-px mosaic model)
GENERATORS: list[GeneratorRecipe] = [
    GeneratorRecipe("fashion-dpsh-smallcnn-32", replace(ZOO_RECIPE, epochs=100)),
    GeneratorRecipe("fashion-dpsh-smallcnn-32", replace(ZOO_RECIPE, epochs=10, bound=8), "prosgan-bound8.safetensors"),
    GeneratorRecipe("fashion-dpsh-smallcnn-32", RESIDUAL_RECIPE, "prosgan-residual.safetensors"),
    GeneratorRecipe("fashion-dpsh-resnet18-cifar-32", replace(ZOO_RECIPE, epochs=12)),
    GeneratorRecipe("fashion-mosaic-dpsh-smallcnn-32", replace(ZOO_RECIPE, epochs=6)),
]


def spec_name(config: TrainConfig) -> str:
    return model_name(
        config.dataset, config.method, config.backbone, config.bits, config.defence, bool(config.held_out_classes)
    )


def write_index() -> list[ModelCard]:
    """Rebuild index.json (the zoo's names, in the recipe's order) from the model folders present."""
    names = [spec_name(c) for c in SPECS if (ZOO_DIR / spec_name(c) / META_FILE).is_file()]
    (ZOO_DIR / INDEX_FILE).write_text(json.dumps({"models": names}, indent=2) + "\n")
    return zoo_cards()


def write_prototypes(name: str) -> None:
    """THA's prototype codes of every training label vector, beside the model (so no page trains a PrototypeNet)."""
    from ..attacks.tha import THA
    from ..systems.system import load_system

    system = load_system(ModelSpec(str(ZOO_DIR / name)))  # by its folder: the index lists it once the build is done
    settings = {p.name.removeprefix("proto_"): p.default for p in THA.parameters}
    net = cached_prototype_net(system.train_codes, system.dataset.train.labels, **settings)
    PrototypeTable.of(net, system.dataset.train.labels, settings).save(ZOO_DIR / name / TABLE_FILE)


def _build_one(config: TrainConfig) -> str:
    torch.set_num_threads(1)  # one thread per model: the shipped numbers were made this way
    name = spec_name(config)
    card = train_and_save(replace(config, device="cpu"), ZOO_DIR / name, StderrBar())
    write_prototypes(name)
    return f"{name}: clean MAP@{card.topk} {card.clean_map:.4f} in {card.record['train_seconds']:.0f} s"


def _build_generator(recipe: GeneratorRecipe) -> str:
    """Train ProS-GAN against a zoo model in a scratch folder, then ship its generator and log beside the model."""
    from ..systems.system import load_system

    torch.set_num_threads(1)
    scratch = cache_dir() / "zoo-build" / recipe.name.replace("/", "-")
    log = train_prosgan(load_system(ModelSpec(ZOO + recipe.model)), recipe.settings, scratch, progress=StderrBar())
    target = ZOO_DIR / recipe.model / recipe.file
    shutil.copyfile(scratch / FILE, target)
    shutil.copyfile(scratch / LOG, target.with_suffix(".json"))
    last = log["epochs"][-1]
    return (
        f"{recipe.name}: held-out t-MAP {last['held_out_t_map']:.4f}, RMSE {last['held_out_rmse']:.4f} "
        f"in {log['train_seconds']:.0f} s"
    )


@contextmanager
def ended_by_sigterm() -> Iterator[None]:
    """A `kill` (SIGTERM) ends the build as Ctrl-C does, through the `with` blocks, so the pool's training
    workers are terminated with it instead of training on, orphaned."""

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def build(only: list[str] | None = None, jobs: int = 2) -> list[dict]:
    """Train the zoo (or the named part of it: model names, or <model>/prosgan[-bound8|-residual]) from scratch,
    `jobs` at a time: the hashing models first, then the generators against them; then rewrite the index."""
    names = [spec_name(c) for c in SPECS]
    unknown = set(only or []) - set(names) - {g.name for g in GENERATORS}
    if unknown:
        raise DataNotFoundError(f"not in the zoo's recipe: {', '.join(sorted(unknown))}")
    configs = [c for c in SPECS if not only or spec_name(c) in only]
    wanted = [g for g in GENERATORS if not only or g.name in only]
    with ended_by_sigterm(), multiprocessing.get_context("spawn").Pool(max(1, jobs)) as pool:
        # in stages: a model fine-tuned from another (init) starts once that one is written
        for stage in ([c for c in configs if c.init is None], [c for c in configs if c.init is not None]):
            for line in pool.imap(_build_one, stage):
                print(line, flush=True)
        for line in pool.imap(_build_generator, wanted):
            print(line, flush=True)
    return write_index()
