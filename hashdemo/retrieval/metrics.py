"""Retrieval and perturbation metrics. Relevant = shares at least one label with the query (or target).

MAP@K follows HAG Eq. 13 as the public code computes it: AP averages the precision at each relevant hit
in the top K over the relevant items found there; a query with none in its top K has AP = 0 and counts.
Ties in Hamming distance are broken by database index (ties="stable", the default: reproducible); ties="deephash"
ranks as DeepHash-pytorch's CalcTopMap does (NumPy's default argsort of float32 distances), to reproduce the
numbers papers report from that code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

import numpy as np
import torch

from ..core.params import Param
from . import ranking as retrieval


def ranked_relevance(
    *,
    query_codes: torch.Tensor,
    database_codes: torch.Tensor,
    query_labels: torch.Tensor,
    database_labels: torch.Tensor,
    topk: int,
) -> Iterator[torch.Tensor]:
    """Per query chunk, the (q, k) relevance of the stable Hamming ranking (labels as bitmasks: AND != 0)."""
    if len(query_codes) != len(query_labels):
        raise ValueError("one label vector per query code is needed")
    q_masks, db_masks = retrieval.pack_words(query_labels), retrieval.pack_words(database_labels)
    for rows, _, order in retrieval.chunks(query_codes, database_codes, topk):
        shared = db_masks[order] & q_masks[rows][:, None, :]  # (q, k, words)
        yield torch.from_numpy(shared.any(axis=2))


TIES_CONVENTIONS = ("stable", "deephash")
TOPK = Param(
    "topk",
    1000,
    "MAP@K over the top K retrieved; -1 = the whole database",
    -1,
    None,
    integer=True,
    label="MAP@K",
    options=(100, 500, 1000, 5000, -1),
)
T_TOPK = replace(
    TOPK, name="t_topk", help="t-MAP@K (relevance = the target label); -1 = the whole database", label="t-MAP@K"
)
T_MAP_OVER = Param(
    "t_map_over",
    "all",
    "the queries t-MAP averages over: all (a query without a target-label item in its top K counts 0, as the "
    "papers define it) or hit (only queries with one, as DHTA-master's evaluation.py counts)",
    choices=("all", "hit"),
    label="t-MAP over",
)
TIES = Param(
    "ties",
    TIES_CONVENTIONS[0],
    "order of equal Hamming distances: stable (by database index, reproducible) or deephash (the order of "
    "DeepHash-pytorch's CalcTopMap, whose numbers papers compare)",
    choices=TIES_CONVENTIONS,
    label="ties",
)


def deephash_average_precision(query_codes, database_codes, query_labels, database_labels, topk: int) -> torch.Tensor:
    """Per-query AP as DeepHash-pytorch's CalcTopMap ranks and counts: distances 0.5 (K - q . b) in float32, NumPy's
    default (unstable) argsort, the first `topk` of the ranking sliced as gnd[0:topk] (so topk = -1 drops the last
    ranked item, as that code does)."""
    q_codes, db_codes = query_codes.cpu().numpy().astype(np.float32), database_codes.cpu().numpy().astype(np.float32)
    q_labels, db_labels = (
        query_labels.cpu().numpy().astype(np.float32),
        database_labels.cpu().numpy().astype(np.float32),
    )
    bits = q_codes.shape[1]
    out = np.zeros(len(q_codes))
    for i in range(len(q_codes)):
        relevant = (db_labels @ q_labels[i] > 0).astype(np.float32)
        distance = 0.5 * (bits - db_codes @ q_codes[i])
        hits = relevant[np.argsort(distance)][0:topk]
        found = int(hits.sum())
        if found:
            out[i] = np.mean(np.arange(1, found + 1) / (np.flatnonzero(hits == 1) + 1.0))
    return torch.from_numpy(out)


def average_precision(
    *, query_codes, database_codes, query_labels, database_labels, topk: int = TOPK.default, ties: str = TIES.default
) -> torch.Tensor:
    """Per-query AP@topk (topk = -1: the whole database), float64 (Q,)."""
    if ties not in TIES_CONVENTIONS:
        raise ValueError(f"ties must be one of {', '.join(TIES_CONVENTIONS)}, got {ties!r}")
    if ties == "deephash":
        return deephash_average_precision(query_codes, database_codes, query_labels, database_labels, topk)
    out = []
    for rel in ranked_relevance(
        query_codes=query_codes,
        database_codes=database_codes,
        query_labels=query_labels,
        database_labels=database_labels,
        topk=topk,
    ):
        rel = rel.double()
        hits = rel.cumsum(1)
        precision = hits / torch.arange(1, rel.shape[1] + 1, dtype=torch.float64)
        found = rel.sum(1)
        out.append(torch.where(found > 0, (precision * rel).sum(1) / found.clamp(min=1), 0.0))
    return torch.cat(out)


def mean_average_precision(
    *,
    query_codes,
    database_codes,
    query_labels,
    database_labels,
    topk: int = TOPK.default,
    ties: str = TIES.default,
    over: str = T_MAP_OVER.default,
) -> float:
    """MAP@topk over all queries (queries with no relevant item in the top K count as 0), or over = "hit": over the
    queries with one (their AP is positive; none: 0)."""
    ap = average_precision(
        query_codes=query_codes,
        database_codes=database_codes,
        query_labels=query_labels,
        database_labels=database_labels,
        topk=topk,
        ties=ties,
    )
    kept = ap[ap > 0] if T_MAP_OVER.check(over) == "hit" else ap
    return float(kept.mean()) if len(kept) else 0.0


def targeted_mean_average_precision(
    *, query_codes, database_codes, target_labels, database_labels, topk: int = -1
) -> float:
    """t-MAP (DHTA): MAP with relevance judged against the target labels instead of the query's own."""
    return mean_average_precision(
        query_codes=query_codes,
        database_codes=database_codes,
        query_labels=target_labels,
        database_labels=database_labels,
        topk=topk,
    )


