"""The fifteen defects a first user hit (issue "In front of a class"), each driven through the pages with
AppTest; layout defects (clipped text, results below the fold) are in test_browser.py."""

import io
import json
import tomllib
from pathlib import Path

import pytest
from PIL import Image
from test_app import click, lab, open_page, upload

ROOT = Path(__file__).resolve().parent.parent


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def sweep(params: dict):
    return open_page("3_Sweep.py", {"queries": "10", "steps": "5", **params}, timeout=300)


# 1 and 2: Sweep values are checked in the user's units, with the library's own message -----------------------
@pytest.mark.parametrize(
    "params, message",
    [
        ({"param": "eps", "values": "-4"}, "epsilon must be in [0, 255] (1/255) (default 8), got -4"),
        ({"param": "eps", "values": "1000"}, "epsilon must be in [0, 255] (1/255) (default 8), got 1000"),
        ({"param": "steps", "values": "0"}, "iterations T must be a whole number in [1, 5000]"),
        (
            {"param": "steps", "values": "2.5"},
            "iterations T must be a whole number in [1, 5000] (default 100), got 2.5",
        ),
        ({"param": "t", "values": "0.5", "attacks": ["pga"]}, "margin t (PgA) must be in (-1, 0)"),
        ({"param": "bits", "values": "128"}, "with 128 bits; available: 16, 32, 64"),
    ],
)
def test_sweep_bad_values_are_one_sentence_in_the_users_units(params, message):
    at = sweep(params)
    assert not at.exception
    assert any(message in e for e in errors(at)), errors(at)


# 3: a Sweep link keeps the attacks, the parameter (short names) and the values ------------------------------
def test_sweep_link_keeps_attacks_parameter_and_values():
    at = sweep({"param": "steps", "attacks": ["hag", "pga"], "values": "10, 20"})
    assert at.multiselect(key="attacks").value == ["hag", "pga"]
    assert at.selectbox(key="param").value == "steps" and at.text_input(key="values").value == "10, 20"
    at.selectbox(key="param").set_value("step").run()
    assert at.query_params["param"] in ("step", ["step"]) and at.text_input(key="values").value == "0.5, 1, 2, 4"
    assert at.query_params["attacks"] == ["hag", "pga"]


# 5: THA's one-off PrototypeNet training reports itself --------------------------------------------------------
def test_tha_setup_reports_the_prototype_training(system, tmp_path, monkeypatch):
    from hashdemo import lab as lab_module
    from hashdemo import prototype
    from hashdemo.protocols import resolve

    monkeypatch.setenv("HASHDEMO_CACHE", str(tmp_path))
    monkeypatch.setattr(prototype, "_MEMORY", {})
    seen = []
    data = system.dataset
    settings = resolve("lab", "tha", {"steps": 3, "proto_steps": 120})
    run = lab_module.run_lab(
        system,
        settings,
        data.query.images([0]),
        data.query.labels[[0]],
        progress=lambda t, total, text: seen.append(text),
    )
    assert any("training the PrototypeNet" in text for text in seen) and run.result.setup_seconds > 0


# 6: the opening view works for every kind of attack; a missed target says so and what to change ---------------
@pytest.mark.parametrize("name", ["hag", "pga", "dhta", "tha", "ifgsm"])
def test_the_opening_query_visibly_works_for_each_kind(name):
    at = click(lab({"attack": name}), "Run attack")
    assert not at.exception and not errors(at)
    n = at.session_state["lab"]["run"].numbers
    if "t_p_adv" in n:
        assert n["t_p_adv"] >= 0.5 and n["t_p_clean"] == 0, n
    else:
        assert n["p_clean"] >= 0.8 and n["p_adv"] <= 0.2, n
    assert not at.warning


def test_a_missed_target_is_explained():
    at = click(lab({"attack": "dhta", "steps": "3"}), "Run attack")
    assert any("was not reached" in w.value and "Try more iterations" in w.value for w in at.warning)


# 7: the model picker offers what exists and says when it snaps -------------------------------------------------
def test_model_picker_snaps_to_what_exists_and_says_so():
    at = lab()
    at.sidebar.selectbox(key="method").set_value("hashnet").run()
    at.sidebar.selectbox(key="bits").set_value(64).run()
    assert at.sidebar.selectbox(key="backbone").options == ["resnet18-cifar", "smallcnn"]
    at.sidebar.selectbox(key="backbone").set_value("resnet18-cifar").run()
    assert not at.exception and not errors(at)
    assert (at.sidebar.selectbox(key="method").value, at.sidebar.selectbox(key="bits").value) == ("dpsh", 32)
    captions = [c.value for c in at.sidebar.caption]
    assert any("method hashnet is not in the zoo for fashion / resnet18-cifar: showing dpsh" in c for c in captions)
    assert any("K 64 is not in the zoo for fashion / resnet18-cifar / dpsh: showing 32" in c for c in captions)
    at.sidebar.selectbox(key="dataset").set_value("fashion-mosaic").run()
    assert at.sidebar.selectbox(key="method").options == ["dpsh"] and not errors(at)
    at = click(at, "Run attack")
    assert at.session_state["lab"]["run"].settings["model"] == "zoo:fashion-mosaic-dpsh-smallcnn-32"


