"""The Attack Lab driven with AppTest: every view after one click, each attack from the page, controls and the
protocol selector, a target label, uploads and photos (good and bad), the exports, the advice on a miss."""

import io
import json

import pytest
from apptools import click, errors, lab, metrics, png, upload
from PIL import Image

from hashdemo import attacks


def test_default_run_shows_every_view():
    at = lab()
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="lab:method").value == "dpsh" and at.sidebar.selectbox(key="lab:bits").value == 32
    at = click(at, "Run attack")
    assert not at.exception and not at.error
    shown = metrics(at)
    flipped = int(shown["Bits flipped"].split("/")[0])
    assert flipped > 0 and float(shown["L-inf (1/255)"]) <= 16.0 + 1e-6
    assert list(shown)[:2] == ["P@10", "Bits flipped"]  # the headline first, right under the button
    assert len(at.image) >= 8  # query, 3 views, 2 grids, 2 or 3 code strips
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "Hamming to clean code" in [t["name"] for t in spec["data"]]
    exported = json.loads(at.session_state["lab"].to_json())
    assert exported["numbers"]["hamming_clean_adv"] == flipped
    assert exported["system"]["model"] == "zoo:fashion-dpsh-smallcnn-32" and exported["system"]["weights"]
    assert {b.label for b in at.download_button} >= {"Figure for a paper (PNG, 7.2 in)", "Settings and numbers (JSON)"}
    at.selectbox(key="figure_width").set_value("3.5 in (one column)").run()
    at.selectbox(key="figure_format").set_value("pdf").run()
    assert "Figure for a paper (PDF, 3.5 in)" in {b.label for b in at.download_button}
    assert "run=1" in "&".join(f"{k}={v}" for k, v in at.query_params.items())


@pytest.mark.parametrize("name", attacks.ATTACKS.names())
def test_each_attack_runs_from_the_page(name):
    at = lab({"attack": name, "steps": "20", "run": "1"})  # a link that runs on arrival
    assert not at.exception and not at.error, errors(at)
    assert at.session_state["lab"].settings.attack == name
    if attacks.ATTACKS.get(name).targeted:
        assert any(label.startswith("t-AP@") for label in metrics(at))
    if not attacks.ATTACKS.get(name).uses_budget:  # ProS-GAN: no eps, step or T it would ignore
        assert not any(w.label.startswith(("Epsilon", "Iterations")) for w in at.sidebar.number_input)


def test_controls_and_protocol_selector():
    at = lab()
    assert at.sidebar.number_input(key="lab:eps").value == 16.0  # the lab protocol
    at.sidebar.selectbox(key="lab:protocol").set_value("pga").run()
    assert at.sidebar.number_input(key="lab:eps").value == 8.0
    assert at.sidebar.number_input(key="lab:steps").value == 100
    at.sidebar.selectbox(key="lab:attack").set_value("hag").run()
    at.sidebar.selectbox(key="lab:protocol").set_value("hag").run()  # HAG's own optimiser: 2000 iterations
    assert at.sidebar.number_input(key="lab:steps").value == 2000
    assert at.sidebar.number_input(key="lab:eps").value == pytest.approx(0.039 * 255)
    assert any("SGD" in c.value for c in at.sidebar.caption)  # what the protocol sets is listed
    at.sidebar.selectbox(key="lab:protocol").set_value("pgd").run()
    at.selectbox(key="lab:qclass").set_value("Bag").run()
    at.number_input(key="lab:qindex").set_value(7).run()
    at.sidebar.slider(key="lab:t_hag").set_value(0.3).run()
    at.sidebar.number_input(key="lab:steps").set_value(40).run()
    at.number_input(key="lab:k").set_value(20).run()
    at = click(at, "Run attack")
    assert not at.exception and not at.error
    run = at.session_state["lab"]
    assert run.settings.method_params["t"] == 0.3 and len(run.clean.indices) == 20
    assert run.settings.budget.steps == 40 and run.settings.protocol == "pgd"
    assert run.settings.overridden == ("steps", "t") and run.query_caption == "Bag"
    exported = json.loads(run.to_json())["settings"]
    assert exported["eps"] == 8.0 and exported["schedule"] == "hag" and exported["effective"]["random_start"] is False
    assert not click(at, "Random query").exception


def test_the_sliders_and_boxes_take_the_declared_ranges():
    at = lab()
    eps, steps = at.sidebar.number_input(key="lab:eps"), at.sidebar.number_input(key="lab:steps")
    assert (eps.min, eps.max, eps.step) == (0.0, 255.0, 0.5) and (steps.min, steps.max) == (1, 5000)


