"""Shared fixtures: a private cache directory, the shipped default model loaded once per session, and the CLI run
in this process (the systems it loads are shared with the tests; one test runs it as a subprocess too)."""

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass

import pytest
import torch

from hashdemo.systems.spec import ModelSpec

if "HASHDEMO_CACHE" not in os.environ:  # the xdist workers inherit the controller's; it removes it at exit
    os.environ["HASHDEMO_CACHE"] = tempfile.mkdtemp(prefix="hashdemo-test-cache-")
    atexit.register(shutil.rmtree, os.environ["HASHDEMO_CACHE"], ignore_errors=True)
# two xdist workers share the 2 cores: one thread each (HASHDEMO_TEST_THREADS overrides)
torch.set_num_threads(int(os.environ.get("HASHDEMO_TEST_THREADS", "1" if "PYTEST_XDIST_WORKER" in os.environ else "2")))

DEFAULT_MODEL = "zoo:fashion-dpsh-smallcnn-32"


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


# the longest test files first, so that two xdist workers (--dist loadfile) finish together
SLOW_FIRST = ("test_browser_flows.py", "test_browser_lecture.py", "test_browser_pages.py", "test_robustness.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
