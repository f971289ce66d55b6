"""Progress reporting: a callback (done, total, text) that the CLI draws on stderr and the app as a bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

Progress = Callable[[int, int, str], None]


class Stopped(Exception):
    """The user stopped a run; what had finished before it stays cached."""


def silent(done: int, total: int, text: str = "") -> None:
    """A progress callback that shows nothing."""


class StderrBar:
    """A one-line text progress bar on stderr (never on stdout, which may carry JSON)."""

    def __init__(self, width: int = 30, min_interval: float = 0.2):
        self.width, self.min_interval, self._last = width, min_interval, 0.0

    def __call__(self, done: int, total: int, text: str = "") -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.min_interval:
            return
        self._last = now
        filled = int(self.width * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {text[:60]:<60}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
