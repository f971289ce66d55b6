"""The seam between computation and display: frozen result types that tables, charts, pages, the CLI's JSON and
the cache all read, so a number on screen, in a table and in a JSON file is one number."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch

from ..models.card import ModelCard


def finite(value: float) -> float | None:
    """JSON has no infinity: a budget that breaks nothing (still standing at the largest) is null."""
    return None if value == float("inf") else value


def _from(cls, data: dict, **nested):
    """A result dataclass from its JSON (unknown keys ignored, nested types rebuilt by `nested`)."""
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    for key, build in nested.items():
        if values.get(key) is not None:
            values[key] = build(values[key])
    return cls(**values)


@dataclass(frozen=True)
class CodeRow:
    """A target code as a query of its own (ProS-GAN Tables 1 and 4: "Anchor code", "Prototype code")."""

    kind: str
    title: str
    map: float
    t_map: float | None = None


@dataclass(frozen=True)
class IterationRow:
    """MAP of the iterate at iteration n of the same run (HAG Table I, PgA Fig. 5a)."""

    iteration: int
    map_adv: float
    perceptibility_rmse: float
    linf_max: float
    t_map_adv: float | None = None


@dataclass(frozen=True)
class AttackReport:
    """One attack on one query set: every resolved setting and the numbers each seed's tables report.
    Perceptibility is the RMSE over pixels in [0,1] (HAG Sec. IV-E; ProS-GAN Table 2 reports it too)."""

    attack: str
    title: str
    group: str
    targeted: bool
    model: str
    system: dict  # what was attacked: dataset, split, backbone, method, bits, weights digest, device, torch
    protocol: str
    eps: float  # effective, 1/255
    step: float
    steps: int
    random_start: bool
    optimiser: str
    queries: int
    query_seed: int
    seed: int
    topk: int
    t_topk: int
    map_clean: float
    map_adv: float
    seconds_per_image: float
    setup_seconds: float
    linf_max: float  # 1/255
    perceptibility_rmse: float
    hamming_mean: float
    settings: dict
    code_version: str
    t_map_clean: float | None = None
    t_map_adv: float | None = None
    t_precision_at_10_clean: float | None = None
    t_precision_at_10_adv: float | None = None
    hamming_to_target_mean: float | None = None
    target_code: CodeRow | None = None
    by_iteration: tuple[IterationRow, ...] = ()

    @property
    def value(self) -> float:
        """The number an attack is judged by: t-MAP for a targeted attack, MAP for the others."""
        return self.t_map_adv if self.targeted else self.map_adv

    def to_json(self) -> dict:
        out = asdict(self)
        out["by_iteration"] = [asdict(row) for row in self.by_iteration]
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict) -> AttackReport:
        return _from(
            cls,
            data,
            target_code=lambda row: _from(CodeRow, row),
            by_iteration=lambda rows: tuple(_from(IterationRow, row) for row in rows),
        )


@dataclass(frozen=True)
class QueryNumbers:
    """One query in the Attack Lab, before and after: AP@k, P@k (and against the target), bits flipped,
    perceptibility and time."""

    k: int
    hamming_clean_adv: int
    perceptibility_rmse: float
    linf_255: float
    seconds: float
    setup_seconds: float
    ap_clean: float | None = None
    ap_adv: float | None = None
    p_clean: float | None = None
    p_adv: float | None = None
    t_ap_clean: float | None = None
    t_ap_adv: float | None = None
    t_p_clean: float | None = None
    t_p_adv: float | None = None
    hamming_target_clean: int | None = None
    hamming_target_adv: int | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class SweepRow:
    """One point of a sweep: the value, and the attack's report there (at iteration n for a sweep over T)."""

    param: str
    value: Any
    report: AttackReport

    @property
    def title(self) -> str:
        return self.report.title

    def to_json(self) -> dict:
        return {"param": self.param, "value": self.value, **self.report.to_json()}


@dataclass(frozen=True)
class CurvePoint:
    """A robustness curve's point: MAP (t-MAP for a targeted attack) of one model under one attack at one eps."""

    model: ModelCard
    attack: str
    title: str
    eps: float
    targeted: bool
    value: float
    map_clean: float

    @property
    def label(self) -> str:
        return self.model.label

    def to_json(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**out, "model": self.model.describe(), "label": self.label}


@dataclass(frozen=True)
class WorstCase:
    """Per query the lowest AP over an ensemble of attacks: its mean, which member won how often (a tie is
    shared: each tied member gets its fraction of the query), each member's MAP."""

    eps: float
    map: float
    wins: dict[str, float]
    member_maps: dict[str, float]
    worst_ap: torch.Tensor  # (Q,)
    winners: tuple[str, ...] = ()  # per query, the first member at its minimum

    def to_json(self) -> dict:
        return {"eps": self.eps, "map": self.map, "wins": self.wins, "member_maps": self.member_maps}


@dataclass(frozen=True)
class LeaderboardRow:
    """One model of the robustness leaderboard."""

    model: ModelCard
    clean_map: float
    worst: tuple[WorstCase, ...]  # one per budget
    median_breaking_eps: float

    @property
    def label(self) -> str:
        return self.model.label

    def worst_at(self, eps: float) -> WorstCase:
        return next(w for w in self.worst if w.eps == eps)

    def to_json(self) -> dict:
        return {
            "model": self.model.describe(),
            "clean_map": self.clean_map,
            "worst": [w.to_json() for w in self.worst],
            "median_breaking_eps": finite(self.median_breaking_eps),
        }


@dataclass(frozen=True)
class TransferResult:
    """values[source][target]: MAP (t-MAP for targeted attacks) of the source's adversarial queries on the target;
    clean[target]: the same queries unperturbed; combined rows: the summed perturbations, raw and projected."""

    attack: str
    targeted: bool
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    labels: dict[str, str]  # model -> short label
    eps: float
    values: dict[str, dict[str, float]]
    clean: dict[str, float]
    combined: dict[str, dict[str, float]]  # row name -> target -> value
    combined_linf: dict[str, float]  # row name -> L-inf in 1/255

    def change(self, source: str, target: str) -> float:
        """How far the attack moved the target (positive = it carried over)."""
        value = self.values[source][target]
        return round(value - self.clean[target] if self.targeted else self.clean[target] - value, 4)

    def to_json(self) -> dict:
        out = asdict(self)
        out["drop"] = {s: {t: self.change(s, t) for t in self.targets} for s in self.sources}
        return out
