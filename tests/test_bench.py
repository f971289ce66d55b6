"""Benches are code: every script in bench/ runs in its smoke mode (seconds), so a change that breaks one fails
here. The numbers they print are not checked: their full runs measure them (README, Speed)."""

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_bench_script_has_a_smoke_mode():
    for path in sorted(BENCH.glob("*.py")):
        assert "--smoke" in path.read_text(), path.name


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCH.glob("*.py")))
def test_the_bench_runs_in_its_smoke_mode(name, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # a bench's scratch folders go with the test's
    result = load(BENCH / f"{name}.py").main(["--smoke"])
    assert result in (None, 0)
    assert capsys.readouterr().out.strip()  # it printed its measurements


def test_a_test_that_changes_the_thread_count_changes_it_for_itself():
    torch.set_num_threads(2)  # as bench/lab_latency.py does in this process
    assert torch.get_num_threads() == 2


def test_the_next_test_has_the_suites_thread_count_again():
    """Left at 2 beside the other xdist worker, the next file's attacks ran 4x slower (tests/conftest.py); the
    processes the tests start get the same count."""
    from suitetools import THREADS

    assert torch.get_num_threads() == int(THREADS) and os.environ["OMP_NUM_THREADS"] == THREADS


def test_the_lecture_and_browser_files_are_one_unit_of_work_and_the_others_one_each():
    from suitetools import ONE_WORKER, work_unit

    together = {work_unit(f"tests/ui/{name}::test_x") for name in ONE_WORKER}
    assert together == {"one worker"}
    assert work_unit("tests/attacks/test_behaviour.py::test_x[hag]") == "tests/attacks/test_behaviour.py"
    assert work_unit("tests/run/test_driver.py::test_y") != work_unit("tests/run/test_engines.py::test_y")
