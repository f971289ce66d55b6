"""run_attack: numbers, on-disk cache (hit, miss, stop) and the CLI that shares it."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hashdemo import evaluation
from hashdemo.paths import cache_dir

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"queries": 24, "steps": 8, "eps": 8}


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hashdemo", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_run_attack_report_and_cache(system, monkeypatch):
    first = evaluation.run_attack(system, "pga", **SMALL, seed=11)
    r = first.report
    assert r["queries"] == 24 and r["linf_max"] <= 8 + 1e-4 and r["map_adv"] < r["map_clean"]
    for key in (
        "attack",
        "eps",
        "steps",
        "queries",
        "map_clean",
        "map_adv",
        "seconds_per_image",
        "linf_max",
        "perceptibility_rmse",
    ):
        assert key in r
    assert (cache_dir() / "results" / f"{first.key}.json").is_file()
    assert (cache_dir() / "results" / f"{first.key}.curves.json").is_file()  # the Compare page's curves too

    def no_compute(*args, **kwargs):
        raise AssertionError("a cached run was recomputed")

    monkeypatch.setattr(evaluation.attacks.ATTACKS["pga"], "__call__", no_compute)
    again = evaluation.run_attack(system, "pga", **SMALL, seed=11)
    assert again.report == r
    assert evaluation.run_attack(system, "pga", **SMALL, seed=12, only_cached=True) is None  # a miss
    # the batch size sets each batch's random start, so it is part of the key
    assert evaluation.run_attack(system, "pga", **SMALL, seed=11, batch_size=8, only_cached=True) is None


def test_targeted_report_has_t_map(system):
    r = evaluation.run_attack(system, "dhta", **SMALL).report
    assert r["targeted"] and r["t_map_adv"] > r["t_map_clean"]


def test_stopped_run_leaves_no_cache_entry(system):
    calls = iter([False, True])
    with pytest.raises(evaluation.Stopped):
        evaluation.run_attack(system, "hag", **SMALL, seed=99, batch_size=8, should_stop=lambda: next(calls))
    assert evaluation.run_attack(system, "hag", **SMALL, seed=99, batch_size=8, only_cached=True) is None
    assert not list((cache_dir() / "results").glob("*.tmp"))


def test_cli_attack_json_matches_the_library(system):
    out = cli("attack", "--attack", "p2p", "--queries", "24", "--steps", "8", "--eps", "8", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    library = evaluation.run_attack(system, "p2p", **SMALL).report
    assert report == library
    assert "t_map_clean" in report and "t_map_adv" in report


def test_cli_bench_formats(system):
    out = cli("bench", "--attacks", "noise,pga", "--queries", "24", "--steps", "8", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["attack"] for r in rows] == ["noise", "pga"]
    assert rows[1] == evaluation.run_attack(system, "pga", **SMALL).report
    for fmt, marker in (("md", "| Clean |"), ("csv", "title,map_adv"), ("latex", "\\begin{tabular}")):
        out = cli("bench", "--attacks", "noise,pga", "--queries", "24", "--steps", "8", "--format", fmt)
        assert out.returncode == 0 and marker in out.stdout


def test_cli_sweep(system):
    out = cli(
        "sweep",
        "--param",
        "eps",
        "--values",
        "2,8",
        "--attacks",
        "pga",
        "--queries",
        "24",
        "--steps",
        "8",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [row["value"] for row in rows] == [2.0, 8.0] and rows[0]["map_adv"] >= rows[1]["map_adv"]


def test_cli_eval_and_encode(tmp_path):
    out = cli("eval", "--topk", "1000", "--json")
    result = json.loads(out.stdout)
    assert result["queries"] == 1000 and result["database"] == 60000 and result["map"] > 0.8
    meta = json.loads((ROOT / "assets" / "zoo" / "fashion-dpsh-smallcnn-32" / "meta.json").read_text())
    assert result["map"] == pytest.approx(meta["clean_map"], abs=5e-5)
    out = cli("encode", "--split", "query", "--out", str(tmp_path / "q.npz"))
    assert out.returncode == 0, out.stderr
    saved = np.load(tmp_path / "q.npz")
    assert saved["codes"].shape == (1000, 32) and set(np.unique(saved["codes"])) == {-1, 1}
    assert saved["labels"].shape == (1000, 10)


@pytest.mark.parametrize(
    "args, message",
    [
        (["eval", "--model", "zoo:nope"], "no zoo model 'nope'"),
        (["eval", "--model", "/does/not/exist"], "not found"),
        (["attack", "--eps", "-3"], "--eps is in 1/255 units"),
        (["attack", "--attack", "nope"], "invalid choice"),
        (["attack", "--attack", "pga", "--set", "t=0.4", "--queries", "4"], "(-1, 0)"),
        (["sweep", "--param", "t", "--values", "0.5", "--attacks", "dhta"], "has no margin t"),
        (["train", "--bits", "0", "--epochs", "1"], "bit length"),
    ],
)
def test_cli_bad_input_is_one_clear_line(args, message):
    out = cli(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hashdemo: error:") and message in lines[0], out.stderr
