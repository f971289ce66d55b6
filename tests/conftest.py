"""Shared fixtures: a private cache directory, the shipped default model loaded once per session, and the CLI run
in this process (the systems it loads are shared with the tests; one test runs it as a subprocess too)."""

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass

import pytest
import torch
from suitetools import ONE_WORKER, SLOW_FIRST, THREADS, work_unit

from hashdemo.systems.spec import ModelSpec

if "HASHDEMO_CACHE" not in os.environ:  # the xdist workers inherit the controller's; it removes it at exit
    os.environ["HASHDEMO_CACHE"] = tempfile.mkdtemp(prefix="hashdemo-test-cache-")
    atexit.register(shutil.rmtree, os.environ["HASHDEMO_CACHE"], ignore_errors=True)
torch.set_num_threads(int(THREADS))
os.environ["OMP_NUM_THREADS"] = THREADS  # every process the tests start too (the controller set 2 before the workers)

DEFAULT_MODEL = "zoo:fashion-dpsh-smallcnn-32"


@pytest.fixture(autouse=True)
def one_thread_again():
    """A test that changes torch's thread count (a bench run in this process sets 2) changes it for this test only:
    left at 2 beside the other worker, it made the next file's attacks 4x slower."""
    yield
    torch.set_num_threads(int(THREADS))


@pytest.fixture(scope="session")
def system():
    from hashdemo.systems.system import load_system

    return load_system(ModelSpec(DEFAULT_MODEL))


def random_codes(n: int, bits: int, generator: torch.Generator) -> torch.Tensor:
    return torch.where(torch.rand(n, bits, generator=generator) < 0.5, -1, 1).to(torch.int8)


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys):
    """`python -m hashdemo ...` in this process: (returncode, stdout, stderr)."""
    from hashdemo.cli import main

    def run(*args: str) -> Finished:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
        out = capsys.readouterr()
        return Finished(code, out.out, out.err)

    return run


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(ONE_WORKER + SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, but the ONE_WORKER files are one unit of work."""
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return Scheduling(config, log)
