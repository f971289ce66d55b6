"""The command line: its JSON equals the library's objects, each protocol is recorded whole, flags and `--set` help
come from the declarations, and bad input is one line with exit status 2. Run in this process (one subprocess
check proves `python -m hashdemo` itself)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hashdemo.attacks import ATTACKS
from hashdemo.experiments import leaderboard
from hashdemo.experiments.transfer import transfer
from hashdemo.run import driver as evaluation
from hashdemo.run.protocols import PROTOCOLS
from hashdemo.run.settings import Choices, resolve, run_fields
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.system import load_system

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"queries": 24, "steps": 8, "eps": 8}
SMALL_ARGS = ["--queries", "24", "--steps", "8", "--eps", "8"]


def test_python_dash_m_hashdemo_runs():
    out = subprocess.run([sys.executable, "-m", "hashdemo", "protocols"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "pga: PgA Table 1" in out.stdout, out.stderr


def test_flags_and_set_help_are_generated_from_the_declarations(cli):
    help_text = " ".join(cli("attack", "--help").stdout.split()).replace("- ", "-")  # argparse wraps at hyphens
    for b in run_fields():
        assert b.param.flag in help_text
    for name, cls in ATTACKS.items():
        for param in cls.parameters:
            assert f"{name}: {param.name}:" in help_text
    assert "in [0, 255] (1/255)" in help_text  # the declared range, in the user's units


def test_attack_json_matches_the_library(system, cli):
    out = cli("attack", "--attack", "p2p", *SMALL_ARGS, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    library = evaluation.run_attack(system, resolve("pgd", "p2p", SMALL, model=system.spec)).report
    assert report == library.to_json()
    assert "t_map_clean" in report and report["system"]["weights"] == system.spec.digest


def test_t_map_over_queries_with_a_hit_is_a_setting_of_the_run(cli):
    """DHTA-master's convention on the same run: no lower than over all queries, and named in the export."""
    runs = {}
    for over in ("all", "hit"):
        out = cli("attack", "--attack", "dhta", *SMALL_ARGS, "--t-map-over", over, "--json")
        assert out.returncode == 0, out.stderr
        runs[over] = json.loads(out.stdout)
    assert runs["hit"]["settings"]["t_map_over"] == "hit" and runs["all"]["settings"]["t_map_over"] == "all"
    assert runs["hit"]["t_map_adv"] >= runs["all"]["t_map_adv"] > 0
    assert runs["hit"]["hamming_mean"] == runs["all"]["hamming_mean"]  # one attack, two counts


