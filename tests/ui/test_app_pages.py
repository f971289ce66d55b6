"""The other pages driven with AppTest: Home, How hashing works, Compare, Sweep, ProS-GAN, the model picker over
the zoo and the user's folders, presentation mode, and the exports each page offers."""

import json
import tomllib
from dataclasses import replace

import pytest
from apptools import ROOT, click, errors, lab, open_page
from streamlit.testing.v1 import AppTest


def test_home_lists_the_models_and_every_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and at.title[0].value == "hashdemo"
    table = at.dataframe[0].value
    assert "zoo:fashion-dpsh-smallcnn-32" in table["model"].tolist()
    index = json.loads((ROOT / "assets" / "zoo" / "index.json").read_text())["models"]
    meta = [json.loads((ROOT / "assets" / "zoo" / name / "meta.json").read_text()) for name in index]
    assert table["training (s, 1 thread)"].tolist()[: len(index)] == [m["train_seconds"] for m in meta]
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "minimal"  # no Deploy button


def test_how_hashing_works_shows_every_stage():
    at = open_page("how_hashing_works.py", {"qclass": "Trouser", "qindex": "2"})
    assert not at.exception and not at.error
    assert [h.value for h in at.subheader][:5] == [
        "1. The network's K outputs",
        "2. Their signs are the code",
        "3. Hamming distance to every database item",
        "4. The top-k",
        "5. The map of Hamming space",
    ]
    assert len(at.get("plotly_chart")) == 3 and len(at.image) >= 3
    assert at.selectbox(key="how:qclass").value == "Trouser"


def test_model_picker_offers_what_exists_and_says_when_a_choice_moves():
    at = lab()
    at.sidebar.selectbox(key="lab:method").set_value("hashnet").run()
    at.sidebar.selectbox(key="lab:bits").set_value(64).run()
    assert "resnet18-cifar" in at.sidebar.selectbox(key="lab:backbone").options
    at.sidebar.selectbox(key="lab:backbone").set_value("resnet18-cifar").run()
    assert not at.exception and not errors(at)
    assert at.sidebar.selectbox(key="lab:method").value == "dpsh"
    captions = [c.value for c in at.sidebar.caption]
    assert any("Hashing method hashnet is not available here: showing dpsh" in c for c in captions)
    at.sidebar.selectbox(key="lab:dataset").set_value("fashion-mosaic").run()
    assert at.sidebar.selectbox(key="lab:method").options == ["dpsh"] and not errors(at)
    at = click(at, "Run attack")
    assert at.session_state["lab"].settings.model.source == "zoo:fashion-mosaic-dpsh-smallcnn-32"


def test_a_model_folder_that_does_not_exist_is_an_error_in_place():
    at = lab({"folder": "/no/such/model"})
    assert not at.exception and any("not found" in e for e in errors(at))


def test_compare_runs_and_exports():
    params = {"queries": "20", "steps": "10", "attacks": ["noise", "pga", "dhta"]}
    at = open_page("compare.py", params, timeout=300)
    assert not at.exception
    at = click(at, "Run comparison")
    assert not at.exception and not at.error
    table = next(m.value for m in at.markdown if "| Attack |" in m.value)
    assert "| Clean |" in table and "PgA" in table and "DHTA" in table
    assert any("weights" in c.value for c in at.caption)  # the caption under the table says what was attacked
    assert len(at.get("plotly_chart")) == 4  # PR, precision@N, targeted PR and precision@N
    assert {b.label for b in at.download_button} >= {"Table as CSV", "Table as Markdown", "Table as LaTeX"}
    assert any(
        "the noise baseline, the clean and code rows, and an attack past the budget" in c.value for c in at.caption
    )
    again = open_page("compare.py", params, timeout=60)  # a new session reads the cache: no Run needed
    assert any(m.value == table for m in again.markdown)


def test_compare_bounds_the_queries_by_the_data():
    at = open_page("compare.py", {"queries": "5000"})
    assert not at.exception and any("queries" in w.value and "[1, 1000]" in w.value for w in at.warning)


