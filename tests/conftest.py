"""Shared fixtures: a private cache directory, and the shipped default model loaded once per session."""

import os
import tempfile

import pytest
import torch

os.environ.setdefault("HASHDEMO_CACHE", tempfile.mkdtemp(prefix="hashdemo-test-cache-"))
torch.set_num_threads(int(os.environ.get("HASHDEMO_TEST_THREADS", "2")))

DEFAULT_MODEL = "zoo:fashion-dpsh-smallcnn-32"


@pytest.fixture(scope="session")
def system():
    from hashdemo.system import load_system

    return load_system(DEFAULT_MODEL)


def random_codes(n: int, bits: int, generator: torch.Generator) -> torch.Tensor:
    return torch.where(torch.rand(n, bits, generator=generator) < 0.5, -1, 1).to(torch.int8)