def test_bench_formats(system, cli):
    out = cli("bench", "--attacks", "noise,pga,dhta", *SMALL_ARGS, "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["title"] for r in rows] == ["Clean", "Noise", "PgA", "DHTA", "Pharos code", "Anchor code"]
    assert [r["row"] for r in rows] == ["clean", "attack", "attack", "attack", "code", "code"]
    library = evaluation.run_attack(system, resolve("pgd", "pga", SMALL, model=system.spec)).report
    assert {k: v for k, v in rows[2].items() if k != "row"} == library.to_json()
    assert rows[4]["map_adv"] == library.target_code.map and rows[5]["t_map_adv"] > rows[3]["t_map_adv"]
    for fmt, marker in (("md", "| Anchor code |"), ("csv", "Attack,MAP@1000,t-MAP@1000"), ("latex", "\\label{tab:x}")):
        out = cli("bench", "--attacks", "noise,pga,dhta", *SMALL_ARGS, "--format", fmt, "--label", "tab:x")
        assert out.returncode == 0 and marker in out.stdout, out.stderr
    assert "weights " + system.spec.digest in out.stdout  # an export names what was attacked
    assert json.loads(cli("bench", "--attacks", "noise,pga,dhta", *SMALL_ARGS, "--json").stdout) == rows  # --json too


def test_seeds_give_mean_and_sample_std_of_the_single_seed_runs(system, cli):
    out = cli("bench", "--attacks", "dhta", *SMALL_ARGS, "--seeds", "0,1", "--format", "json")
    assert out.returncode == 0, out.stderr
    dhta = json.loads(out.stdout)[1]
    single = [
        evaluation.run_attack(system, resolve("pgd", "dhta", SMALL | {"seed": s}, model=system.spec)).report
        for s in (0, 1)
    ]
    a, b = (r.t_map_adv for r in single)
    assert dhta["t_map_adv"]["values"] == [a, b] and a != b  # the seed draws other targets
    assert dhta["t_map_adv"]["mean"] == pytest.approx((a + b) / 2, abs=1e-6)
    assert dhta["t_map_adv"]["std"] == pytest.approx(abs(a - b) / 2**0.5, abs=1e-6)  # sample std of two values
    text = cli("attack", "--attack", "dhta", *SMALL_ARGS, "--seeds", "0,1").stdout
    assert f"t-MAP@1000 {single[0].t_map_clean:.4f} -> {(a + b) / 2:.4f} ± {abs(a - b) / 2**0.5:.4f}" in text


def test_the_readmes_train_command_maps_to_its_config():
    from hashdemo.cli import build_parser, train_config

    argv = "train --dataset fashion --backbone smallcnn --method dph --bits 32 --epochs 10 --defence atrdh "
    argv += "--defence-set codes=memory --init zoo:fashion-dph-smallcnn-32 --lr 1e-4 --data-root /data/x --out my"
    config = train_config(build_parser().parse_args(argv.split()))
    assert (config.method, config.bits, config.epochs, config.lr) == ("dph", 32, 10, 1e-4)
    assert config.init == "zoo:fashion-dph-smallcnn-32" and config.data_root == "/data/x"
    assert config.defence == "atrdh" and config.defence_params == {"codes": "memory"}


def test_sweep(cli):
    out = cli("sweep", "--param", "eps", "--values", "2,8", "--attacks", "pga", *SMALL_ARGS[:4], "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [row["value"] for row in rows] == [2.0, 8.0] and rows[0]["map_adv"] >= rows[1]["map_adv"]


@pytest.mark.parametrize("name", [p for p in PROTOCOLS if not PROTOCOLS[p].value("record_at", ())])
def test_a_run_under_each_protocol_records_it(system, cli, name):
    attack = PROTOCOLS[name].attacks[0]
    out = cli("attack", "--protocol", name, "--attack", attack, "--queries", "3", "--steps", "3", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    expected = resolve(name, attack, {"queries": 3, "steps": 3}, model=system.spec)
    assert report["protocol"] == name and report["settings"]["overridden"] == ["queries", "steps"]
    assert report["settings"] == {**expected.to_json(), "effective": report["settings"]["effective"]}
    assert (report["topk"], report["t_topk"]) == (expected.topk, expected.t_topk)


def test_eval_and_encode(tmp_path, cli):
    result = json.loads(cli("eval", "--topk", "1000", "--json").stdout)
    assert result["queries"] == 1000 and result["database"] == 60000 and result["map"] > 0.8
    meta = json.loads((ROOT / "assets" / "zoo" / "fashion-dpsh-smallcnn-32" / "meta.json").read_text())
    assert result["map"] == pytest.approx(meta["clean_map"], abs=5e-5) and result["ties"] == "stable"
    out = cli("encode", "--split", "query", "--out", str(tmp_path / "q.npz"))
    assert out.returncode == 0, out.stderr
    saved = np.load(tmp_path / "q.npz")
    assert saved["codes"].shape == (1000, 32) and set(np.unique(saved["codes"])) == {-1, 1}
    assert saved["labels"].shape == (1000, 10)


def test_leaderboard_json_equals_the_library(cli):
    models = "zoo:fashion-dph-smallcnn-16"
    out = cli("leaderboard", "--models", models, "--queries", "6", "--format", "json")
    assert out.returncode == 0, out.stderr
    systems = [load_system(ModelSpec(m)) for m in models.split(",")]
    rows = leaderboard.leaderboard(systems, Choices.of(overrides={"queries": 6}), only_cached=True)
    assert json.loads(out.stdout) == [r.to_json() for r in rows]
    md = cli("leaderboard", "--models", models, "--queries", "6", "--format", "md")
    assert "| Model | Defence | Clean MAP |" in md.stdout


def test_transfer_json_equals_the_library(cli):
    a, b = "zoo:fashion-dpsh-smallcnn-32", "zoo:fashion-dpsh-resnet18-cifar-32"
    args = ["--attack", "pga", "--queries", "20", "--steps", "10"]
    out = cli("transfer", "--sources", f"{a},{b}", "--targets", a, *args, "--format", "json")
    assert out.returncode == 0, out.stderr
    library = transfer(
        [load_system(ModelSpec(a)), load_system(ModelSpec(b))],
        [load_system(ModelSpec(a))],
        "pga",
        Choices.of(overrides={"queries": 20, "steps": 10}),
    )
    assert json.loads(out.stdout) == json.loads(json.dumps(library.to_json()))
    latex = cli("transfer", "--sources", a, "--targets", a, *args, "--format", "latex")
    assert "\\toprule" in latex.stdout and "\\textbf{" in latex.stdout  # the white-box cell in bold


@pytest.mark.parametrize(
    "args, message",
    [
        (["eval", "--model", "zoo:nope"], "no zoo model 'nope'"),
        (["eval", "--model", "/does/not/exist"], "not found"),
        (["attack", "--eps", "-3"], r"epsilon must be in [0, 255] (1/255)"),
        (["attack", "--steps", "0"], "iterations T must be a whole number in [1, 5000]"),
        (["attack", "--attack", "nope"], "unknown attack 'nope'; choose one of"),
        (["attack", "--protocol", "nope"], "unknown protocol 'nope'; choose one of"),
        (["attack", "--attack", "pga", "--set", "t=0.4", "--queries", "4"], "(-1, 0)"),
        (["attack", "--attack", "pga", "--set", "gamma=2", "--queries", "4"], "PgA has no setting gamma"),
        (["attack", "--queries", "5000"], "queries must be between 1 and 1000, got 5000"),
        (["attack", "--device", "tpu"], "device must be auto, cpu or cuda"),
        (["sweep", "--param", "t", "--values", "0.5", "--attacks", "dhta"], "cannot sweep 't' for dhta"),
        (["sweep", "--param", "steps", "--values", "2.5", "--attacks", "pga"], "a whole number"),
        (["sweep", "--param", "bits", "--values", "128", "--attacks", "pga"], "available: 16, 32, 64"),
        (["train", "--bits", "0", "--epochs", "1"], "bit length must be a whole number in [1, 1024]"),
        (["bench", "--seeds", "0,x"], "--seeds takes whole numbers"),
        (["attack", "--seed", "1", "--seeds", "0,1"], "either --seed or --seeds"),
    ],
)
def test_bad_input_is_one_clear_line(cli, args, message):
    out = cli(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hashdemo: error:") and message in lines[0], out.stderr


def test_a_boolean_flag_left_out_keeps_its_declared_default():
    from hashdemo.cli import build_parser
    from hashdemo.prosgan.training import TrainSettings

    assert TrainSettings().spectral_norm is True  # declared on (the authors' script)
    assert build_parser().parse_args(["train-attack", "prosgan"]).spectral_norm is None  # left out: the default
    assert build_parser().parse_args(["train-attack", "prosgan", "--no-spectral-norm"]).spectral_norm is False
