"""The Attack Lab's computation for one query: attack, retrieval lists and per-query numbers.

The Streamlit page only reads controls and shows what this module returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from . import attacks, metrics
from .attacks import AttackResult
from .budget import UNIT
from .errors import InvalidInputError
from .progress import Progress, silent
from .protocols import RunSettings
from .retrieval import rank
from .system import HashingSystem


@dataclass
class Retrieval:
    """The top-k database items for one code."""

    indices: torch.Tensor
    distances: torch.Tensor
    relevant: torch.Tensor  # shares a label with the query
    target_hit: torch.Tensor | None  # carries the target label (targeted attacks)


@dataclass
class LabRun:
    settings: dict
    result: AttackResult
    clean: Retrieval
    adversarial: Retrieval
    numbers: dict = field(default_factory=dict)
    query_labels: torch.Tensor | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "settings": self.settings,
                "numbers": self.numbers,
                "clean_code": self.result.clean_codes[0].tolist(),
                "adversarial_code": self.result.adversarial_codes[0].tolist(),
                "target_code": None if self.result.target_codes is None else self.result.target_codes[0].tolist(),
            },
            indent=2,
        )


def retrieve(
    system: HashingSystem, code: torch.Tensor, labels: torch.Tensor | None, target_labels: torch.Tensor | None, k: int
) -> Retrieval:
    idx, dist = rank(code[None], system.database_codes, topk=k)
    db_labels = system.dataset.database.labels[idx[0]].float()
    relevant = (db_labels @ labels[0].float() > 0) if labels is not None else torch.zeros(len(idx[0]), dtype=torch.bool)
    hit = (db_labels @ target_labels[0].float() > 0) if target_labels is not None else None
    return Retrieval(idx[0], dist[0], relevant, hit)


def query_numbers(system: HashingSystem, result: AttackResult, labels, k: int) -> dict:
    """Per-query numbers before and after: AP@k, precision@k (and against the target), bits flipped, perceptibility."""
    common = {"database_codes": system.database_codes, "database_labels": system.dataset.database.labels}
    out = {"hamming_clean_adv": int(result.hamming[0]), "k": k}
    for name, codes in (("clean", result.clean_codes), ("adv", result.adversarial_codes)):
        if labels is not None:
            out[f"ap_{name}"] = float(
                metrics.average_precision(query_codes=codes, query_labels=labels, topk=k, **common)[0]
            )
            out[f"p_{name}"] = float(metrics.precision_at(query_codes=codes, query_labels=labels, ns=(k,), **common)[0])
        if result.target_labels is not None:
            out[f"t_ap_{name}"] = float(
                metrics.average_precision(query_codes=codes, query_labels=result.target_labels, topk=k, **common)[0]
            )
            out[f"t_p_{name}"] = float(
                metrics.precision_at(query_codes=codes, query_labels=result.target_labels, ns=(k,), **common)[0]
            )
    if result.target_codes is not None:
        out["hamming_target_clean"] = int((result.clean_codes[0] != result.target_codes[0]).sum())
        out["hamming_target_adv"] = int((result.adversarial_codes[0] != result.target_codes[0]).sum())
    out.update(
        {
            "perceptibility_rmse": float(result.perceptibility_rmse[0]),
            "linf_255": float(result.linf[0]) / UNIT,
            "seconds": result.seconds,
            "setup_seconds": result.setup_seconds,
        }
    )
    return out


def at_iteration(system: HashingSystem, run: LabRun, t: int) -> tuple[torch.Tensor, torch.Tensor, Retrieval]:
    """The iterate x_t of a Lab run (kept with keep_images=True): its image, its code and its top-k."""
    shot = run.result.snapshots[t]
    ret = retrieve(system, shot.codes[0], run.query_labels, run.result.target_labels, len(run.clean.indices))
    return shot.images[0], shot.codes[0], ret


def advice(run: LabRun, attack_cls: type[attacks.Attack]) -> str | None:
    """When an attack visibly failed on this query, say so in the user's terms and what to change."""
    n, s = run.numbers, run.settings
    k = n["k"]
    hints = []
    if s["steps"] < 500:
        hints.append(f"more iterations (T = {min(2000, s['steps'] * 4)})")
    if s["eps"] < 32:
        hints.append(f"a larger epsilon ({min(64, s['eps'] * 2):g}/255)")
    if attack_cls.targeted and n.get("t_p_adv", 1.0) < 0.5:
        gap = n.get("hamming_target_adv")
        where = (
            f"; its code ends {gap} of {run.result.clean_codes.shape[1]} bits from the {attack_cls.target_kind} code"
            if gap is not None
            else ""
        )
        return (
            f"The target label {s.get('target_label', '')} was not reached: {round(n['t_p_adv'] * k)} of the top {k} "
            f"carry it{where}. Some pairs of classes lie far apart in Hamming space. Try "
            + ", ".join([*hints, "another target label", "DHTA + I-FGSM (no tanh schedule)"])
            + "."
        )
    if not attack_cls.targeted and attack_cls.group != "baseline" and n.get("p_adv", 0.0) > 0.5:
        return (
            f"The attack left {round(n['p_adv'] * k)} of the top {k} relevant. Try "
            + ", ".join(hints or ["PgA†"])
            + "."
        )
    return None