def test_target_label_is_used():
    at = lab({"attack": "dhta", "qclass": "Trouser"})
    at.selectbox(key="lab:target").set_value("Sneaker").run()
    at = click(at, "Run attack")
    assert at.session_state["lab"].target_caption == "Sneaker"


def test_a_missed_target_is_explained():
    at = click(lab({"attack": "dhta", "steps": "3"}), "Run attack")
    assert any("was not reached" in w.value and "Try more iterations" in w.value for w in at.warning)


@pytest.mark.parametrize(
    "data",
    [
        png(),
        png(mode="L", color=200),
        png(mode="RGBA", color=(10, 20, 30, 0)),
        png(mode="CMYK", color=(0, 50, 50, 0), fmt="JPEG"),
        png(300, 120),
    ],
)
def test_good_uploads_are_converted_and_attacked(data):
    at = upload(lab(), data)
    assert not at.exception and not at.error
    assert any("Conversion:" in c.value for c in at.caption)
    at = click(at, "Run attack")
    assert not at.exception and not at.error
    assert at.session_state["lab"].result.images.shape == (1, 1, 28, 28)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"this is not an image", "not a readable image"),
        (png()[:60], "not a readable image"),
        (b"%PDF-1.4 not an image", "PNG, JPEG, GIF, BMP, TIFF and WebP images are accepted"),
    ],
)
def test_bad_uploads_show_an_error_and_keep_the_page(data, message):
    at = click(lab(), "Run attack")
    at = upload(at, data)
    assert not at.exception and any(message in e for e in errors(at))
    assert not at.metric  # no earlier result beside a disabled button
    assert at.sidebar.number_input(key="lab:eps").value == 16.0  # the rest of the page still works
    at.radio(key="lab:source").set_value("From the query set").run()
    at = click(at, "Run attack")
    assert not at.exception and not at.error


def test_a_photo_goes_through_the_same_conversion():
    at = lab()
    at.radio(key="lab:source").set_value("Take a photo").run()
    assert at.camera_input(key="camera") is not None and not at.exception


def test_animated_gif_says_its_first_frame_is_used():
    frames = [Image.new("L", (30, 30), c) for c in (10, 200, 90)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    at = upload(lab(), buffer.getvalue(), "anim.gif")
    assert any("the first of its 3 frames is used" in c.value for c in at.caption)


def test_the_opening_query_visibly_works_for_each_kind():
    for name in ("hag", "pga", "dhta", "tha"):
        at = lab({"attack": name, "run": "1"})
        n = at.session_state["lab"].numbers
        if n.t_p_adv is not None:
            assert n.t_p_adv >= 0.5 and n.t_p_clean == 0, (name, n)
        else:
            assert n.p_clean >= 0.8 and n.p_adv <= 0.2, (name, n)
        assert not at.warning and not at.exception


def test_the_scrubber_steps_through_the_iterations():
    at = lab({"attack": "pga", "steps": "30", "run": "1"})
    assert at.slider(key="scrub").max == 30 and at.slider(key="scrub").value == 30
    at.slider(key="scrub").set_value(0).run()
    run = at.session_state["lab"]
    assert len(run.result.snapshots) == 31 and run.result.snapshots[0].images is not None
    assert (run.result.snapshots[30].codes == run.result.adversarial_codes).all()
    assert not at.exception


def test_settings_in_the_users_units_and_no_chart_for_a_zero_step_attack():
    at = lab({"attack": "noise", "run": "1"})
    texts = [m.value for m in at.markdown if m.value.startswith("Settings of this run")]
    assert texts and "eps 16/255" in texts[0] and "{" not in texts[0] and "0.0627" not in texts[0]
    assert not at.get("plotly_chart") and any("no trajectory to draw" in c.value for c in at.caption)
    ap = next(m for m in at.metric if m.label == "AP@10")
    assert "stays 1.000 when the few relevant items" in ap.proto.help


def test_a_class_opening_one_link_computes_it_once():
    link = {"attack": "hag", "steps": "20", "run": "1"}
    first, second = lab(link), lab(link)  # two students' sessions on one server
    assert not second.exception and not second.error
    assert second.session_state["lab"] is first.session_state["lab"]
    other = lab({**link, "steps": "21"})  # a different setting is its own run
    assert other.session_state["lab"] is not first.session_state["lab"]


def test_sessions_asking_at_once_wait_for_one_computation(system):
    import threading
    import time

    from hashdemo.ui import resources

    calls, results = [], []

    def compute():
        calls.append(1)
        time.sleep(0.3)  # another session asks meanwhile
        return object()

    request = ("a request no page makes", time.time_ns())
    students = [
        threading.Thread(target=lambda: results.append(resources.lab_run_once(system, request, compute)))
        for _ in range(4)
    ]
    for thread in students:
        thread.start()
    for thread in students:
        thread.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1
