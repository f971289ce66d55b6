"""What the ProS-GAN page shows: the generators available for a model with their training logs, and a grid of
queries x target labels, each cell one forward pass and a top-k retrieval."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..core.paths import cache_dir
from ..retrieval.ranking import rank
from . import model as prosgan_model
from .training import LOG


@dataclass(frozen=True)
class GeneratorEntry:
    label: str
    path: Path
    log: dict
    settings: dict  # its training settings, with the epochs it was trained for


def generator_files(folder: Path) -> list[Path]:
    """prosgan*.safetensors in a model folder, the faithful one first (prosgan.safetensors: unbounded, as the paper
    trains it; then e.g. prosgan-bound8: bounded at 8/255)."""
    return sorted(folder.glob("prosgan*.safetensors"), key=lambda p: (p.name != FAITHFUL, p.name))


def shipped_files(system) -> list[Path]:
    return [] if system.folder is None else generator_files(system.folder)


def generator_summaries(folder: Path) -> list[dict]:
    """Each generator in a model folder as `zoo --json` lists it: its name (`--set generator=NAME`), bound in 1/255
    (0: unbounded), and the held-out t-MAP and RMSE of its training log's last epoch."""
    out = []
    for path in generator_files(folder):
        log_path = path.with_suffix(".json")
        log = json.loads(log_path.read_text()) if log_path.is_file() else {}
        last = (log.get("epochs") or [{}])[-1]
        out.append(
            {
                "name": path.stem,
                "bound": log.get("settings", {}).get("bound"),
                "epochs": last.get("epoch"),
                "held_out_t_map": last.get("held_out_t_map"),
                "held_out_rmse": last.get("held_out_rmse"),
                "default": path.name == FAITHFUL,
            }
        )
    return out


FAITHFUL = "prosgan.safetensors"  # the generator trained as the paper trains it: what the ProS-GAN page opens on


def available_generators(system) -> list[GeneratorEntry]:
    """The generators shipped beside the model, then every finished run trained for it here (newest first)."""
    out = []
    for path in shipped_files(system):
        log_path = path.with_suffix(".json")
        log = json.loads(log_path.read_text()) if log_path.is_file() else {}
        settings = prosgan_model.training_settings(path)
        out.append(GeneratorEntry(f"shipped ({describe(settings)})", path, log, settings))
    mine = prosgan_model.identity_of(system)
    runs = [
        f for f in (cache_dir() / "prosgan").glob("*") if (f / LOG).is_file() and (f / prosgan_model.FILE).is_file()
    ]
    for folder in sorted(runs, key=lambda f: -(f / LOG).stat().st_mtime):
        log = json.loads((folder / LOG).read_text())
        if log["attacked"] == mine and log.get("settings", {}).get("bound") is not None:
            settings = prosgan_model.training_settings(folder / prosgan_model.FILE)
            out.append(
                GeneratorEntry(f"trained here ({describe(settings)})", folder / prosgan_model.FILE, log, settings)
            )
    return out


def describe(settings: dict) -> str:
    """A generator's training in a few words: its output (the paper's image, the residual x + tanh(.) or bounded),
    beta, epochs and seed."""
    bound = settings["bound"]
    output = "unbounded" if not bound else "residual x + tanh(·)" if bound >= 255 else f"bound {bound:g}/255"
    return f"{output}, beta {settings['beta']:g}, {settings['epochs']} epochs, seed {settings['seed']}"


@dataclass
class Cell:
    adversarial: torch.Tensor  # (C, H, W)
    indices: torch.Tensor  # top-k database indices
    distances: torch.Tensor
    target_hit: torch.Tensor  # carries the target label, per retrieved item
    t_precision: float  # t-P@k


def generation_grid(
    system, net: prosgan_model.ProsganModel, query_index: list[int], targets: list[int], k: int = 5
) -> dict[tuple[int, int], Cell]:
    """(query, target class) -> adversarial image and top-k; a pair whose query carries the class is left out."""
    data = system.dataset
    pairs = [(q, t) for q in query_index for t in targets if not bool(data.query.labels[q, t])]
    if not pairs:
        return {}
    x = data.query.images([q for q, _ in pairs]).to(system.device)
    target_labels = torch.zeros(len(pairs), data.num_classes, dtype=torch.bool)
    target_labels[torch.arange(len(pairs)), torch.tensor([t for _, t in pairs])] = True
    with torch.no_grad():
        x_adv, _ = net(x, target_labels.to(system.device))
        codes = system.model.encode(x_adv).cpu()
    index, distance = rank(codes, system.database_codes, topk=k)
    hits = data.database.labels[index.flatten()].view(len(pairs), k, -1)
    return {
        pair: Cell(
            x_adv[i].cpu(), index[i], distance[i], hits[i][:, pair[1]], float(hits[i][:, pair[1]].float().mean())
        )
        for i, pair in enumerate(pairs)
    }
