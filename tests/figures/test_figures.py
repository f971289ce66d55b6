"""Figures and tables fit for a paper: exact width and DPI, vector output with its text, colour-blind safe
colours (checked under a deuteranopia simulation), exports that carry their settings."""

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from PIL import Image

from hashdemo.experiments import lab
from hashdemo.figures import charts, panels, tables
from hashdemo.figures.paper import paper_figure
from hashdemo.run.results import AttackReport
from hashdemo.run.settings import resolve

# Machado, Oliveira & Fernandes (2009), deuteranopia at severity 1.0, on linear RGB
DEUTERANOPIA = np.array(
    [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
)


def lightness(rgb, simulate: bool) -> float:
    """CIE L* of an sRGB colour, optionally as a deuteranope sees it."""
    c = np.asarray(rgb, dtype=float) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    if simulate:
        linear = np.clip(DEUTERANOPIA @ linear, 0, 1)
    y = float(linear @ np.array([0.2126, 0.7152, 0.0722]))
    return 116 * np.cbrt(y) - 16 if y > 216 / 24389 else 24389 / 27 * y


def test_relevant_and_irrelevant_frames_differ_in_lightness_for_deuteranopes():
    assert abs(lightness(panels.RELEVANT, True) - lightness(panels.IRRELEVANT, True)) > 20
    assert abs(lightness(panels.RELEVANT, False) - lightness(panels.IRRELEVANT, False)) > 20


def test_frames_also_differ_by_line_and_mark():
    grid = panels.retrieval_grid(torch.zeros(2, 1, 28, 28), [True, False], [0, 5], tile=56)
    image = np.asarray(grid)
    tile = image.shape[1] // 2
    # the bottom edge of each frame (frames are tile // 20 = 3 wide): solid for a relevant item, dashed for the other
    row = 3 + 56 + 2 * 3 - 2
    relevant, other = image[row, 3 : tile - 3], image[row, tile + 3 : 2 * tile - 3]
    assert (relevant == panels.RELEVANT).all(1).mean() > 0.9
    assert 0.2 < (other == panels.PAPER).all(1).mean() < 0.8
    # the badges: a check on blue, a cross on orange
    assert tuple(image[9, 9]) == panels.RELEVANT and tuple(image[9, tile + 9]) == panels.IRRELEVANT


def test_every_series_has_its_own_marker_or_dash_fixed_per_attack():
    from hashdemo.attacks import ATTACKS

    looks = [charts.style_for(name) for name in ATTACKS] + [charts.style_for(None)]
    assert len({(s.symbol, s.dash, s.color) for s in looks}) == len(looks)
    assert len({(s.symbol, s.dash) for s in looks}) == len(looks)  # distinct even in grey
    assert charts.style_for("pga") == charts.STYLES["pga"]  # its own, whatever the order
    assert set(charts.STYLES) == set(ATTACKS.names())  # every attack has its look


@pytest.fixture(scope="module")
def lab_run(system):
    data = system.dataset
    request = lab.LabRequest(resolve("lab", "ifgsm", model=system.spec), "query-3", None, 10)
    return lab.run_lab(system, request, data.query.images([3]), data.query.labels[[3]])


@pytest.mark.parametrize("width, pixels", [(3.5, 1050), (7.2, 2160)])
def test_paper_figure_png_has_the_width_and_dpi(system, lab_run, width, pixels):
    image = Image.open(io.BytesIO(paper_figure(system, lab_run, width)))
    assert image.width == pixels and image.info["dpi"][0] == pytest.approx(300, abs=0.01)


def test_paper_figure_pdf_embeds_its_font_and_svg_has_text_as_paths(system, lab_run):
    pdf = paper_figure(system, lab_run, 3.5, "pdf")
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf  # TrueType embedded: text is text
    svg = ET.fromstring(paper_figure(system, lab_run, 3.5, "svg"))
    names = {element.tag.split("}")[-1] for element in svg.iter()}
    assert "path" in names and "text" not in names  # glyphs as paths


def test_paper_figure_uses_the_apps_names(system, lab_run):
    svg = paper_figure(system, lab_run, 7.2, "svg", text_as_paths=False).decode()
    assert "DHTA + I-FGSM" in svg and "anchor code" in svg and "ifgsm" not in svg.replace("hashdemo: ifgsm", "")


def test_chart_png_for_print_has_width_dpi_and_no_title():
    if not charts.static_export_available():
        pytest.skip("chart export needs a Chromium")
    fig = charts.precision_at_n_figure([100, 200], {None: ("Clean", [0.9, 0.8]), "pga": ("PgA", [0.2, 0.1])}, "A title")
    png = Image.open(io.BytesIO(charts.to_image(fig, "png", width_in=3.5)))
    assert png.width == 1050 and png.info["dpi"][0] == pytest.approx(300, abs=0.01)
    assert charts.for_print(fig, 3.5, title=False).layout.title.text is None
    svg = charts.to_image(fig, "svg", width_in=3.5, title=False).decode()
    assert "A title" not in svg and "DejaVu Sans" in svg


SYSTEM = {
    "model": "zoo:m",
    "dataset": "fashion",
    "split": "seed 0",
    "backbone": "smallcnn",
    "method": "dpsh",
    "bits": 32,
    "weights": "0123abcd",
    "device": "cpu",
    "torch": "2.14.1",
}
COMMON = {
    "group": "x",
    "system": SYSTEM,
    "random_start": False,
    "optimiser": "pgd",
    "query_seed": 0,
    "setup_seconds": 0.0,
    "hamming_mean": 10.0,
    "settings": {},
}
REPORTS = [
    {
        "attack": "hag",
        "title": "HAG",
        "targeted": False,
        "model": "zoo:m",
        "protocol": "pgd",
        "queries": 100,
        "eps": 8.0,
        "step": 1.0,
        "steps": 100,
        "seed": 0,
        "topk": 1000,
        "t_topk": 1000,
        "map_clean": 0.85,
        "map_adv": 0.41,
        "perceptibility_rmse": 0.024,
        "linf_max": 8.0,
        "seconds_per_image": 0.03,
        "code_version": "abc",
    },
    {
        "attack": "dhta",
        "title": "DHTA",
        "targeted": True,
        "model": "zoo:m",
        "protocol": "pgd",
        "queries": 100,
        "eps": 8.0,
        "step": 1.0,
        "steps": 100,
        "seed": 0,
        "topk": 1000,
        "t_topk": 1000,
        "map_clean": 0.85,
        "map_adv": 0.51,
        "t_map_clean": 0.02,
        "t_map_adv": 0.24,
        "perceptibility_rmse": 0.025,
        "linf_max": 8.0,
        "seconds_per_image": 0.03,
        "code_version": "abc",
        "target_code": {"kind": "anchor", "title": "Anchor code", "map": 0.01, "t_map": 0.94},
    },
]
REPORTS = [AttackReport.from_json({**COMMON, **r}) for r in REPORTS]


def test_exports_carry_readable_headers_settings_and_consistent_blanks():
    csv = tables.render(REPORTS, "csv")
    lines = csv.splitlines()
    assert "# model: zoo:m" in lines and "# protocol: pgd" in lines and "# eps: 8/255" in lines
    assert "# weights: 0123abcd" in lines and "# dataset: fashion (seed 0)" in lines and "# device: cpu" in lines
    assert any(line.startswith("# hashdemo: ") for line in lines) and "# MAP@K: 1000" in lines
    header = next(line for line in lines if not line.startswith("#"))
    assert header == "Attack,MAP@1000,t-MAP@1000,Perc. (RMSE),L-inf (/255),Iterations,s / image"
    assert "HAG,0.4100,,0.0240" in csv  # a blank is empty in CSV
    md = tables.render(REPORTS, "md")
    assert md.startswith("*model zoo:m; dataset fashion (seed 0)") and "| HAG | **0.4100** | - |" in md
    assert "protocol pgd; queries 100; eps 8/255" in md
    tex = tables.render(REPORTS, "latex", label="tab:mine")
    assert "\\label{tab:mine}" in tex
    for piece in (
        "\\begin{table}",
        "\\caption{",
        "queries 100",
        "\\toprule",
        "\\midrule",
        "\\bottomrule",
        "\\textbf{0.2400}",
        "& -- &",
    ):
        assert piece in tex, piece


def test_an_attack_past_the_tables_budget_is_shown_but_not_ranked():
    unbounded = AttackReport.from_json(
        {
            **COMMON,
            **REPORTS[1].to_json(),
            "attack": "prosgan",
            "title": "ProS-GAN",
            "steps": 0,
            "eps": 255.0,
            "t_map_adv": 0.93,
            "map_adv": 0.02,
            "linf_max": 254.9,
        }
    )
    md = tables.render([*REPORTS, unbounded], "md")
    assert "| ProS-GAN | 0.0200 | 0.9300 |" in md  # not bold, though the lowest MAP and the highest t-MAP
    assert "| HAG | **0.4100** |" in md and "| DHTA | 0.5100 | **0.2400** |" in md


def test_a_spread_over_seeds_is_mean_and_sample_std_in_the_columns_format():
    spread = tables.Spread((0.40, 0.42, 0.44))
    assert f"{spread:.4f}" == "0.4200 ± 0.0200"  # sample std of 0.40, 0.42, 0.44 is 0.02
    assert f"{tables.Spread((8.0, 8.0000001)):.2f}" == "8.00"  # equal at the shown precision: one value
