"""Rebuilding the zoo: a kill ends the build's training workers with it."""

import os
import signal
import subprocess
import sys
import time

from hashdemo.core.paths import REPO_ROOT

SCRIPT = """
import multiprocessing, os, time
from hashdemo.training.zoo_build import ended_by_sigterm
if __name__ == "__main__":
    with ended_by_sigterm(), multiprocessing.get_context("spawn").Pool(1) as pool:
        print(pool.apply(os.getpid), flush=True)
        pool.apply(time.sleep, (60,))
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_build_takes_its_workers_with_it(tmp_path):
    script = tmp_path / "build.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    build = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    worker = int(build.stdout.readline())
    assert alive(worker)
    build.send_signal(signal.SIGTERM)
    assert build.wait(timeout=30) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker)
