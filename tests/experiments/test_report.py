"""The robustness report and the leaderboard files: every number of the report equals the one the matching command
prints; the HTML fetches nothing; a stopped report is written as a partial one naming what is missing and resumes
without recomputing a finished batch; bad input is one line; the board links each model to its report."""

import html
import json
import re

import pytest
from apptools import open_page

from hashdemo.experiments.report import SECTIONS, make_report, report_or_partial, transfer_sources
from hashdemo.figures.report_doc import to_html, write_report
from hashdemo.run import driver
from hashdemo.run.settings import Choices

MODEL = "zoo:fashion-dpsh-smallcnn-32"
SMALL = ["--queries", "6", "--steps", "3"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The report of the default model on 6 queries and 3 iterations, made by the command."""
    from hashdemo.cli import main

    out = tmp_path_factory.mktemp("report")
    assert main(["report", "--model", MODEL, *SMALL, "--out", str(out), "--json"]) == 0
    return out, json.loads((out / "report.json").read_text())


def test_the_report_is_three_files_and_complete(written):
    out, report = written
    assert report["complete"] and report["missing"] == [] and report["queries"] == 6
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert report["command"].startswith(f"python -m hashdemo report --model {MODEL} --protocol pgd")
    assert report["model"]["weights"] and report["model"]["card"]["bits"] == 32
    assert [w["eps"] for w in report["worst"]] == [4.0, 8.0, 16.0]
    assert [e["role"] for e in report["examples"]] == ["least robust", "most robust"]


def test_the_html_fetches_nothing_from_anywhere(written):
    out, _ = written
    page = (out / "report.html").read_text()
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert page.count("<svg") >= 6  # the figures are inline


def test_every_number_is_the_one_its_command_prints(written, cli):
    _, report = written
    clean = json.loads(cli("eval", "--model", MODEL, "--queries", "6", "--json").stdout)
    assert clean["map"] == report["clean"]["map"]
    board = json.loads(cli("leaderboard", "--models", MODEL, *SMALL, "--eps", "4,8,16", "--format", "json").stdout)
    assert [w["map"] for w in board[0]["worst"]] == [w["map"] for w in report["worst"]]
    assert [w["wins"] for w in board[0]["worst"]] == [w["wins"] for w in report["worst"]]
    assert board[0]["median_breaking_eps"] == report["breaking"]["median"]
    plain = [m for m in report["ensemble"] if set(m) == {"label", "attack"}]
    args = ["--models", MODEL, "--attacks", ",".join(m["attack"] for m in plain), "--eps", "4,8,16", *SMALL]
    curves = json.loads(cli("robustness", *args, "--format", "json").stdout)
    mine = {(c["title"], c["eps"]): c["value"] for c in report["curves"]}
    for c in curves:
        assert mine[(next(m["label"] for m in plain if m["attack"] == c["attack"]), c["eps"])] == c["value"]
    sources = ",".join(report["transfer"]["sources"])
    moved = cli(
        "transfer",
        "--sources",
        sources,
        "--targets",
        MODEL,
        "--attack",
        "pga",
        "--eps",
        "8",
        *SMALL,
        "--format",
        "json",
    )
    assert json.loads(moved.stdout)["values"] == report["transfer"]["values"]


def test_transfer_sources_are_other_families_on_the_same_data(system):
    sources = transfer_sources(system)
    families = [(s.card.backbone, s.card.method) for s in sources]
    assert 1 <= len(sources) <= 4 and len(set(families)) == len(families)
    assert (system.card.backbone, system.card.method) not in families
    assert all(s.card.dataset == system.card.dataset and not s.card.defence for s in sources)


def test_a_stopped_report_is_partial_and_resumes_without_recomputing(system, tmp_path, monkeypatch):
    monkeypatch.setenv("HASHDEMO_CACHE", str(tmp_path / "cache"))
    choices = Choices.of(overrides={"queries": 4, "steps": 2, "batch_size": 2})
    finished = []
    real = driver.compute_batch
    monkeypatch.setattr(driver, "compute_batch", lambda *a, **k: finished.append(a[2]) or real(*a, **k))
    report, why = report_or_partial(system, choices, stop=lambda: len(finished) >= 4)  # in the 2nd batch of HAG
    assert why and not report.complete and "worst" in report.missing and report.clean is not None
    files = write_report(report, tmp_path / "partial", system)
    assert "Partial report</b>: missing worst" in files["html"].read_text()
    assert json.loads(files["json"].read_text())["missing"] == list(report.missing)
    before = len(finished)
    batches = lambda: sorted(p.stem for p in (tmp_path / "cache" / driver.BATCHES).glob("*.json"))
    kept = batches()
    assert kept  # the finished batches of the stopped member are on disk
    done = make_report(system, choices)
    assert done.complete and len(finished) > before
    assert not set(kept) & set(batches())  # every kept batch was read, not computed again (and then joined)


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, cli):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    for args, message in (
        (["--model", "zoo:nope", "--out", str(tmp_path / "a")], "no zoo model 'nope'"),
        (["--out", str(not_a_folder / "sub")], "cannot write to"),
        (["--model", MODEL, "--data-root", str(tmp_path / "missing"), "--out", str(tmp_path / "b")], ""),
    ):
        out = cli("report", *args, *SMALL)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hashdemo: error:") and message in lines[0], out.stderr
    assert not (tmp_path / "a" / "report.html").exists()


def test_the_leaderboard_files_link_each_model_to_its_report(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("HASHDEMO_CACHE", str(tmp_path / "cache"))  # nothing of an earlier report is cached
    models = f"{MODEL},zoo:fashion-dph-smallcnn-16"
    tiny = ["--queries", "3", "--steps", "2"]
    out = cli("leaderboard", "--models", models, *tiny, "--out", str(tmp_path / "board"), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    assert [r["model"] for r in board["rows"]] == [r["model"] for r in rows]
    page = (tmp_path / "board" / "leaderboard.html").read_text()
    assert "<script>" in page and "addEventListener('click'" in page  # sortable, nothing fetched
    for row in board["rows"]:
        assert row["report"] in page and (tmp_path / "board" / row["report"]).is_file()
        partial = json.loads((tmp_path / "board" / row["report"]).with_suffix(".json").read_text())
        assert partial["missing"] == ["transfer"]  # what the board does not compute, said in the report
        assert partial["worst"][0]["map"] == row["worst"][0]["map"]


def test_the_report_page_makes_shows_and_offers_the_files():
    at = open_page("report.py", {"queries": "6", "steps": "3", "run": "1"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [b.label for b in at.get("download_button")][-3:] == ["Report as HTML", "Report as PDF", "Report as JSON"]
    assert at.session_state["report:queries"] == 6


def test_the_html_names_every_section(written, system):
    _, report_json = written
    report = make_report(system, Choices.of(overrides={"queries": 6, "steps": 3}), only_cached=True)
    page = to_html(report, system)
    for title in SECTIONS.values():
        assert html.escape(title) in page
    assert report.to_json()["worst"] == report_json["worst"]
