"""Attacks that do not see the model they attack (HAG Sec. IV-G, ProS-GAN Sec. 4.5, supplement Sec. E): perturbations
computed on source models, evaluated on target models; the sum of several sources' perturbations (combined,
HAG IV-G.3), and that sum on a held-out model of another method and network (black box, HAG IV-G.4)."""

from __future__ import annotations

import torch

from ..core.errors import InvalidInputError
from ..core.progress import Progress, silent
from ..core.units import to_255
from ..retrieval.metrics import TIES
from ..run.driver import Job, StopCheck, execute, never
from ..run.report import map_at
from ..run.results import TransferResult
from ..run.settings import Choices
from ..systems.system import HashingSystem


def evaluate(
    system: HashingSystem, images: torch.Tensor, labels: torch.Tensor, topk: int, ties: str = TIES.default
) -> float:
    """MAP@topk of `images` as queries on `system` (relevance judged by `labels`: the query's or the target's)."""
    with torch.no_grad():
        codes = torch.cat(
            [system.model.encode(images[i : i + 500].to(system.device)).cpu() for i in range(0, len(images), 500)]
        )
    return map_at(system, codes, labels, topk, ties)


def transfer(
    sources: list[HashingSystem],
    targets: list[HashingSystem],
    attack: str,
    choices: Choices = Choices(),
    *,
    combine: bool = True,
    engine=None,
    progress: Progress = silent,
    stop: StopCheck = never,
    only_cached: bool = False,
) -> TransferResult | None:
    """The attack on every source (cached like Compare), its adversarial queries on every target; with `combine`,
    the sum of the sources' perturbations on every target, once as is and once projected back to eps.
    Sources and targets must share their data (the same queries and database). None when only_cached and a
    source has not run."""
    if not sources or not targets:
        raise InvalidInputError("a transfer needs at least one source and one target model")
    data = sources[0].dataset
    for system in sources + targets:
        if (system.dataset.name, system.dataset.split_seed) != (data.name, data.split_seed):
            raise InvalidInputError(
                f"{system.spec.source} uses other data than {sources[0].spec.source}: transfer needs the same queries"
            )
    jobs = [Job(system, choices.settings(attack, system.spec), keep_images=True) for system in sources]
    runs = execute(jobs, engine=engine, only_cached=only_cached, progress=progress, stop=stop)
    if any(run is None for run in runs):
        return None
    settings = jobs[0].settings
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
    values = {
        s.spec.source: {
            t.spec.source: evaluate(t, run.adversarial_images, labels, topk, settings.ties) for t in targets
        }
        for s, run in zip(sources, runs, strict=True)
    }
    combined, combined_linf = {}, {}
    if combine and len(runs) > 1:
        summed = sum(run.adversarial_images - clean_images for run in runs)
        eps = settings.budget.eps
        for name, delta in (("combined", summed), ("combined, projected to eps", summed.clamp(-eps, eps))):
            images = (clean_images + delta).clamp(0, 1)
            combined_linf[name] = round(to_255(float((images - clean_images).abs().amax()), None), 3)
            combined[name] = {t.spec.source: evaluate(t, images, labels, topk, settings.ties) for t in targets}
    return TransferResult(
        attack=attack,
        targeted=targeted,
        sources=tuple(s.spec.source for s in sources),
        targets=tuple(t.spec.source for t in targets),
        labels={m.spec.source: m.label for m in sources + targets},
        eps=settings.eps,
        values=values,
        clean={t.spec.source: evaluate(t, clean_images, labels, topk, settings.ties) for t in targets},
        combined=combined,
        combined_linf=combined_linf,
    )
