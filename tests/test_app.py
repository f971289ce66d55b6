"""The pages driven with Streamlit's AppTest: every control path, each attack once, uploads, URL, exports."""

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from hashdemo import attacks

ROOT = Path(__file__).resolve().parent.parent


def open_page(page: str, query_params: dict | None = None, timeout: int = 180) -> AppTest:
    """Open app.py, then the page, the way a user arrives through a shared link."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (query_params or {}).items():
        at.query_params[key] = value
    at.run()
    return at.switch_page(f"pages/{page}").run()


def lab(query_params: dict | None = None) -> AppTest:
    return open_page("1_Attack_Lab.py", query_params)


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label.startswith(label)).click()
    return at.run()


def metrics(at: AppTest) -> dict:
    return {m.label: m.value for m in at.metric}


def png(width=40, height=30, mode="RGB", color=(230, 230, 230), fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), color).save(buffer, format=fmt)
    return buffer.getvalue()


def test_landing_page_lists_the_zoo():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "hashdemo"
    models = at.dataframe[0].value["model"].tolist()
    assert "zoo:fashion-dpsh-smallcnn-32" in models


def test_lab_default_run_shows_every_view():
    at = lab()
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="method").value == "dpsh" and at.sidebar.selectbox(key="bits").value == 32
    at = click(at, "Run attack")
    assert not at.exception and not at.error
    shown = metrics(at)
    flipped = int(shown["Bits flipped"].split("/")[0])
    assert flipped > 0
    assert float(shown["L-inf (1/255)"]) <= 16.0 + 1e-6
    assert len(at.image) >= 8  # query, 3 views, 2 or 3 code strips, 2 grids
    assert at.get("plotly_chart")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "Hamming to clean code" in [t["name"] for t in spec["data"]]
    stored = at.session_state["lab"]
    exported = json.loads(stored["run"].to_json())
    assert exported["numbers"]["hamming_clean_adv"] == flipped
    assert {b.label for b in at.download_button} >= {"Figure for a paper (PNG, 7.2 in)", "Settings and numbers (JSON)"}
    at.selectbox(key="figure_width").set_value("3.5 in (one column)").run()
    at.selectbox(key="figure_format").set_value("pdf").run()
    assert "Figure for a paper (PDF, 3.5 in)" in {b.label for b in at.download_button}


@pytest.mark.parametrize("name", list(attacks.ATTACKS))
def test_each_attack_runs_from_the_page(name):
    at = lab({"attack": name, "steps": "20"})
    at = click(at, "Run attack")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["lab"]["run"].settings["attack"] == name
    if attacks.ATTACKS[name].targeted:
        assert any(label.startswith("t-AP@") for label in metrics(at))


def test_controls_and_protocol_selector():
    at = lab()
    assert at.sidebar.slider(key="eps").value == 16.0  # the lab protocol
    at.sidebar.selectbox(key="protocol").set_value("pga").run()
    assert at.sidebar.slider(key="eps").value == 8.0 and at.sidebar.slider(key="steps").value == 100
    at.sidebar.selectbox(key="attack").set_value("hag").run()
    at.sidebar.selectbox(key="protocol").set_value("hag").run()  # HAG's own optimiser: 2000 iterations, eps 0.039
    assert at.sidebar.slider(key="steps").value == 2000
    assert at.sidebar.slider(key="eps").value == pytest.approx(0.039 * 255)
    assert any("SGD" in c.value for c in at.sidebar.caption)  # what the protocol sets is listed
    at.sidebar.selectbox(key="protocol").set_value("pgd").run()
    at.selectbox(key="qclass").set_value("Bag").run()
    at.slider(key="qindex").set_value(7).run()
    at.sidebar.slider(key="t_hag").set_value(0.3).run()
    at.sidebar.slider(key="steps").set_value(40).run()
    at.slider(key="k").set_value(20).run()
    at = click(at, "Run attack")
    assert not at.exception and not at.error
    run = at.session_state["lab"]["run"]
    assert run.settings["t"] == 0.3 and len(run.clean.indices) == 20 and run.settings["steps"] == 40
    assert run.settings["protocol"] == "pgd" and run.settings["overridden"] == ["steps", "t"]
    assert run.settings["query_labels"] == "Bag"
    exported = json.loads(run.to_json())["settings"]
    assert exported["eps"] == 8.0 and exported["schedule"] == "hag" and exported["random_start"] is False
    at = click(at, "Random query")
    assert not at.exception


def test_target_label_is_used():
    at = lab({"attack": "dhta", "qclass": "Trouser"})
    at.selectbox(key="target").set_value("Sneaker").run()
    at = click(at, "Run attack")
    assert at.session_state["lab"]["run"].settings["target_label"] == "Sneaker"


def test_url_round_trip_reproduces_the_numbers():
    params = {
        "attack": "hag",
        "eps": "12.0",
        "steps": "30",
        "seed": "3",
        "qclass": "Coat",
        "qindex": "4",
        "step": "2.0",
    }
    first = click(lab(params), "Run attack")
    assert first.query_params["run"] == "1" and first.query_params["attack"] == "hag"
    # a new session opened from the same link runs by itself and gets the same numbers
    shared = {**params, "run": "1"}
    second = lab(shared)
    assert not second.exception
    numbers = {k: v for k, v in metrics(first).items() if k != "Attack time"}
    assert {k: v for k, v in metrics(second).items() if k != "Attack time"} == numbers
    a, b = first.session_state["lab"]["run"].result, second.session_state["lab"]["run"].result
    assert (a.adversarial == b.adversarial).all()


def upload(at: AppTest, data: bytes, name="image.png") -> AppTest:
    at.radio(key="source").set_value("Upload your own image").run()
    at.file_uploader(key="upload").set_value((name, data, "image/png"))
    return at.run()


@pytest.mark.parametrize(
    "data",
    [
        png(),
        png(mode="L", color=200),
        png(mode="RGBA", color=(10, 20, 30, 0)),
        png(mode="CMYK", color=(0, 50, 50, 0), fmt="JPEG"),
        png(mode="P", color=3),
        png(300, 120),
    ],
)
def test_good_uploads_are_converted_and_attacked(data):
    at = upload(lab(), data)
    assert not at.exception and not at.error
    assert any("Conversion:" in c.value for c in at.caption)
    at = click(at, "Run attack")
    assert not at.exception and not at.error
    assert at.session_state["lab"]["run"].result.images.shape == (1, 1, 28, 28)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"this is not an image", "not a readable image"),
        (png()[:60], "not a readable image"),
    ],
)
def test_bad_uploads_show_an_error_and_keep_the_page(data, message):
    at = upload(lab(), data)
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert at.sidebar.slider(key="eps").value == 16.0  # the rest of the page still works
    at.radio(key="source").set_value("From the query set").run()
    at = click(at, "Run attack")
    assert not at.exception and not at.error


def test_huge_upload_is_refused(monkeypatch):
    from hashdemo import uploads as lab_module

    monkeypatch.setattr(lab_module, "MAX_UPLOAD_PIXELS", 1000)
    from hashdemo.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="megapixels"):
        lab_module.convert_upload(png(100, 100), (1, 28, 28))
    with pytest.raises(InvalidInputError, match="limit is"):
        lab_module.convert_upload(b"x" * (lab_module.MAX_UPLOAD_BYTES + 1), (1, 28, 28))


def test_compare_page_runs_and_exports():
    params = {"queries": "20", "steps": "10", "attacks": ["noise", "pga", "dhta"]}
    at = open_page("2_Compare.py", params, timeout=300)
    assert not at.exception
    at = click(at, "Run comparison")
    assert not at.exception and not at.error
    table = next(m.value for m in at.markdown if "| Attack |" in m.value)
    assert "| Clean |" in table and "PgA" in table and "DHTA" in table
    assert len(at.get("plotly_chart")) == 4  # PR, precision@N, targeted PR and precision@N
    assert {b.label for b in at.download_button} >= {"Table as CSV", "Table as Markdown", "Table as LaTeX"}
    # reopening (a new session) reads the cache: no Run needed
    again = open_page("2_Compare.py", params, timeout=60)
    assert any(m.value == table for m in again.markdown)


def test_sweep_page_runs_and_rejects_bad_values():
    at = open_page("3_Sweep.py", {"queries": "10", "steps": "5"}, timeout=300)
    at.text_input(key="values").set_value("4, 16").run()
    at = click(at, "Run sweep")
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert sorted(set(table["eps"])) == [4.0, 16.0] and len(table) == 4
    assert {b.label for b in at.download_button} >= {"Values as CSV", "Values as Markdown", "Values as LaTeX"}
    at.text_input(key="values").set_value("4, lots").run()
    assert any("epsilon must be in [0, 255] (1/255)" in e.value and "'lots'" in e.value for e in at.error)
    at.selectbox(key="param").set_value("bits").run()
    at.text_input(key="values").set_value("16, 48").run()
    assert any("48" in e.value for e in at.error)
