"""What a finished attack run reports: MAP / t-MAP, perceptibility, time, MAP at snapshots, the target code
as a query of its own, and the curves of the papers' figures. Computed once, then read from the cache."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..attacks import Attack
from ..core.units import to_255
from ..retrieval import metrics
from ..systems.system import HashingSystem
from . import cache
from .results import AttackReport, CodeRow, IterationRow
from .settings import RunSettings

TARGETED_P_AT = 10  # targeted precision@10 (DHTA appendix, open-set targets)


@dataclass
class AttackRun:
    """One attack on one query set: the report (JSON-able numbers) and the codes behind it."""

    key: str
    report: AttackReport | None
    query_index: torch.Tensor
    clean_codes: torch.Tensor
    adversarial_codes: torch.Tensor
    target_labels: torch.Tensor | None = None
    target_codes: torch.Tensor | None = None
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)  # iteration -> adversarial codes there
    adversarial_images: torch.Tensor | None = None  # (Q, C, H, W), kept when asked (transfer)

    def tensors(self) -> dict[str, torch.Tensor]:
        out = {
            "query_index": self.query_index,
            "clean_codes": self.clean_codes,
            "adversarial_codes": self.adversarial_codes,
        }
        if self.target_labels is not None:
            out["target_labels"] = self.target_labels
        if self.target_codes is not None:
            out["target_codes"] = self.target_codes
        out.update({f"snapshot_{n}": codes for n, codes in self.snapshots.items()})
        if self.adversarial_images is not None:
            out["adversarial_images"] = self.adversarial_images
        return out

    @classmethod
    def from_cache(cls, key: str, report: dict, t: dict[str, torch.Tensor]) -> AttackRun:
        snapshots = {int(name.split("_")[1]): codes for name, codes in t.items() if name.startswith("snapshot_")}
        return cls(
            key,
            AttackReport.from_json(report),
            t["query_index"],
            t["clean_codes"],
            t["adversarial_codes"],
            t.get("target_labels"),
            t.get("target_codes"),
            dict(sorted(snapshots.items())),
            t.get("adversarial_images"),
        )


def precision_per_query(system: HashingSystem, codes: torch.Tensor, labels: torch.Tensor, n: int) -> torch.Tensor:
    """P@n of each row of `codes` as a query against the system's database, relevance judged by `labels`."""
    return metrics.precision_per_query(
        query_codes=codes,
        database_codes=system.database_codes,
        query_labels=labels,
        database_labels=system.dataset.database.labels,
        n=n,
    )


def map_at(
    system: HashingSystem,
    codes: torch.Tensor,
    labels: torch.Tensor,
    topk: int,
    ties: str = metrics.TIES.default,
    over: str = metrics.T_MAP_OVER.default,
) -> float:
    """MAP@topk of `codes` as queries against the system's database, relevance judged by `labels`, equal
    distances ordered by the `ties` convention, averaged `over` all queries or those with a hit."""
    value = metrics.mean_average_precision(
        query_codes=codes,
        database_codes=system.database_codes,
        query_labels=labels,
        database_labels=system.dataset.database.labels,
        topk=topk,
        ties=ties,
        over=over,
    )
    return round(value, 4)


