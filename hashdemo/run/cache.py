"""The on-disk results cache: entries keyed by every setting and a digest of the code that computes them.

One convention: a lookup returns None on a miss. Writes go through a temporary file and a rename, tensors
first and the JSON last, so an entry whose JSON is on disk is complete and a stopped run leaves nothing.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..core.paths import REPO_ROOT, cache_dir, file_stamp, write_atomic

CODE_SOURCES = (
    "hashdemo/attacks",
    "hashdemo/models",
    "hashdemo/prosgan",
    "hashdemo/targets",
    "hashdemo/retrieval",
    "hashdemo/run",
)


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the code that produces attack numbers: editing it invalidates cached results."""
    digest = hashlib.sha256()
    for source in CODE_SOURCES:
        path = REPO_ROOT / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def key_of(settings: dict) -> str:
    """A stable key for a JSON-able settings dict (the code version is added here, once)."""
    payload = json.dumps({**settings, "code": code_version()}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _paths(kind: str, key: str) -> tuple[Path, Path]:
    folder = cache_dir() / kind
    return folder / f"{key}.json", folder / f"{key}.safetensors"


# Entries read lately, with the (inode, size, mtime) of their files when read: a class of 20 opening one prepared
# step read the same entries 20 times (a tenth of the server's time, bench/class_load.py).
MEMO_BYTES = 256 * 2**20  # the most the kept entries hold (their JSON text and tensors); the oldest go first
_read: OrderedDict[tuple[Path, tuple], tuple[str, dict[str, torch.Tensor]]] = OrderedDict()
_held = [0]
_lock = threading.Lock()


def _size(entry: tuple[str, dict[str, torch.Tensor]]) -> int:
    return len(entry[0]) + sum(t.nbytes for t in entry[1].values())


def _read_entry(report_path: Path, tensor_path: Path) -> tuple[str, dict[str, torch.Tensor]] | None:
    stamps = (file_stamp(report_path), file_stamp(tensor_path))
    if stamps[0] is None:
        return None
    memo = (report_path, stamps)
    with _lock:
        if memo in _read:
            _read.move_to_end(memo)
            return _read[memo]
    entry = report_path.read_text(), load_file(str(tensor_path)) if stamps[1] is not None else {}
    with _lock:
        if memo not in _read:
            _read[memo] = entry
            _held[0] += _size(entry)
        while _held[0] > MEMO_BYTES and len(_read) > 1:
            _held[0] -= _size(_read.popitem(last=False)[1])
    return entry


def load(kind: str, key: str) -> tuple[dict, dict[str, torch.Tensor]] | None:
    """(report, tensors) of a complete entry, or None; the caller owns what it gets (the tensors are copies)."""
    entry = _read_entry(*_paths(kind, key))
    if entry is None:
        return None
    report, tensors = entry
    return json.loads(report), {name: t.clone() for name, t in tensors.items()}


def store(kind: str, key: str, report: dict, tensors: dict[str, torch.Tensor] | None = None) -> None:
    """Tensors first, report last, each via rename: a report on disk means a complete entry."""
    report_path, tensor_path = _paths(kind, key)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    if tensors:
        write_atomic(tensor_path, lambda p: save_file({k: v.contiguous() for k, v in tensors.items()}, str(p)))
    write_atomic(report_path, lambda p: p.write_text(json.dumps(report, indent=2)))


def remove(kind: str, key: str) -> None:
    """Forget an entry (the batches of a run, once the run itself is stored)."""
    for path in _paths(kind, key):
        path.unlink(missing_ok=True)


def memo_json(kind: str, key: str, compute: Callable[[], dict]) -> dict:
    """A JSON-able result computed once and kept beside the entry it belongs to."""
    cached = load(kind, key)
    if cached is not None:
        return cached[0]
    value = compute()
    store(kind, key, value)
    return value
