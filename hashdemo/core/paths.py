"""Where hashdemo finds its shipped assets and keeps its caches."""

import os
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSETS = Path(os.environ.get("HASHDEMO_ASSETS", REPO_ROOT / "assets"))
ZOO_DIR = ASSETS / "zoo"
FASHION_DIR = ASSETS / "data" / "fashion-mnist"


def cache_dir() -> Path:
    """The writable cache (prototype networks, attack results): $HASHDEMO_CACHE or ./.cache."""
    path = Path(os.environ.get("HASHDEMO_CACHE", REPO_ROOT / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file and rename, so a reader (or a stopped run) never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def file_stamp(path: Path | str) -> tuple[int, int, int] | None:
    """(inode, size, mtime) of a file, None when it cannot be read: what keys a cache of what the file holds (a
    rename, a rewrite or a touch changes it)."""
    try:
        s = os.stat(path)
    except OSError:
        return None
    return s.st_ino, s.st_size, s.st_mtime_ns