# 8: uploads: a clear message, no stale result beside a disabled button, animated GIFs said so -----------------
def test_non_image_upload_message_and_no_stale_result():
    at = click(lab(), "Run attack")
    assert at.session_state["lab"]
    at = upload(at, b"%PDF-1.4 not an image")
    shown = errors(at)
    assert any("not a readable image file: PNG, JPEG, GIF, BMP, TIFF and WebP images are accepted" in e for e in shown)
    assert not any("BytesIO" in e for e in shown)
    assert not [m for m in at.metric]  # the previous result is not on screen while Run is disabled


def test_animated_gif_says_its_first_frame_is_used():
    frames = [Image.new("L", (30, 30), c) for c in (10, 200, 90)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    at = upload(lab(), buffer.getvalue(), "anim.gif")
    assert any("the first of its 3 frames is used" in c.value for c in at.caption)


# 9: malformed link parameters are named, and nothing else runs in their place ----------------------------------
def test_malformed_link_parameters_are_named_and_nothing_runs():
    bad = {
        "eps": "abc",
        "attack": "nope",
        "qclass": "Nope",
        "seed": "1e99",
        "steps": "0",
        "qindex": "999",
        "alpha": "0",
        "run": "1",
    }
    at = lab(bad)
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    for piece in (
        "eps=abc",
        "attack=nope",
        "qclass=Nope",
        "seed=1e99",
        "steps=0",
        "qindex=999",
        "alpha=0 (not a setting of this page)",
        "Nothing runs by itself",
    ):
        assert piece in text, piece
    assert "lab" not in at.session_state  # run=1 did not run the defaults


def test_a_valid_link_runs_what_it_asks_k_included():
    at = lab({"attack": "hag", "k": "7", "steps": "20", "run": "1"})
    assert not at.warning
    run = at.session_state["lab"]["run"]
    assert len(run.clean.indices) == 7 and run.settings["steps"] == 20


# 10, 11, 13: readable settings, no chart for a zero-step attack, P@k first and no arrow for no change ----------
def test_attack_expander_reads_in_the_users_units():
    at = click(lab({"attack": "hag"}), "Run attack")
    texts = [m.value for m in at.markdown if m.value.startswith("Settings of this run")]
    assert texts and "eps 16/255" in texts[0] and "{" not in texts[0] and "0.0627" not in texts[0]


def test_noise_draws_no_trajectory():
    at = click(lab({"attack": "noise"}), "Run attack")
    assert not at.get("plotly_chart") and any("no trajectory to draw" in c.value for c in at.caption)


def test_precision_first_and_no_arrow_for_no_change():
    at = click(lab({"attack": "noise"}), "Run attack")
    labels = [m.label for m in at.metric]
    assert labels.index("P@10") < labels.index("AP@10")
    ap = next(m for m in at.metric if m.label == "AP@10")
    assert ap.proto.delta == "unchanged" and ap.proto.delta_arrow == "off" if hasattr(ap.proto, "delta_arrow") else True
    assert "stays 1.000 when the few relevant items" in ap.proto.help


# 12: Compare says the noise row is left out of the bold; its progress moves within an attack ------------------
def test_compare_progress_moves_within_each_attack(system):
    from hashdemo.evaluation import run_attack
    from hashdemo.protocols import resolve

    seen = []
    run_attack(
        system,
        resolve("pgd", "hag", {"queries": 8, "steps": 10, "seed": 5}),
        use_cache=False,
        progress=lambda done, total, text: seen.append((done, total, text)),
    )
    fractions = {round(done / total, 2) for done, total, _ in seen}
    assert len(fractions) >= 5 and seen[-1][0] == seen[-1][1] == 8


def test_compare_caption_says_noise_is_left_out_of_the_bold():
    at = open_page("2_Compare.py", {"queries": "10", "steps": "3", "attacks": ["noise", "hag"]}, timeout=300)
    at = click(at, "Run comparison")
    assert any("the noise baseline, the clean row and the code rows are left out" in c.value for c in at.caption)


# 14, 15: the iterations slider reaches 2000; no Deploy button; the home table's times are the index's ----------
def test_iterations_slider_reaches_the_papers_2000():
    assert lab().sidebar.slider(key="steps").max == 2000


def test_no_deploy_button_and_home_times_match_the_index():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "minimal"
    from streamlit.testing.v1 import AppTest

    home = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    index = json.loads((ROOT / "assets" / "zoo" / "index.json").read_text())["models"]
    table = home.dataframe[0].value
    assert table["training (s, 1 thread)"].tolist() == [m["train_seconds"] for m in index]