def sweep(params: dict):
    return open_page("sweep.py", {"queries": "10", "steps": "5", **params}, timeout=300)


def test_sweep_runs_and_shows_a_dash_for_what_does_not_apply():
    at = sweep({"attacks": ["pga", "dhta"], "values_eps": "4, 16"})
    at = click(at, "Run sweep")
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert sorted(set(table["eps"])) == ["16", "4"] and len(table) == 4
    assert "-" in table["t-MAP"].tolist() and "None" not in table["t-MAP"].tolist()
    assert {b.label for b in at.download_button} >= {"Values as CSV", "Values as Markdown", "Values as LaTeX"}


@pytest.mark.parametrize(
    "params, message",
    [
        ({"param": "eps", "values_eps": "-4"}, "epsilon must be in [0, 255] (1/255) (default 8), got -4"),
        ({"param": "steps", "values_steps": "2.5"}, "iterations T must be a whole number in [1, 5000]"),
        ({"param": "t", "values_t": "0.5", "attacks": ["pga"]}, "margin t (PgA) must be in (-1, 0)"),
        ({"param": "bits", "values_bits": "16, 48"}, "with 48 bits; available: 16, 32, 64"),
    ],
)
def test_sweep_bad_values_are_one_sentence_in_the_users_units(params, message):
    at = sweep(params)
    assert not at.exception and any(message in e for e in errors(at)), errors(at)


def test_sweep_link_keeps_attacks_setting_and_values():
    at = sweep({"param": "steps", "attacks": ["hag", "pga"], "values_steps": "10, 20"})
    assert at.multiselect(key="sweep:attacks").value == ["hag", "pga"]
    assert at.selectbox(key="sweep:param").value == "steps"
    assert at.text_input(key="sweep:values_steps").value == "10, 20"
    at.selectbox(key="sweep:param").set_value("step").run()
    assert at.text_input(key="sweep:values_step").value == "0.5, 1, 2, 4"


def test_prosgan_page_shows_the_generator_and_a_grid(monkeypatch):
    from hashdemo.experiments import frontier

    fgsm = next(c for c in frontier.QUICK if c.attack == "fgsm")  # one step: the fewest seconds that span RMSE 0.09
    monkeypatch.setattr(frontier, "QUICK", (replace(fgsm, budgets=(16, 48)),))
    at = open_page("prosgan.py", {"queries": ["Trouser"], "targets": ["Bag", "Sneaker"]})
    assert not at.exception and not at.error
    assert at.get("plotly_chart") and len(at.image) >= 1
    assert {b.label for b in at.download_button} >= {"Grid as PNG"}
    assert any("Not measured yet" in i.value for i in at.info)
    at.number_input(key="frontier-queries").set_value(10).run()
    charts = len(at.get("plotly_chart"))
    at = click(at, "Measure the frontier")
    assert not at.exception and not at.error and len(at.get("plotly_chart")) == charts + 1
    verdicts = [m.value for m in at.markdown if "wins" in m.value]
    assert verdicts and "ProS-GAN prosgan" in verdicts[0]  # the faithful generator, placed against the curves
    assert at.number_input(key="prosgan:bound").value == 0 and at.number_input(key="prosgan:lr").value == 1e-4
    at.selectbox(key="recipe").set_value("residual, past the paper (for a CPU)").run()  # its values fill the form
    assert at.number_input(key="prosgan:bound").value == 255 and at.number_input(key="prosgan:lr").value == 1e-3
    assert at.number_input(key="prosgan:ham_scale").value == 0.1 and at.number_input(key="prosgan:beta").value == 100


def test_presentation_mode_enlarges_and_can_always_be_left():
    at = lab()
    assert not any("font-size: 22px" in m.value for m in at.markdown)
    at.sidebar.toggle(key="present").set_value(True).run()
    assert any("font-size: 22px" in m.value for m in at.markdown)
    assert not any("stHeader" in m.value for m in at.markdown)  # the header (and the sidebar's arrow) stays
    at = click(at, "Leave presentation mode")
    assert not any("font-size: 22px" in m.value for m in at.markdown) and not at.exception
