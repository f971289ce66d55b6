"""run_attack: numbers, on-disk cache (hit, miss, stop) and the CLI that shares it."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hashdemo import evaluation
from hashdemo.cache import Stopped
from hashdemo.paths import cache_dir
from hashdemo.protocols import resolve

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"queries": 24, "steps": 8, "eps": 8}
SMALL_ARGS = ["--queries", "24", "--steps", "8", "--eps", "8"]


def small(attack: str, **more):
    return resolve("pgd", attack, {**SMALL, **more})


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hashdemo", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_run_attack_report_and_cache(system, monkeypatch):
    first = evaluation.run_attack(system, small("pga", seed=11))
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
        "protocol",
        "settings",
    ):
        assert key in r
    assert "perceptibility_mse" not in r and r["settings"]["overridden"] == ["eps", "queries", "seed", "steps"]
    assert (cache_dir() / "results" / f"{first.key}.json").is_file()
    assert (cache_dir() / "curves" / f"{first.key}.json").is_file()  # the Compare page's curves too

    def no_compute(*args, **kwargs):
        raise AssertionError("a cached run was recomputed")

    monkeypatch.setattr(evaluation.attacks.ATTACKS["pga"], "__call__", no_compute)
    again = evaluation.run_attack(system, small("pga", seed=11))
    assert again.report == r
    assert evaluation.run_attack(system, small("pga", seed=12), only_cached=True) is None  # a miss
    # the batch size sets each batch's random start, so it is part of the key
    assert evaluation.run_attack(system, small("pga", seed=11, batch_size=8), only_cached=True) is None


def test_targeted_report_has_t_map(system):
    r = evaluation.run_attack(system, small("dhta")).report
    assert r["targeted"] and r["t_map_adv"] > r["t_map_clean"]
    assert r["target_code"]["title"] == "Anchor code" and r["target_code"]["t_map"] > r["t_map_adv"]


def test_targeted_precision_at_10_by_brute_force(system):
    """t-P@10: the share of the 10 nearest database items (stable sort: ties by index) carrying the target label."""
    run = evaluation.run_attack(system, small("p2p"))
    db = system.database_codes.float()
    db_labels = system.dataset.database.labels.float()
    for name, codes in (("clean", run.clean_codes), ("adv", run.adversarial_codes)):
        hits = []
        for code, target in zip(codes.float(), run.target_labels.float(), strict=True):
            hamming = 0.5 * (db.shape[1] - db @ code)
            top = np.argsort(hamming.numpy(), kind="stable")[:10]
            hits.append(float(((db_labels[top] @ target) > 0).float().mean()))
        assert run.report[f"t_precision_at_10_{name}"] == pytest.approx(np.mean(hits), abs=1e-4)
    assert run.report["t_precision_at_10_adv"] > run.report["t_precision_at_10_clean"]


def test_stopped_run_leaves_no_cache_entry(system):
    calls = iter([False, True])
    with pytest.raises(Stopped):
        evaluation.run_attack(system, small("hag", seed=99, batch_size=8), should_stop=lambda: next(calls))
    assert evaluation.run_attack(system, small("hag", seed=99, batch_size=8), only_cached=True) is None
    assert not list((cache_dir() / "results").glob("*.tmp"))


def test_cli_attack_json_matches_the_library(system):
    out = cli("attack", "--attack", "p2p", *SMALL_ARGS, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    library = evaluation.run_attack(system, small("p2p")).report
    assert report == library
    assert "t_map_clean" in report and "t_map_adv" in report


def test_cli_bench_formats(system):
    out = cli("bench", "--attacks", "noise,pga,dhta", *SMALL_ARGS, "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["title"] for r in rows] == ["Clean", "Noise", "PgA", "DHTA", "Pharos code", "Anchor code"]
    assert [r["row"] for r in rows] == ["clean", "attack", "attack", "attack", "code", "code"]
    library = evaluation.run_attack(system, small("pga")).report
    assert {k: v for k, v in rows[2].items() if k != "row"} == library
    assert rows[4]["map_adv"] == library["target_code"]["map"] and rows[5]["t_map_adv"] > rows[3]["t_map_adv"]
    for fmt, marker in (
        ("md", "| Anchor code |"),
        ("csv", "Attack,MAP@1000,t-MAP@1000"),
        ("latex", "\\begin{tabular}"),
    ):
        out = cli("bench", "--attacks", "noise,pga,dhta", *SMALL_ARGS, "--format", fmt)
        assert out.returncode == 0 and marker in out.stdout, out.stderr


def test_cli_sweep(system):
    out = cli("sweep", "--param", "eps", "--values", "2,8", "--attacks", "pga", *SMALL_ARGS[:4], "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [row["value"] for row in rows] == [2.0, 8.0] and rows[0]["map_adv"] >= rows[1]["map_adv"]


def test_sweep_applies_every_setting_and_refuses_unknown_ones(system):
    from hashdemo.errors import InvalidInputError
    from hashdemo.sweep import run_sweep

    base = {"queries": 12, "steps": 6}
    plain = run_sweep(system, "eps", [8], ["hag"], protocol="pgd", overrides=base)[0]
    scheduled = run_sweep(system, "eps", [8], ["hag"], protocol="pgd", overrides={**base, "schedule": "none"})[0]
    sgd = run_sweep(
        system,
        "eps",
        [8],
        ["hag"],
        protocol="pgd",
        overrides={**base, "optimiser": "sgd", "lr": 0.0077, "random_start": True},
    )[0]
    assert plain["settings"]["schedule"] == "hag" and scheduled["settings"]["schedule"] == "none"
    assert sgd["optimiser"] == "sgd" and sgd["settings"]["lr"] == 0.0077 and sgd["random_start"] is True
    with pytest.raises(InvalidInputError, match="no setting gamma"):
        run_sweep(system, "eps", [8], ["hag"], protocol="pgd", overrides={**base, "gamma": 1})
    with pytest.raises(InvalidInputError, match="n_t is not a setting of hag"):
        run_sweep(system, "eps", [8], ["hag"], protocol="pgd", overrides={**base, "n_t": 3})


def test_steps_sweep_is_one_run_per_attack_with_snapshots(system, monkeypatch):
    from hashdemo import sweep

    calls = []
    real = sweep.run_attack

    def counting(target, settings, **kwargs):
        calls.append(settings)
        return real(target, settings, **kwargs)

    monkeypatch.setattr(sweep, "run_attack", counting)
    rows = sweep.run_sweep(system, "steps", [2, 5, 9], ["pga", "dhta"], protocol="pgd", overrides={"queries": 12})
    assert [(s.attack, s.budget.steps, s.record_at) for s in calls] == [("pga", 9, (2, 5, 9)), ("dhta", 9, (2, 5, 9))]
    assert [(r["value"], r["attack"]) for r in rows] == [(n, a) for n in (2, 5, 9) for a in ("pga", "dhta")]
    last = {r["attack"]: r for r in rows if r["value"] == 9}
    assert last["pga"]["map_adv"] == evaluation.run_attack(system, calls[0]).report["map_adv"]
    # a separate 5-step PgA run (no schedule) has the numbers of the snapshot at 5
    five = evaluation.run_attack(system, resolve("pgd", "pga", {"queries": 12, "steps": 5})).report
    assert next(r for r in rows if r["value"] == 5 and r["attack"] == "pga")["map_adv"] == five["map_adv"]


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
        (["attack", "--eps", "-3"], r"epsilon must be in [0, 255] (1/255)"),
        (["attack", "--steps", "0"], "iterations T must be a whole number in [1, 5000]"),
        (["attack", "--attack", "nope"], "invalid choice"),
        (["attack", "--protocol", "nope"], "invalid choice"),
        (["attack", "--attack", "pga", "--set", "t=0.4", "--queries", "4"], "(-1, 0)"),
        (["attack", "--attack", "pga", "--set", "gamma=2", "--queries", "4"], "PgA has no setting gamma"),
        (["sweep", "--param", "t", "--values", "0.5", "--attacks", "dhta"], "cannot sweep 't' for dhta"),
        (["sweep", "--param", "steps", "--values", "2.5", "--attacks", "pga"], "a whole number"),
        (["sweep", "--param", "bits", "--values", "128", "--attacks", "pga"], "available: 16, 32, 64"),
        (["train", "--bits", "0", "--epochs", "1"], "bit length"),
    ],
)
def test_cli_bad_input_is_one_clear_line(args, message):
    out = cli(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hashdemo: error:") and message in lines[0], out.stderr
