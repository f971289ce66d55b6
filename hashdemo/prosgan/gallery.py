"""What the ProS-GAN page shows: the generators available for a model with their training logs, and a grid of
queries x target labels, each cell one forward pass and a top-k retrieval."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..paths import cache_dir
from ..retrieval import rank
from . import model as prosgan_model
from .training import LOG


@dataclass(frozen=True)
class GeneratorEntry:
    label: str
    path: Path
    log: dict


def available_generators(system) -> list[GeneratorEntry]:
    """The generator shipped beside the model, then every finished cached run trained for it."""
    from ..attacks.prosgan import shipped_generator

    out = []
    shipped = shipped_generator(system)
    if shipped is not None:
        log_path = shipped.with_name("prosgan.json")
        log = json.loads(log_path.read_text()) if log_path.is_file() else {}
        out.append(GeneratorEntry(f"shipped ({describe(prosgan_model.training_settings(shipped))})", shipped, log))
    mine = prosgan_model.identity_of(system)
    for folder in sorted((cache_dir() / "prosgan").glob("*")):
        log_path, path = folder / LOG, folder / prosgan_model.FILE
        if log_path.is_file() and path.is_file():
            log = json.loads(log_path.read_text())
            if log["attacked"] == mine:
                out.append(
                    GeneratorEntry(f"trained here ({describe(prosgan_model.training_settings(path))})", path, log)
                )
    return out


def describe(settings: dict) -> str:
    return f"beta {settings['beta']:g}, {settings['epochs']} epochs, seed {settings['seed']}"


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
