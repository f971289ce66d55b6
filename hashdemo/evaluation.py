"""Run an attack over a query set and measure it; results cached on disk, keyed by every setting.

The CLI (attack, bench, sweep) and the Compare / Sweep pages all go through run_attack(), so a number
in a table, a JSON file and on screen is the same number.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from collections.abc import Callable

import torch
from safetensors.torch import load_file, save_file

from . import attacks, metrics
from .errors import InvalidInputError
from .paths import REPO_ROOT, cache_dir
from .progress import Progress, silent
from .system import HashingSystem

UNIT = 1 / 255
SOURCES = [
    "hashdemo/attacks",
    "hashdemo/metrics.py",
    "hashdemo/retrieval.py",
    "hashdemo/evaluation.py",
    "hashdemo/models",
]


class Stopped(Exception):
    """The user stopped a run; nothing of it was written to the cache."""


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the code that produces attack numbers: editing it invalidates cached results."""
    digest = hashlib.sha256()
    for source in SOURCES:
        path = REPO_ROOT / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def select_queries(n_queries: int, available: int, seed: int) -> torch.Tensor:
    """All queries, or a seeded sample of n (sorted) from the query split."""
    if not 1 <= n_queries <= available:
        raise InvalidInputError(f"queries must be between 1 and {available}, got {n_queries}")
    if n_queries == available:
        return torch.arange(available)
    return torch.sort(torch.randperm(available, generator=torch.Generator().manual_seed(seed))[:n_queries]).values


@dataclass
class AttackRun:
    """One attack on one query set: the report (JSON-able numbers) and the codes behind it."""

    key: str
    report: dict
    query_index: torch.Tensor
    clean_codes: torch.Tensor
    adversarial_codes: torch.Tensor
    target_labels: torch.Tensor | None