DEFAULT_NS = tuple(range(100, 1001, 100))


def precision_at(
    *, query_codes, database_codes, query_labels, database_labels, ns: Sequence[int] = DEFAULT_NS
) -> torch.Tensor:
    """Mean precision of the top N for each N in ns (the papers' precision@topN curve)."""
    top = max(ns)
    hits = torch.cat(
        [
            rel.double().cumsum(1)
            for rel in ranked_relevance(
                query_codes=query_codes,
                database_codes=database_codes,
                query_labels=query_labels,
                database_labels=database_labels,
                topk=top,
            )
        ]
    )
    n_ranked = hits.shape[1]
    return torch.stack([hits[:, min(n, n_ranked) - 1].mean() / min(n, n_ranked) for n in ns])


def precision_per_query(*, query_codes, database_codes, query_labels, database_labels, n: int = 10) -> torch.Tensor:
    """Each query's precision of its top n (float64, (Q,))."""
    return torch.cat(
        [
            rel.double().mean(1)
            for rel in ranked_relevance(
                query_codes=query_codes,
                database_codes=database_codes,
                query_labels=query_labels,
                database_labels=database_labels,
                topk=n,
            )
        ]
    )


def pr_curve(*, query_codes, database_codes, query_labels, database_labels) -> tuple[torch.Tensor, torch.Tensor]:
    """Precision and recall of retrieving everything within Hamming radius r, for r = 0..K.

    Both are averaged over queries; at a radius where a query retrieves nothing its precision is
    undefined and that query is left out of the precision average.
    """
    bits = query_codes.shape[1]
    precision_sum = torch.zeros(bits + 1, dtype=torch.float64)
    precision_count = torch.zeros(bits + 1, dtype=torch.float64)
    recall_sum = torch.zeros(bits + 1, dtype=torch.float64)
    n_with_relevant = 0
    for rows, dist, _ in retrieval.chunks(query_codes, database_codes, None):
        dist = torch.from_numpy(dist.astype(np.int64))
        rel = (query_labels[rows].float() @ database_labels.float().T > 0).double()
        retrieved = (
            torch.zeros(len(dist), bits + 1, dtype=torch.float64).scatter_add_(1, dist, torch.ones_like(rel)).cumsum(1)
        )
        relevant = torch.zeros(len(dist), bits + 1, dtype=torch.float64).scatter_add_(1, dist, rel).cumsum(1)
        total = rel.sum(1, keepdim=True)
        has = retrieved > 0
        precision_sum += torch.where(has, relevant / retrieved.clamp(min=1), 0.0).sum(0)
        precision_count += has.double().sum(0)
        keep = total.squeeze(1) > 0
        recall_sum += (relevant[keep] / total[keep]).sum(0)
        n_with_relevant += int(keep.sum())
    return precision_sum / precision_count.clamp(min=1), recall_sum / max(1, n_with_relevant)


def perceptibility_rmse(clean: torch.Tensor, adversarial: torch.Tensor) -> torch.Tensor:
    """Perceptibility per image: sqrt(mean over pixels of (x - x')^2), pixels in [0,1] (HAG Sec. IV-E).

    ProS-GAN's text prints the mean square, but its Table 2 numbers are this root mean square: FGSM at 8/255
    moves every pixel by 0.031 and the table shows 3.06e-2, where a mean square could be at most 0.098e-2.
    """
    return (clean - adversarial).double().pow(2).flatten(1).mean(1).sqrt()


def linf(clean: torch.Tensor, adversarial: torch.Tensor) -> torch.Tensor:
    """Per-image L-inf norm of the perturbation."""
    return (clean - adversarial).abs().flatten(1).amax(1)