def settings_text(settings: dict, attack_cls: type[attacks.Attack]) -> str:
    """A run's settings in words and the papers' units: 'protocol lab; eps 16/255, step 1/255, T = 100, ...'."""
    loop = "PGD" if settings["optimiser"] == "pgd" else f"{settings['optimiser'].upper()} (lr {settings['lr']:g})"
    parts = [
        f"protocol {settings['protocol']}",
        f"eps {settings['eps']:g}/255",
        f"step {settings['step']:g}/255" if settings["optimiser"] == "pgd" else loop,
        f"T = {settings['steps']}",
        "random start" if settings["random_start"] else "start at x",
        "HAG schedule" if settings["schedule"] == "hag" else "no tanh schedule",
        f"seed {settings['seed']}",
    ]
    parts += [f"{p.title} = {settings[p.name]}" for p in attack_cls.parameters]
    if settings.get("overridden"):
        parts.append("changed from the protocol: " + ", ".join(settings["overridden"]))
    return "; ".join(parts)


@contextmanager
def one_thread() -> Iterator[None]:
    """One intra-op thread while attacking a single image: off the main thread (as in Streamlit) two threads
    made a 100-step attack 2.7x slower on this 2-core CPU (0.26 s against 0.13 s, bench/lab_latency.py)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_lab(
    system: HashingSystem,
    settings: RunSettings,
    image: torch.Tensor,
    labels: torch.Tensor | None,
    *,
    target_labels: torch.Tensor | None = None,
    k: int = 10,
    extra: dict | None = None,
    keep_images: bool = False,
    progress: Progress = silent,
) -> LabRun:
    """Attack one query image (1, C, H, W) under `settings`; rank both codes. keep_images stores every iterate
    (the iteration scrubber)."""
    if not 1 <= k <= len(system.dataset.database):
        raise InvalidInputError(f"k must be between 1 and {len(system.dataset.database)}")
    attack = attacks.get(settings.attack, system, **settings.params)
    unseen = system.meta.get("held_out_classes") or []
    if target_labels is not None and unseen and bool(target_labels[:, unseen].any()) and not attack.open_set:
        raise InvalidInputError(f"{attack.title} cannot aim at a class the model never saw: {attack.open_set_reason}")
    steps = attack.steps_for(settings.budget)
    with one_thread():
        result = attack(
            image,
            labels,
            target_labels if attack.targeted else None,
            budget=settings.budget,
            loop=settings.loop,
            record_at=range(steps + 1) if keep_images else (),
            keep_images=keep_images,
            progress=progress,
        )
    target = result.target_labels
    recorded = {
        "model": system.spec,
        "k": k,
        **result.settings,
        "protocol": settings.protocol,
        "overridden": list(settings.overridden),
        **(extra or {}),
    }
    if target is not None:
        recorded["target_label"] = system.dataset.label_names(target[0])
    return LabRun(
        recorded,
        result,
        retrieve(system, result.clean_codes[0], labels, target, k),
        retrieve(system, result.adversarial_codes[0], labels, target, k),
        query_numbers(system, result, labels, k),
        labels,
    )