def settings_key(
    system: HashingSystem, attack: attacks.Attack, queries: int, query_seed: int, topk: int, batch_size: int
) -> str:
    """Every setting a run's numbers depend on (batch size too: it sets each batch's random start)."""
    settings = {
        "model": system.name,
        "model_meta": system.meta,
        "attack": attack.settings(),
        "queries": queries,
        "query_seed": query_seed,
        "topk": topk,
        "batch_size": batch_size,
        "code": code_version(),
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _cache_paths(key: str) -> tuple[Path, Path]:
    folder = cache_dir() / "results"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.json", folder / f"{key}.safetensors"


def load_cached(key: str) -> AttackRun | None:
    report_path, tensor_path = _cache_paths(key)
    if not (report_path.is_file() and tensor_path.is_file()):
        return None
    t = load_file(str(tensor_path))
    return AttackRun(
        key,
        json.loads(report_path.read_text()),
        t["query_index"],
        t["clean_codes"],
        t["adversarial_codes"],
        t.get("target_labels"),
    )


def store(key: str, run: AttackRun) -> None:
    """Tensors first, report last, each via rename: a report on disk means a complete entry."""
    report_path, tensor_path = _cache_paths(key)
    tensors = {
        "query_index": run.query_index,
        "clean_codes": run.clean_codes,
        "adversarial_codes": run.adversarial_codes,
    }
    if run.target_labels is not None:
        tensors["target_labels"] = run.target_labels
    tmp = tensor_path.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
    tmp.replace(tensor_path)
    tmp = report_path.with_suffix(".jsontmp")
    tmp.write_text(json.dumps(run.report, indent=2))
    tmp.replace(report_path)


def run_attack(
    system: HashingSystem,
    attack_name: str,
    *,
    queries: int = 1000,
    query_seed: int = 0,
    eps: float = 8,
    alpha: float = 1,
    steps: int = 100,
    seed: int = 0,
    topk: int = 1000,
    batch_size: int = 250,
    params: dict | None = None,
    use_cache: bool = True,
    progress: Progress = silent,
    should_stop: Callable[[], bool] = lambda: False,
    only_cached: bool = False,
) -> AttackRun | None:
    """Attack `queries` query images (eps, alpha in 1/255 units) and measure MAP / t-MAP / perceptibility.

    use_cache=False recomputes (and refreshes the cache); only_cached=True returns the cached run or None,
    never computing.
    """
    attack = attacks.get(
        attack_name, system, eps=eps * UNIT, alpha=alpha * UNIT, steps=steps, seed=seed, **(params or {})
    )
    key = settings_key(system, attack, queries, query_seed, topk, batch_size)
    if (use_cache or only_cached) and (cached := load_cached(key)) is not None:
        progress(queries, queries, f"{attack_name}: cached")
        return cached
    if only_cached:
        return None
    data = system.dataset
    index = select_queries(queries, len(data.query), query_seed)
    labels = data.query.labels[index]
    target_labels = None
    if attack.targeted:
        target_labels = attacks.targets.draw_target_labels(
            labels, data.train.labels, torch.Generator().manual_seed(seed + 1)
        )
    adv_codes, clean_codes, rmse, mse, linf, hamming, to_target = [], [], [], [], [], [], []
    seconds = setup = 0.0
    for first in range(0, len(index), batch_size):
        if should_stop():
            raise Stopped(f"{attack_name} stopped after {first} of {len(index)} queries")
        batch = index[first : first + batch_size]
        attack.seed = seed * 100_003 + first  # a distinct random start per batch
        result = attack(
            data.query.images(batch),
            labels[first : first + batch_size],
            None if target_labels is None else target_labels[first : first + batch_size],
        )
        seconds += result.seconds
        setup += result.setup_seconds
        adv_codes.append(result.adversarial_codes)
        clean_codes.append(result.clean_codes)
        rmse.append(result.perceptibility_rmse)
        mse.append(result.perceptibility_mse)
        linf.append(result.linf)
        hamming.append(result.hamming)
        if result.target_codes is not None:
            to_target.append((result.adversarial_codes != result.target_codes).sum(1))
        progress(first + len(batch), len(index), attack_name)
    run = AttackRun(key, {}, index, torch.cat(clean_codes), torch.cat(adv_codes), target_labels)
    attack.seed = seed
    run.report = make_report(
        system,
        attack,
        run,
        topk,
        query_seed,
        seconds,
        setup,
        torch.cat(rmse),
        torch.cat(mse),
        torch.cat(linf),
        torch.cat(hamming),
        torch.cat(to_target) if to_target else None,
    )
    curves(system, run)  # cached next to the run, so a finished comparison opens without recomputing
    store(key, run)
    return run


def make_report(
    system, attack, run: AttackRun, topk, query_seed, seconds, setup, rmse, mse, linf, hamming, to_target
) -> dict:
    data = system.dataset
    labels = data.query.labels[run.query_index]

    def map_of(codes, relevance_labels):
        return round(
            metrics.mean_average_precision(
                query_codes=codes,
                database_codes=system.database_codes,
                query_labels=relevance_labels,
                database_labels=data.database.labels,
                topk=topk,
            ),
            4,
        )

    settings = attack.settings()
    report = {
        "attack": attack.name,
        "title": attack.title,
        "group": attack.group,
        "targeted": attack.targeted,
        "model": system.spec,
        "eps": round(attack.eps / UNIT, 4),
        "alpha": round(attack.alpha / UNIT, 4),
        "steps": attack.loop_steps(),
        "queries": len(run.query_index),
        "query_seed": query_seed,
        "seed": attack.seed,
        "topk": topk,
        "map_clean": map_of(run.clean_codes, labels),
        "map_adv": map_of(run.adversarial_codes, labels),
        "seconds_per_image": round(seconds / len(run.query_index), 5),
        "setup_seconds": round(setup, 2),
        "linf_max": round(float(linf.max()) / UNIT, 4),
        "perceptibility_rmse": round(float(rmse.mean()), 6),
        "perceptibility_mse": round(float(mse.mean()), 7),
        "hamming_mean": round(float(hamming.float().mean()), 3),
        "params": {k: v for k, v in settings.items() if k not in ("attack", "eps", "alpha", "steps", "seed")},
        "code_version": code_version(),
    }
    if attack.targeted:
        report["t_map_clean"] = map_of(run.clean_codes, run.target_labels)
        report["t_map_adv"] = map_of(run.adversarial_codes, run.target_labels)
    if to_target is not None:
        report["hamming_to_target_mean"] = round(float(to_target.float().mean()), 3)
    return report


def curves(system: HashingSystem, run: AttackRun, ns=metrics.DEFAULT_NS) -> dict:
    """PR curve (by Hamming radius) and precision@N for the clean and adversarial codes of a run;
    for targeted attacks also against the target labels (t-precision). Cached next to the run."""
    path = _cache_paths(run.key)[0].with_suffix(".curves.json")
    if path.is_file():
        return json.loads(path.read_text())
    data = system.dataset
    labels = data.query.labels[run.query_index]
    common = {"database_codes": system.database_codes, "database_labels": data.database.labels}
    out = {"ns": list(ns)}
    for name, codes in (("clean", run.clean_codes), ("adv", run.adversarial_codes)):
        p, r = metrics.pr_curve(query_codes=codes, query_labels=labels, **common)
        out[f"pr_{name}"] = {"precision": p.tolist(), "recall": r.tolist()}
        out[f"p_at_n_{name}"] = metrics.precision_at(query_codes=codes, query_labels=labels, ns=ns, **common).tolist()
        if run.target_labels is not None:
            out[f"t_p_at_n_{name}"] = metrics.precision_at(
                query_codes=codes, query_labels=run.target_labels, ns=ns, **common
            ).tolist()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(path)
    return out
