"""Hamming ranking: distances between +-1 codes, ties broken by database index, chunked for large databases."""

from __future__ import annotations

from typing import Iterator

import torch

MEMORY_BUDGET = 256 * 2**20  # bytes of ranking keys held at once
DATABASE_CHUNK = 262_144


def hamming_distance(query_codes: torch.Tensor, database_codes: torch.Tensor) -> torch.Tensor:
    """(Q, N) int32 distances: 0.5 * (K - q . b) for +-1 codes."""
    bits = query_codes.shape[1]
    if database_codes.shape[1] != bits:
        from .errors import InvalidInputError
        raise InvalidInputError(f"bit length mismatch: query codes have {bits} bits, "
                                f"database codes {database_codes.shape[1]}")
    q = query_codes.float()
    out = torch.empty(len(query_codes), len(database_codes), dtype=torch.int32)
    for start in range(0, len(database_codes), DATABASE_CHUNK):
        block = database_codes[start:start + DATABASE_CHUNK].float()
        out[:, start:start + len(block)] = ((bits - q @ block.T) / 2).round().to(torch.int32)
    return out


def query_chunks(n_queries: int, n_database: int) -> Iterator[slice]:
    """Slices of queries whose ranking keys fit in MEMORY_BUDGET."""
    step = max(1, min(n_queries, MEMORY_BUDGET // max(1, 8 * n_database)))
    for start in range(0, n_queries, step):
        yield slice(start, min(start + step, n_queries))


def rank(query_codes: torch.Tensor, database_codes: torch.Tensor, topk: int = -1
         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (Q, k) of the k nearest database items and their distances, nearest first.

    Ties in distance are broken by database index (smaller first), so rankings are reproducible.
    topk = -1 ranks the whole database.
    """
    n = len(database_codes)
    k = n if topk < 0 else min(topk, n)
    indices, distances = [], []
    for rows in query_chunks(len(query_codes), n):
        dist, idx = rank_distances(hamming_distance(query_codes[rows], database_codes), k)
        indices.append(idx)
        distances.append(dist)
    return torch.cat(indices), torch.cat(distances)


def rank_distances(dist: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Stable top-k of a (q, N) integer distance matrix: key = distance * N + index is unique per row."""
    n = dist.shape[1]
    key = dist.to(torch.int64) * n + torch.arange(n)
    if k < n:
        key = torch.topk(key, k, dim=1, largest=False, sorted=True).values
    else:
        key = torch.sort(key, dim=1).values
    return key // n, key % n
