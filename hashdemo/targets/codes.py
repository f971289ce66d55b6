"""Target-code strategies: where an attack steers (or from what it flees) in Hamming space.

Each is a plain function of codes and labels; pharos and anchor codes are provably optimal for their
objectives (PgA appendix A.1, DHTA appendix Theorem 1), which the tests check by brute force.
"""

from __future__ import annotations

import torch

from ..models import binarize


def dice(query_labels: torch.Tensor, item_labels: torch.Tensor) -> torch.Tensor:
    """PgA Eq. 8's label similarity s = 2|y & y_i| / (|y| + |y_i|), shape (Q, N), in [0, 1]."""
    q, items = query_labels.float(), item_labels.float()
    overlap = q @ items.T
    sizes = q.sum(1, keepdim=True) + items.sum(1)[None, :]
    return torch.where(sizes > 0, 2 * overlap / sizes.clamp(min=1), 0.0)


def pharos_code(query_labels: torch.Tensor, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """PgA Eq. 7-8: b* = sign(sum_i sum_j (w_i b_i^(p) - w_j b_j^(n))), w_i = s_i, w_j = 1 - s_j.

    The double sum over positives i and negatives j equals N_n sum_i w_i b_i - N_p sum_j w_j b_j.
    """
    s = dice(query_labels, labels)
    positive = s > 0
    w_pos = torch.where(positive, s, 0.0)
    w_neg = torch.where(positive, 0.0, 1.0 - s)
    n_pos = positive.sum(1, keepdim=True).float()
    n_neg = (~positive).sum(1, keepdim=True).float()
    b = codes.float()
    return binarize(n_neg * (w_pos @ b) - n_pos * (w_neg @ b))


def vote(codes: torch.Tensor) -> torch.Tensor:
    """DHTA Algorithm 1: the bitwise majority vote sign(sum_i h_i) of a set of codes (K,) -> int8."""
    return binarize(codes.float().sum(0))


def anchor_code(
    target_labels: torch.Tensor,
    codes: torch.Tensor,
    labels: torch.Tensor,
    n_t: int,
    generator: torch.Generator,
    exact: bool = False,
) -> torch.Tensor:
    """DHTA: vote of n_t codes of items carrying the target label, drawn without replacement (P2P: n_t = 1).
    exact=True: only items whose label vector equals the target's (DHTA's authors' code)."""
    out = []
    target, items = target_labels.float(), labels.float()
    overlap = target @ items.T
    if exact:  # every target class and nothing else
        carries = (overlap == target.sum(1, keepdim=True)) & (items.sum(1)[None, :] == target.sum(1, keepdim=True))
    else:
        carries = overlap > 0
    for row in carries:
        candidates = torch.nonzero(row).flatten()
        if len(candidates) == 0:
            raise ValueError(f"no database item {'has exactly' if exact else 'carries'} the target label")
        chosen = candidates[torch.randperm(len(candidates), generator=generator)[:n_t]]
        out.append(vote(codes[chosen]))
    return torch.stack(out)


def relevant_code_sets(
    query_labels: torch.Tensor, codes: torch.Tensor, labels: torch.Tensor, fallback: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """SDHA's relevant training codes per query, deduplicated: (B, U, K) float codes and (B, U) counts.

    A query with no relevant item falls back to its own clean code. Padding rows have count 0.
    """
    sets = []
    relevant = (query_labels.float() @ labels.float().T) > 0
    for row, own in zip(relevant, fallback, strict=True):
        members = codes[row] if row.any() else own[None]
        unique, counts = torch.unique(members, dim=0, return_counts=True)
        sets.append((unique.float(), counts.float()))
    width = max(len(u) for u, _ in sets)
    bits = codes.shape[1]
    padded = torch.zeros(len(sets), width, bits)
    weights = torch.zeros(len(sets), width)
    for i, (unique, counts) in enumerate(sets):
        padded[i, : len(unique)] = unique
        weights[i, : len(counts)] = counts
    return padded, weights


def draw_target_labels(query_labels: torch.Tensor, pool: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """For each query, a label vector from `pool` (the dataset's label vectors) sharing no class with it."""
    pool = torch.unique(pool.bool(), dim=0)
    pool = pool[pool.any(1)]
    out = []
    for labels in query_labels.bool():
        allowed = pool[~(pool & labels).any(1)]
        if len(allowed) == 0:
            raise ValueError("no label vector in the data is disjoint from this query's labels")
        out.append(allowed[torch.randint(len(allowed), (1,), generator=generator)].squeeze(0))
    return torch.stack(out)
