"""Each setting is declared once, and a new one is one field: the defaults of the run settings (protocol, model,
device, queries, eps, step, T, top-K, ...) appear as literals only where they are declared, and a field added to a
copy of RunSettings reaches every run command's --help, the app's controls and the JSON."""

import ast
import sys
from dataclasses import make_dataclass
from pathlib import Path

import pytest
from apptools import ROOT, open_page

from hashdemo.core.params import Param, setting
from hashdemo.experiments.leaderboard import BUDGETS
from hashdemo.experiments.report import REPORT_EPS
from hashdemo.experiments.robustness import CURVE_EPS
from hashdemo.run import settings as settings_module
from hashdemo.run.protocols import DEFAULT_PROTOCOL
from hashdemo.run.settings import run_fields
from hashdemo.systems.spec import DEFAULT_MODEL

# the settings whose defaults must not be restated, and the files that declare them (and may name them)
WATCHED = ("protocol", "model", "device", "queries", "eps", "step", "steps", "topk", "t_topk", "batch_size", "ties")
DECLARING = {
    "hashdemo/attacks/budget.py",
    "hashdemo/attacks/loop.py",
    "hashdemo/run/settings.py",
    "hashdemo/run/protocols.py",
    "hashdemo/retrieval/metrics.py",
    "hashdemo/systems/spec.py",
    "hashdemo/core/devices.py",  # what "auto" means
    "hashdemo/experiments/leaderboard.py",  # BUDGETS
    "hashdemo/experiments/report.py",  # REPORT_EPS
    "hashdemo/experiments/robustness.py",  # CURVE_EPS
}
PROTOCOL_CALLS = ("resolve", "get_protocol", "of")  # their first argument is a protocol name
GRIDS = {"the leaderboard's budgets": BUDGETS, "the report's budgets": REPORT_EPS, "the curves' budgets": CURVE_EPS}


def defaults() -> dict[str, object]:
    found = {b.name: b.param.default for b in run_fields() if b.name in WATCHED and b.param.default is not None}
    return found | {"protocol": DEFAULT_PROTOCOL, "model": DEFAULT_MODEL, "queries": 1000}  # 1000: the whole split


def restated(path: Path) -> list[str]:
    """Literal defaults in one file: a keyword, a parameter default or a dict entry named like a watched setting
    and equal to its default; the default model anywhere; the default protocol as a protocol call's first
    argument; the leaderboard's budgets as a tuple or list."""
    tree = ast.parse(path.read_text())
    wanted = defaults()
    out = []

    def hit(name: str | None, node: ast.AST) -> None:
        if name in wanted and isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            if node.value == wanted[name] and type(node.value) in (int, float, str):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}={node.value!r}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                hit(kw.arg, kw.value)
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in PROTOCOL_CALLS and node.args:
                hit("protocol", node.args[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args.args + node.args.kwonlyargs
            values = [None] * (len(node.args.args) - len(node.args.defaults)) + node.args.defaults
            values += node.args.kw_defaults
            for arg, value in zip(args, values, strict=True):
                if value is not None:
                    hit(arg.arg, value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    hit(key.value, value)
        elif isinstance(node, ast.Constant) and node.value == DEFAULT_MODEL:
            out.append(f"{path.relative_to(ROOT)}:{node.lineno}: the default model")
        elif isinstance(node, ast.Constant) and node.value == DEFAULT_PROTOCOL and path.parent.name == "pages":
            out.append(f"{path.relative_to(ROOT)}:{node.lineno}: the default protocol")  # pages name no optimiser
        elif isinstance(node, ast.Tuple | ast.List) and all(isinstance(e, ast.Constant) for e in node.elts):
            values = [e.value for e in node.elts]
            for name, budgets in GRIDS.items():
                if values == list(budgets):
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return out


def scanned() -> list[Path]:
    files = sorted((ROOT / "hashdemo").rglob("*.py")) + sorted((ROOT / "pages").glob("*.py"))
    return [f for f in files if str(f.relative_to(ROOT)) not in DECLARING]


def test_the_scan_finds_a_restated_default(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    sample = tmp_path / "sample.py"
    sample.write_text(
        'def f(eps=8.0, queries=1000):\n    return g("pgd", protocol="pgd", device="auto", **{"steps": 100})\n'
        'resolve("pgd", "hag")\nM = "zoo:fashion-dpsh-smallcnn-32"\nB = (8.0,)\nR = [4.0, 8.0, 16.0]\n'
    )
    found = restated(sample)
    assert len(found) == 9, found  # eps, queries, protocol twice, device, steps, the model, two budget grids
    sample.write_text('def f(eps=4.0, queries=200):\n    return g(protocol=P, optimiser="pgd", steps=20)\n')
    assert restated(sample) == []


def test_no_default_is_restated_outside_its_declaration():
    found = [line for path in scanned() for line in restated(path)]
    assert not found, "\n".join(found)


EXTRA = Param("colour", "teal", "a setting added for this test", choices=("teal", "amber"))


@pytest.fixture
def extended(monkeypatch):
    """A copy of RunSettings with one field more, in place of the real one for the duration of a test."""
    copy = make_dataclass(
        "RunSettings",
        [("colour", str, setting(EXTRA, "budget"))],
        bases=(settings_module.RunSettings,),
        frozen=True,
    )
    monkeypatch.setattr(settings_module, "RunSettings", copy)
    return copy


def test_a_new_field_reaches_every_run_command(extended):
    from hashdemo.cli import RUN_COMMANDS, build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name in RUN_COMMANDS:
        assert "--colour" in commands[name].format_help(), name


def test_a_new_field_reaches_the_json_and_the_checks(extended, cli):
    settings = settings_module.resolve(DEFAULT_PROTOCOL, "hag", {"colour": "amber"})
    assert settings.colour == "amber" and settings.to_json()["colour"] == "amber"
    assert settings.to_json()["colour"] in str(settings.result_json())  # the cache key holds it
    with pytest.raises(Exception, match="one of teal, amber"):
        settings_module.resolve(DEFAULT_PROTOCOL, "hag", {"colour": "red"})
    out = cli("attack", "--attack", "noise", "--queries", "2", "--colour", "amber", "--json")
    assert out.returncode == 0, out.stderr
    assert '"colour": "amber"' in out.stdout


def test_a_new_field_reaches_the_apps_controls(extended):
    at = open_page("compare.py", {"colour": "amber"})
    assert not at.exception
    assert at.sidebar.selectbox(key="compare:colour").value == "amber"  # a control, set by a link
