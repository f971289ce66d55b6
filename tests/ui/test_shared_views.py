"""What pages draw once for every browser session (a class opening one link at once; made once under concurrency:
test_app_lab, through the same resources.Shared): the same pixels st.image would have shown, and the served app's
settings that keep a session cheap."""

import io
import tomllib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from streamlit.elements.lib.image_utils import _ensure_image_size_and_format
from streamlit.elements.lib.layout_utils import LayoutConfig

from hashdemo.ui import views

ROOT = Path(__file__).resolve().parents[2]


def test_a_dense_drawing_shows_the_pixels_st_image_would_have_shown():
    """Png.of(image, 2) equals Streamlit's own server-side shrink of the 2x PNG to half its width."""
    image = Image.new("RGB", (301, 117), "white")
    draw = ImageDraw.Draw(image)
    draw.text((5, 5), "d = 13", fill="black")
    draw.rectangle((100, 20, 180, 90), outline=(0, 114, 178), width=3)
    png = views.Png.of(image, views.DENSITY)
    theirs = _ensure_image_size_and_format(
        views.Png.of(image).data, LayoutConfig(width=image.width // views.DENSITY), "PNG"
    )
    ours, shrunk = Image.open(io.BytesIO(png.data)), Image.open(io.BytesIO(theirs))
    assert ours.size == shrunk.size == (150, 58) and png.width == 150
    assert np.array_equal(np.asarray(ours), np.asarray(shrunk))


def test_the_served_app_neither_watches_its_source_nor_collects_after_each_run():
    """Measured (bench/class_load.py's sessions, 2 cores): a new session's server CPU was 1.7 s with the file
    watcher and a full garbage collection after each run, 0.2 s without."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none" and config["server"]["runOnSave"] is False
    assert config["runner"]["postScriptGC"] is False


def test_the_lab_draws_the_hamming_distance_while_the_attack_runs(system, monkeypatch):
    """The Attack Lab's watcher (views.live_trace) redraws the distance-to-clean and distance-to-target curves in
    its slot during the run, at most every `every` seconds, each time with every iteration so far; the last
    drawing agrees with the finished run's trace."""
    from hashdemo.experiments import lab
    from hashdemo.run.settings import resolve

    drawn = []

    class Slot:
        def line_chart(self, rows, **_kwargs):
            drawn.append({name: list(values) for name, values in rows.items()})

    clock = iter(range(100, 10_000))  # the watcher starts at 100 s; one second passes at each iteration
    monkeypatch.setattr(views.time, "monotonic", lambda: next(clock))
    settings = resolve("lab", "dhta", {"steps": 12}, model=system.spec)
    request = lab.LabRequest(settings, "query-3", None, 10)
    watch = views.live_trace(Slot(), system.bits, lab.attacks.ATTACKS.get("dhta"), every=2)
    data = system.dataset
    run = lab.run_lab(system, request, data.query.images([3]), data.query.labels[[3]], watch=watch)
    assert len(drawn) == 6  # at 102, 104, ..., 112 s: every second iteration of 13, none before 2 s have passed
    assert len(drawn[0]["to the clean code"]) == 2
    assert [len(d["to the clean code"]) for d in drawn] == sorted({len(d["to the clean code"]) for d in drawn})
    last = drawn[-1]
    assert set(last) == {"to the clean code", "to the anchor code"}
    trace = run.result.trace.hamming_to_clean[:, 0].tolist()
    assert last["to the clean code"] == trace[: len(last["to the clean code"])]
