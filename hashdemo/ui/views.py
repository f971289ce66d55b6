"""How pages show result objects: images (always as PNG: Streamlit's default JPEG would blur a perturbation),
retrieval grids, code strips, metric rows, the iteration scrubber, and the query chooser with uploads."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st
import torch
from PIL import Image

from ..attacks import ATTACKS
from ..data.uploads import convert_upload
from ..experiments.lab import LabRun, Metric, Retrieval, at_iteration
from ..figures import charts, panels
from . import frame
from .controls import query_from_set
from .exports import chart
from .resources import Shared, show_error
from .state import PageState, url_selectbox

T = TypeVar("T")
DENSITY = 2  # panels with text are drawn at twice their screen size, then shown at it (see Png.of)


@dataclass(frozen=True)
class Png:
    """An image encoded once: its PNG bytes and its width in pixels."""

    data: bytes
    width: int

    @classmethod
    def of(cls, image: Image.Image, density: int = 1) -> Png:
        """The PNG of `image`; drawn at `density` times its screen size, first scaled to it as st.image does on the
        server for an image wider than asked (bilinear, width // density), so the pixels shown are the same."""
        if density > 1:
            width = max(1, image.width // density)
            image = image.resize((width, int(1.0 * image.height * width / image.width)), Image.BILINEAR)
        return cls(panels.png_bytes(image), image.width)


_views = Shared(256)  # drawings and figures kept for every session (about 50 MB at most)


def shared(key: Hashable, make: Callable[[], T]) -> T:
    """`make()`, made once for every browser session that shows the same thing (resources.Shared): `key` names all
    it depends on (a lab run's request, which names its model, query and settings; sizes). Drawing and encoding
    were most of a session's server time when a class opens one link at once (bench/class_load.py)."""
    return _views.get(key, make)


def drawn(key: Hashable, draw: Callable[[], Image.Image], density: int = 1) -> Png:
    """The PNG of `draw()` (drawn at `density` times its screen size), drawn and encoded once for every session
    (see `shared`)."""
    return shared(("png", key, density), lambda: Png.of(draw(), density))


def show_png(
    image: Image.Image | Png, caption: str | None = None, width: int | str = "content", where=st, density: int = 1
) -> None:
    """Every image goes out as PNG; one drawn at `density` times its screen size is shown 1/density as wide."""
    png = image if isinstance(image, Png) else Png.of(image, density)
    where.image(png.data, caption=caption, output_format="PNG", width=width)


def inline_png(image: Image.Image | Png, caption: str, width: int, where=st) -> None:
    """An image inside the page's HTML (a data URI): nothing to fetch, so a fast slider never shows a stale
    media link ("Image source error")."""
    png = image if isinstance(image, Png) else Png.of(image)
    data = base64.b64encode(png.data).decode()
    where.html(
        f'<figure style="margin:0"><img src="data:image/png;base64,{data}" alt="{caption}" '
        f'style="width:{width}px;max-width:100%"><figcaption style="font-size:0.8rem">{caption}</figcaption></figure>'
    )


def note(entry: tuple[str, str]) -> None:
    """The equation beside a view and what the view shows (explain.NOTES)."""
    equation, text = entry
    with st.expander("What this shows"):
        st.latex(equation)
        st.write(text)


def metric_row(metrics: list[Metric]) -> None:
    for column, m in zip(frame.metric_columns(len(metrics)), metrics, strict=True):
        column.metric(
            m.label,
            m.value,
            None if m.before is None else f"from {m.before}",
            delta_color="off",
            delta_arrow="off",
            help=m.help or None,
        )


@dataclass(frozen=True)
class Query:
    id: str  # query-<position>, or the digest of an uploaded or photographed image
    image: torch.Tensor  # (1, C, H, W) in [0,1]
    labels: torch.Tensor  # (1, C) bool
    caption: str


SOURCES = ("From the query set", "Upload your own image", "Take a photo")


def query_input(state: PageState, ask, shown, data) -> Query | None:
    """A query from the query split, an uploaded image or a camera photo, each converted to the dataset's format
    with every step shown; an unreadable file is an error in place and nothing else changes."""
    key = state.start("source", SOURCES[0], lambda t: {s: s for s in SOURCES}[t[-1]], "query source")
    source = ask.radio("Query", SOURCES, horizontal=True, key=key)
    state.write("source", source, SOURCES[0])
    names = list(data.class_names)
    if source == SOURCES[0]:
        position, caption = query_from_set(state, ask, data)
        image = data.query.images([position])
        show_png(panels.upscale(panels.to_pil(image[0]), frame.image_px(140)), caption, where=shown)
        return Query(f"query-{position}", image, data.query.labels[[position]], caption)
    if source == SOURCES[1]:
        file = ask.file_uploader("Image file (PNG, JPEG, GIF, BMP, TIFF, WebP; at most 20 MB)", key="upload")
    else:
        file = ask.camera_input("Photograph an object in the room", key="camera")
    ask.caption(
        "A link to this page (the address bar) carries its settings, not your image: whoever opens it sees the "
        "query set until they give an image of their own."
    )
    invert = ask.selectbox(
        "Invert",
        ["auto", "yes", "no"],
        key="invert",
        help="Fashion-MNIST items are light on black; auto inverts photos with a light border.",
    )
    label = ask.selectbox("What is it? (for relevance and label-using attacks)", names, key="upload_label")
    if file is None:
        shown.info("Give an image to attack it; its conversion to the dataset's format is shown here.")
        return None
    raw = file.getvalue()
    try:
        converted = convert_upload(raw, data.image_shape, {"auto": None, "yes": True, "no": False}[invert])
    except Exception as exc:
        show_error(exc, shown)
        return None
    labels = torch.zeros(1, data.num_classes, dtype=torch.bool)
    labels[0, names.index(label)] = True
    show_png(panels.upscale(converted.converted, frame.image_px(140)), "what the model sees", where=shown)
    shown.caption("Conversion: " + "; ".join(converted.steps) + ".")
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return Query(f"upload-{digest}-{invert}-{label}", converted.tensor, labels, f"your image ({label})")


def target_input(state: PageState, container, system, attack_cls, query: Query | None) -> tuple[bool, ...] | None:
    """The target label of a targeted attack (None: drawn with the seed); labels the query carries are not offered."""
    if not attack_cls.targeted or query is None:
        return None
    names = list(system.dataset.class_names)
    allowed = [n for i, n in enumerate(names) if not bool(query.labels[0, i])]
    unseen = {names[c] for c in system.card.held_out_classes}
    target = url_selectbox(
        state,
        container,
        "Target label",
        ["random", *allowed],
        "target",
        "random",
        format_func=lambda n: f"{n} (never seen in training)" if n in unseen else n,
        help="Targeted attacks make the system return items of this label, which the query does not carry "
        "(random: drawn with the seed). A label never seen in training is an open-set target (DHTA appendix).",
    )
    if target not in allowed:
        return None
    return tuple(i == names.index(target) for i in range(len(names)))


def target_caption(system, attack_cls, target: tuple[bool, ...] | None, run: LabRun | None) -> str | None:
    """The target label a headline names: the run's (drawn with the seed when none was chosen), or the choice."""
    if not attack_cls.targeted:
        return None
    if run is not None:
        return run.target_caption
    return "drawn with the seed" if target is None else system.dataset.label_names(torch.tensor(target))


def live_trace(slot, bits: int, attack_cls, every: float = 0.3):
    """A watcher for the attack (run_lab's `watch`): the Hamming distance over iterations redrawn in `slot` at most
    every `every` seconds while the attack runs, from `every` seconds after it starts (a run done sooner shows its
    result straight away; the full chart with the scrubber follows the result)."""
    rows: dict[str, list[int]] = {"to the clean code": []}
    last = [time.monotonic()]

    def watch(t: int, to_clean, to_target) -> None:
        rows["to the clean code"].append(int(to_clean[0]))
        if to_target is not None:
            rows.setdefault(f"to the {attack_cls.target_kind or 'target'} code", []).append(int(to_target[0]))
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            slot.line_chart(rows, x_label="iteration t", y_label=f"Hamming distance (of {bits} bits)", height=220)

    return watch


def attack_images(run: LabRun, px: int) -> None:
    """Original | adversarial | perturbation (full scale as panels.perturbation_scale says) | ProS-GAN's map."""
    result = run.result
    scale = panels.perturbation_scale(run.settings.budget.eps, float(result.linf[0]))
    perturbation, gain = panels.perturbation_image(result.perturbation[0], scale)
    semantic_map = getattr(result.plan, "semantic_map", None)
    shown = [
        ("original", lambda: panels.to_pil(result.images[0])),
        ("adversarial", lambda: panels.to_pil(result.adversarial[0])),
        (f"perturbation x{gain:.1f} (red +, blue -; +-{scale * 255:.3g}/255 = full scale)", lambda: perturbation),
    ]
    if semantic_map is not None:
        decoded = lambda: panels.to_pil((semantic_map[0].cpu() + 1) / 2)
        shown.append(("decoded semantic map D_t(r_t) of the target label", decoded))
    for column, (caption, image) in zip(st.columns(len(shown)), shown, strict=True):
        png = drawn((run.request, "image", caption, px), lambda image=image: panels.upscale(image(), px))
        show_png(png, caption, "stretch", column)


def first_screen(data, run: LabRun, px: int) -> None:
    """Presentation mode: the result in one screen: headline numbers, then original | adversarial | perturbation
    beside the adversarial top-k (both drawn with their labels at twice the screen size)."""
    result = run.result

    def row() -> Image.Image:
        scale = panels.perturbation_scale(run.settings.budget.eps, float(result.linf[0]))
        perturbation, gain = panels.perturbation_image(result.perturbation[0], scale)
        size, text = px * DENSITY, max(22, px * DENSITY // 9)
        shown = [
            (panels.to_pil(result.images[0]), "original"),
            (panels.to_pil(result.adversarial[0]), "adversarial"),
            (perturbation, f"perturbation x{gain:.1f}"),
        ]
        return panels.stack(
            [panels.caption_below(panels.upscale(image, size), [caption], text) for image, caption in shown],
            "horizontal",
            gap=text,
        )

    images, top = st.columns([3, 2], gap="medium")
    show_png(drawn((run.request, "first screen", px), row), width="stretch", where=images)
    top.markdown(f"**adversarial query: top {len(run.adversarial.indices)}**")
    tiles = drawn((run.request, "top-k", px // 2, 5), lambda: grid(data, run.adversarial, px // 2, per_row=5))
    show_png(tiles, width="stretch", where=top)


def grid(data, ret: Retrieval, tile: int, per_row: int = 10):
    return panels.retrieval_grid(
        data.database.images(ret.indices),
        ret.relevant.tolist(),
        ret.distances.tolist(),
        None if ret.target_hit is None else ret.target_hit.tolist(),
        tile=tile * DENSITY,
        per_row=per_row,
    )


def retrieval_pair(data, run: LabRun, tile: int) -> None:
    for title, ret in (("original query", run.clean), ("adversarial query", run.adversarial)):
        st.markdown(f"**{title}**")
        show_png(drawn((run.request, title, tile), lambda ret=ret: grid(data, ret, tile), DENSITY))


def code_strips(run: LabRun, bits: int) -> None:
    result, n = run.result, run.numbers
    strips = [
        ("clean code", lambda: panels.code_strip(result.clean_codes[0])),
        (
            f"adversarial code: {n.hamming_clean_adv} of {bits} bits flipped (framed)",
            lambda: panels.code_strip(result.adversarial_codes[0], result.clean_codes[0]),
        ),
    ]
    if result.target_codes is not None:
        kind = run.attack.target_kind or "target"
        strips.append(
            (
                f"{kind} code (Hamming to adversarial: {n.hamming_target_adv}, to clean: {n.hamming_target_clean})",
                lambda: panels.code_strip(result.target_codes[0]),
            )
        )
    for title, strip in strips:
        show_png(drawn((run.request, "code", title), lambda title=title, strip=strip: panels.titled(strip(), title)))


def scrubber(system, run: LabRun, code_map) -> None:
    """Step through the iterates x_t of a run: image, code, top-k, and the code's path on the 2-D map."""
    result = run.result
    steps = len(result.snapshots) - 1
    if steps < 2:
        return
    st.subheader("Step through the iterations")
    path = shared(
        (run.request, "map path"),
        lambda: code_map.project(torch.stack([s.codes[0].cpu() for s in result.snapshots.values()])).tolist(),
    )
    left, right = st.columns([2, 3])
    t = left.slider("Iteration t", 0, steps, steps, key="scrub", help="the iterate x_t of this run")
    play = left.button("Play", icon=":material/play_arrow:", help="run through the iterations from 0")
    image_slot, chart_slot = left.empty(), right.empty()
    names = list(system.dataset.class_names)

    def draw(t: int) -> None:
        """x_t, its code and its top-k; each drawn (and its top-k ranked) once for every session."""
        shot = result.snapshots[t]
        px = frame.image_px(168)
        with image_slot.container():
            picture = drawn((run.request, "x_t", t, px), lambda: panels.upscale(panels.to_pil(shot.images[0]), px))
            inline_png(picture, f"x_{t}", px)
            strip = drawn(
                (run.request, "code_t", t),
                lambda: panels.code_strip(shot.codes[0], result.clean_codes[0], cell=10 * DENSITY),
            )
            inline_png(strip, f"code at t = {t}", strip.width // DENSITY)
            tiles = drawn(
                (run.request, "top-k_t", t), lambda: grid(system.dataset, at_iteration(system, run, t), 36, per_row=5)
            )
            inline_png(tiles, f"top {len(run.clean.indices)} at t = {t}", tiles.width // DENSITY)
        marks = {"query": path[0], f"t = {t}": path[t]}
        chart_slot.plotly_chart(
            shared(
                (run.request, "map", t),
                lambda: charts.code_map_figure(code_map, names, marks, path[: t + 1], "Map of the codes"),
            ),
            theme=None,
            key=f"map-{t}-{time.time_ns()}",
        )

    frames = sorted({round(i * steps / 24) for i in range(25)}) if play else [t]
    for frame_t in frames:
        draw(frame_t)
        if play:
            time.sleep(0.25)
    st.caption(
        "The map shows the database codes on their first two principal axes (jittered a little: many codes "
        "coincide). The star moves from the query's clean code along the path its code takes during the attack."
    )


def chart_pair():
    """Two charts side by side; one under the other in presentation mode, where half a projector's width cuts
    their titles."""
    return (st.container(), st.container()) if frame.presenting() else st.columns(2)


def curve_charts(curves: dict[str, dict], stem: str, key: Hashable) -> None:
    """The papers' curves of a comparison: precision-recall and precision@N, and for targeted attacks the same
    against the target labels; one colour, marker and dash per attack, black for the clean queries. `key` names
    the runs the curves come from (their figures are built once for every session, see `shared`)."""
    first = next(iter(curves.values()))
    title = lambda name: ATTACKS.get(name).title
    pr = {None: ("Clean", (first["pr_clean"]["precision"], first["pr_clean"]["recall"]))}
    pr |= {n: (title(n), (c["pr_adv"]["precision"], c["pr_adv"]["recall"])) for n, c in curves.items()}
    p_at = {None: ("Clean", first["p_at_n_clean"])} | {n: (title(n), c["p_at_n_adv"]) for n, c in curves.items()}
    left, right = chart_pair()
    with left:
        figure = shared((key, "pr"), lambda: charts.pr_figure(pr, "Precision-recall (Hamming radius 0..K)"))
        chart(figure, "pr", f"{stem}-pr")
    with right:
        chart(
            shared((key, "pn"), lambda: charts.precision_at_n_figure(first["ns"], p_at)), "pn", f"{stem}-precision-at-n"
        )
    targeted = {n: c for n, c in curves.items() if "t_p_at_n_adv" in c}
    if not targeted:
        return
    t_first = next(iter(targeted.values()))
    t_pr = {None: ("Clean", (t_first["t_pr_clean"]["precision"], t_first["t_pr_clean"]["recall"]))}
    t_pr |= {n: (title(n), (c["t_pr_adv"]["precision"], c["t_pr_adv"]["recall"])) for n, c in targeted.items()}
    t_p = {None: ("Clean", t_first["t_p_at_n_clean"])} | {n: (title(n), c["t_p_at_n_adv"]) for n, c in targeted.items()}
    left, right = chart_pair()
    with left:
        t_pr_title = "Targeted precision-recall<br><sup>relevance = the target label</sup>"
        chart(shared((key, "tpr"), lambda: charts.pr_figure(t_pr, t_pr_title)), "tpr", f"{stem}-t-pr")
    with right:
        t_p_title = "Targeted precision@N<br><sup>relevance = the target label</sup>"
        figure = shared(
            (key, "tpn"), lambda: charts.precision_at_n_figure(t_first["ns"], t_p, t_p_title, "t-precision")
        )
        chart(figure, "tpn", f"{stem}-t-precision-at-n")
