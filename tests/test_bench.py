"""Benches are code: every script in bench/ runs in its smoke mode (seconds), so a change that breaks one fails
here. The numbers they print are not checked: their full runs measure them (README, Speed)."""

import importlib.util
import sys
import tempfile
from pathlib import Path

import pytest

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