def make_report(
    system: HashingSystem,
    settings: RunSettings,
    attack: Attack,
    run: AttackRun,
    *,
    seconds: float,
    setup: float,
    rmse: torch.Tensor,
    linf: torch.Tensor,
    snapshot_rmse: dict[int, torch.Tensor],
    snapshot_linf: dict[int, torch.Tensor],
    code_version: str,
) -> AttackReport:
    """The report of a run: every resolved setting, and the numbers each seed's tables report."""
    labels = system.dataset.query.labels[run.query_index]
    measure = lambda codes, relevance, topk: map_at(system, codes, relevance, topk, settings.ties)
    t_measure = lambda codes: map_at(
        system, codes, run.target_labels, settings.t_topk, settings.ties, settings.t_map_over
    )
    effective = attack.effective(settings.budget, settings.loop)
    targeted = {}
    if attack.targeted:
        targeted = {
            "t_map_clean": t_measure(run.clean_codes),
            "t_map_adv": t_measure(run.adversarial_codes),
            **{
                f"t_precision_at_{TARGETED_P_AT}_{name}": round(
                    float(precision_per_query(system, codes, run.target_labels, TARGETED_P_AT).mean()), 4
                )
                for name, codes in (("clean", run.clean_codes), ("adv", run.adversarial_codes))
            },
        }
    target_code = None
    if run.target_codes is not None:
        targeted["hamming_to_target_mean"] = round(
            float((run.adversarial_codes != run.target_codes).sum(1).float().mean()), 3
        )
        if attack.target_title:
            target_code = CodeRow(
                attack.target_kind,
                attack.target_title,
                measure(run.target_codes, labels, settings.topk),
                t_measure(run.target_codes) if attack.targeted else None,
            )
    by_iteration = tuple(
        IterationRow(
            iteration=n,
            map_adv=measure(codes, labels, settings.topk),
            perceptibility_rmse=round(float(snapshot_rmse[n].mean()), 6),
            linf_max=round(to_255(float(snapshot_linf[n].max()), None), 4),
            t_map_adv=t_measure(codes) if attack.targeted else None,
        )
        for n, codes in run.snapshots.items()
    )
    return AttackReport(
        attack=attack.name,
        title=attack.title,
        group=attack.group,
        targeted=attack.targeted,
        model=system.spec.source,
        system=system.describe(),
        protocol=settings.protocol,
        eps=effective["eps"],
        step=effective["step"],
        steps=effective["steps"],
        random_start=effective["random_start"],
        optimiser=effective["optimiser"],
        queries=len(run.query_index),
        query_seed=settings.query_seed,
        seed=settings.budget.seed,
        topk=settings.topk,
        t_topk=settings.t_topk,
        map_clean=measure(run.clean_codes, labels, settings.topk),
        map_adv=measure(run.adversarial_codes, labels, settings.topk),
        seconds_per_image=round(seconds / len(run.query_index), 5),
        setup_seconds=round(setup, 2),
        linf_max=round(to_255(float(linf.max()), None), 4),
        perceptibility_rmse=round(float(rmse.mean()), 6),
        hamming_mean=round(float((run.clean_codes != run.adversarial_codes).sum(1).float().mean()), 3),
        settings={**settings.to_json(), "effective": effective},
        code_version=code_version,
        target_code=target_code,
        by_iteration=by_iteration,
        **targeted,
    )


def curves(system: HashingSystem, run: AttackRun, ns=metrics.DEFAULT_NS) -> dict:
    """PR curve (by Hamming radius) and precision@N for the clean and adversarial codes of a run; for targeted
    attacks also against the target labels (t-precision). Computed once and kept beside the run."""

    def compute() -> dict:
        data = system.dataset
        labels = data.query.labels[run.query_index]
        common = {"database_codes": system.database_codes, "database_labels": data.database.labels}
        out: dict = {"ns": list(ns)}
        for name, codes in (("clean", run.clean_codes), ("adv", run.adversarial_codes)):
            p, r = metrics.pr_curve(query_codes=codes, query_labels=labels, **common)
            out[f"pr_{name}"] = {"precision": p.tolist(), "recall": r.tolist()}
            out[f"p_at_n_{name}"] = metrics.precision_at(
                query_codes=codes, query_labels=labels, ns=ns, **common
            ).tolist()
            if run.target_labels is not None:
                out[f"t_p_at_n_{name}"] = metrics.precision_at(
                    query_codes=codes, query_labels=run.target_labels, ns=ns, **common
                ).tolist()
                p, r = metrics.pr_curve(query_codes=codes, query_labels=run.target_labels, **common)
                out[f"t_pr_{name}"] = {"precision": p.tolist(), "recall": r.tolist()}
        return out

    return cache.memo_json("curves", run.key, compute)
