"""Attacks that do not see the model they attack (HAG Sec. IV-G, ProS-GAN Sec. 4.5, supplement Sec. E): perturbations
computed on source models, evaluated on target models; the sum of several sources' perturbations (combined,
HAG IV-G.3), and that sum on a held-out model of another method and network (black box, HAG IV-G.4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .budget import UNIT
from .errors import InvalidInputError
from .evaluation import run_attack
from .progress import Progress, silent
from .protocols import resolve
from .report import map_at
from .system import HashingSystem, load_system


@dataclass
class TransferResult:
    """values[source][target]: MAP (t-MAP for targeted attacks) of the source's adversarial queries on the target;
    clean[target]: the same queries unperturbed; combined rows: the summed perturbations, raw and projected."""

    attack: str
    targeted: bool
    sources: list[str]
    targets: list[str]
    eps: float
    values: dict[str, dict[str, float]]
    clean: dict[str, float]
    combined: dict[str, dict[str, float]] = field(default_factory=dict)  # row name -> target -> value
    combined_linf: dict[str, float] = field(default_factory=dict)  # row name -> L-inf in 1/255

    def to_json(self) -> dict:
        return {
            "attack": self.attack,
            "targeted": self.targeted,
            "eps": self.eps,
            "sources": self.sources,
            "targets": self.targets,
            "values": self.values,
            "clean": self.clean,
            "combined": self.combined,
            "combined_linf": self.combined_linf,
            "drop": {
                s: {
                    t: round(self.clean[t] - v, 4) if not self.targeted else round(v - self.clean[t], 4)
                    for t, v in row.items()
                }
                for s, row in self.values.items()
            },
        }


def evaluate(system: HashingSystem, images: torch.Tensor, labels: torch.Tensor, topk: int) -> float:
    """MAP@topk of `images` as queries on `system` (relevance judged by `labels`: the query's or the target's)."""
    with torch.no_grad():
        codes = torch.cat(
            [system.model.encode(images[i : i + 500].to(system.device)).cpu() for i in range(0, len(images), 500)]
        )
    return map_at(system, codes, labels, topk)


def transfer(
    sources: list[str],
    targets: list[str],
    attack: str,
    *,
    overrides: dict | None = None,
    protocol: str = "pgd",
    combine: bool = True,
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
    only_cached: bool = False,
) -> TransferResult | None:
    """The attack on every source (cached like Compare), its adversarial queries on every target; with `combine`,
    the sum of the sources' perturbations on every target, once as is and once projected back to eps.
    Sources and targets must share their data (the same queries and database). None when only_cached and a
    source has not run."""
    overrides = dict(overrides or {})
    source_systems = [load_system(s) for s in sources]
    target_systems = [load_system(t) for t in targets]
    data = source_systems[0].dataset
    for system in source_systems + target_systems:
        if (system.dataset.name, system.dataset.split_seed) != (data.name, data.split_seed):
            raise InvalidInputError(f"{system.spec} uses other data than {sources[0]}: transfer needs the same queries")
    runs = []
    for i, system in enumerate(source_systems):
        settings = resolve(protocol, attack, overrides)
        run = run_attack(
            system,
            settings,
            keep_images=True,
            only_cached=only_cached,
            should_stop=should_stop,
            progress=lambda d, t, text, i=i: progress(i * t + d, len(sources) * t, text),
        )
        if run is None:
            return None
        runs.append(run)
    first = runs[0]
    targeted = first.target_labels is not None
    if targeted and any(not torch.equal(run.target_labels, first.target_labels) for run in runs):
        raise InvalidInputError(
            "the sources drew different target labels (another training split?): a targeted "
            "transfer needs the same targets on every source"
        )
    labels = first.target_labels if targeted else data.query.labels[first.query_index]
    clean_images = data.query.images(first.query_index)
    topk = settings.t_topk if targeted else settings.topk
    result = TransferResult(
        attack,
        targeted,
        sources,
        targets,
        settings.budget.eps_255,
        {
            s: {t.spec: evaluate(t, run.adversarial_images, labels, topk) for t in target_systems}
            for s, run in zip(sources, runs, strict=True)
        },
        {t.spec: evaluate(t, clean_images, labels, topk) for t in target_systems},
    )
    if combine and len(runs) > 1:
        summed = sum(run.adversarial_images - clean_images for run in runs)
        eps = settings.budget.eps
        for name, delta in (("combined", summed), ("combined, projected to eps", summed.clamp(-eps, eps))):
            images = (clean_images + delta).clamp(0, 1)
            result.combined_linf[name] = round(float((images - clean_images).abs().amax()) / UNIT, 3)
            result.combined[name] = {t.spec: evaluate(t, images, labels, topk) for t in target_systems}
    return result
