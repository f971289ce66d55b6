"""Hamming ranking: XOR + popcount on bit-packed codes, ties broken by database index, chunked and threaded.

Distances are small integers (0..K), so a stable radix argsort ranks a row in linear time; query chunks
run in a thread pool (NumPy releases the GIL), and only one chunk of distances is held at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

QUERY_CHUNK = 32
CHUNK_ENTRIES = 2**22  # distances (and int64 ranks) held per chunk: 4M entries, 32 MB of ranks


def pack_words(codes: torch.Tensor) -> np.ndarray:
    """+-1 codes (or multi-hot labels) (N, K) -> (N, ceil(K/64)) uint64 words, bit set where the entry is > 0."""
    packed = np.packbits(codes.detach().cpu().numpy() > 0, axis=1)
    packed = np.pad(packed, ((0, 0), (0, (-packed.shape[1]) % 8)))
    return np.ascontiguousarray(packed).view(">u8").astype(np.uint64)


def _distances(query_words: np.ndarray, database_words: np.ndarray, bits: int) -> np.ndarray:
    dtype = np.uint8 if bits < 256 else np.uint16
    out = np.bitwise_count(query_words[:, None, 0] ^ database_words[None, :, 0]).astype(dtype, copy=False)
    for w in range(1, query_words.shape[1]):
        out += np.bitwise_count(query_words[:, None, w] ^ database_words[None, :, w])
    return out


def _check(query_codes: torch.Tensor, database_codes: torch.Tensor) -> None:
    if query_codes.shape[1] != database_codes.shape[1]:
        from ..core.errors import InvalidInputError

        raise InvalidInputError(
            f"bit length mismatch: query codes have {query_codes.shape[1]} bits, "
            f"database codes {database_codes.shape[1]}"
        )


def hamming_distance(query_codes: torch.Tensor, database_codes: torch.Tensor) -> torch.Tensor:
    """(Q, N) Hamming distances between +-1 codes, i.e. 0.5 * (K - q . b), as int32."""
    _check(query_codes, database_codes)
    bits = query_codes.shape[1]
    return torch.from_numpy(_distances(pack_words(query_codes), pack_words(database_codes), bits).astype(np.int32))


def _workers() -> int:
    return max(1, min(torch.get_num_threads(), os.cpu_count() or 1))


def chunks(
    query_codes: torch.Tensor, database_codes: torch.Tensor, topk: int | None
) -> Iterator[tuple[slice, np.ndarray, np.ndarray | None]]:
    """Per query chunk: (rows, distances (q, N), ranking (q, k) or None), in order, computed in parallel."""
    _check(query_codes, database_codes)
    bits, n = query_codes.shape[1], len(database_codes)
    q_words, db_words = pack_words(query_codes), pack_words(database_codes)
    k = n if topk is None or topk < 0 else min(topk, n)

    step = max(1, min(QUERY_CHUNK, CHUNK_ENTRIES // max(n, 1)))

    def work(start: int):
        rows = slice(start, min(start + step, len(query_codes)))
        dist = _distances(q_words[rows], db_words, bits)
        order = np.argsort(dist, axis=1, kind="stable")[:, :k] if topk is not None else None
        return rows, dist, order

    with ThreadPoolExecutor(_workers()) as pool:
        yield from pool.map(work, range(0, len(query_codes), step))


def rank(query_codes: torch.Tensor, database_codes: torch.Tensor, topk: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (Q, k) of the k nearest database items and their distances, nearest first.

    Ties in distance are broken by database index (smaller first), so rankings are reproducible.
    topk = -1 ranks the whole database.
    """
    indices, distances = [], []
    for _, dist, order in chunks(query_codes, database_codes, topk):
        indices.append(torch.from_numpy(order))
        distances.append(torch.from_numpy(np.take_along_axis(dist, order, axis=1).astype(np.int32)))
    return torch.cat(indices), torch.cat(distances)
