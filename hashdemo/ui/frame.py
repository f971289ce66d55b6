"""The app's frame, run once around every page: the one page list (st.navigation, at the top so it is always
reachable), page config, the presentation mode for a projector and the shared CSS."""

from __future__ import annotations

import os
from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class PageInfo:
    path: str
    title: str
    icon: str
    url_path: str
    blurb: str


# the Lecture second: at a projector's width Streamlit folds the last pages under "more", and a class needs it
PAGES = (
    PageInfo("pages/home.py", "Home", ":material/home:", "", "the zoo and where to start"),
    PageInfo(
        "pages/lecture.py",
        "Lecture",
        ":material/co_present:",
        "Lecture",
        "eight steps from clean retrieval to defences and the papers' tables",
    ),
    PageInfo(
        "pages/how_hashing_works.py",
        "How hashing works",
        ":material/school:",
        "How_hashing_works",
        "one query, its code, the Hamming ranking",
    ),
    PageInfo(
        "pages/attack_lab.py",
        "Attack Lab",
        ":material/biotech:",
        "Attack_Lab",
        "one query under attack, every view a lecture needs",
    ),
    PageInfo(
        "pages/compare.py",
        "Compare",
        ":material/table_chart:",
        "Compare",
        "attacks side by side, the papers' tables and curves",
    ),
    PageInfo(
        "pages/sweep.py",
        "Sweep",
        ":material/show_chart:",
        "Sweep",
        "MAP against epsilon, step, iterations, bit length or margin",
    ),
    PageInfo(
        "pages/prosgan.py",
        "ProS-GAN",
        ":material/auto_awesome:",
        "ProS-GAN",
        "the generative attack, any query and any target at once",
    ),
    PageInfo(
        "pages/robustness.py",
        "Robustness",
        ":material/shield:",
        "Robustness",
        "defences, worst case, breaking budget, leaderboard",
    ),
    PageInfo(
        "pages/report.py",
        "Report",
        ":material/summarize:",
        "Report",
        "one model's robustness report: HTML, PDF and JSON",
    ),
    PageInfo(
        "pages/transfer.py",
        "Transfer",
        ":material/swap_horiz:",
        "Transfer",
        "perturbations from one model used on another; open-set targets",
    ),
)
BY_PATH = {p.path: p for p in PAGES}
# the pages by the views the core names (a lecture step says which view shows it, never a file)
VIEWS = {
    "how": "pages/how_hashing_works.py",
    "lab": "pages/attack_lab.py",
    "compare": "pages/compare.py",
    "robustness": "pages/robustness.py",
}

RUN_PLACE = "_run_place"
BASE_CSS = """<style>
[data-testid="stImage"] img { max-width: 100%; height: auto; }
[data-testid="stMainBlockContainer"] { padding-top: 4.5rem; }
</style>"""
# a projector: larger text, the page's width, compact title and metrics (a step's result fits the first screen)
PRESENTATION_CSS = """<style>
html { font-size: 22px; }
[data-testid="stMainBlockContainer"] { padding-top: 3.4rem; padding-bottom: 2rem; max-width: 100%; }
h1 { font-size: 1.5rem !important; padding: 0.2rem 0 0.4rem 0 !important; }
h2, h3 { font-size: 1.1rem !important; padding: 0.1rem 0 0.3rem 0 !important; }
[data-testid="stMetricValue"] { font-size: 1.3rem !important; }
[data-testid="stMetricLabel"] p { font-size: 0.7rem !important; }
[data-testid="stMetricDelta"] { font-size: 0.6rem !important; }
[data-testid="stSidebarContent"] { zoom: 0.75; }
[data-testid="stMain"] table { font-size: 0.8rem; }
</style>"""


CLASS_MODE = "HASHDEMO_CLASS"  # set by `python -m hashdemo.ui.serve --class`


def serving_a_class() -> bool:
    """`make class`: many students on a room's network open the lecturer's links, so a link may only choose among
    the models the server was started with (the zoo, $HASHDEMO_MODELS), never name a folder or a data root."""
    return os.environ.get(CLASS_MODE) == "1"


def presenting() -> bool:
    """Presentation mode (a projector): larger text and images; the sidebar starts folded away (its arrow in the
    header opens it), the page list stays at the top, and a button on the page leaves the mode."""
    if "present" not in st.session_state:
        st.session_state["present"] = st.query_params.get("present") in ("true", "True", "1")
    return bool(st.session_state["present"])


def controls_place():
    """Where a page's run button goes: the top of the sidebar in presentation mode (the result is the first screen,
    the button above the controls), the page otherwise. The frame makes that place first in every run."""
    return st.session_state.get(RUN_PLACE, st.sidebar) if presenting() else st


def leave_presentation() -> None:
    st.session_state["present"] = False


def navigation():
    """The one page list, as Streamlit's navigation (deep links: /Attack_Lab?attack=dhta&run=1)."""
    # no page icons here: Streamlit makes the current page's icon the tab's, fetched from Google's font servers
    pages = [st.Page(p.path, title=p.title, url_path=p.url_path or None, default=not p.url_path) for p in PAGES]
    return st.navigation(pages, position="top")


@st.cache_resource
def favicon():
    """The tab's icon, drawn here: a page icon given as :material/...: makes the browser fetch it from Google's
    font servers, and nothing at run time may ask another host for anything."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for i, bit in enumerate((1, 0, 1, 1, 0, 1, 0, 0, 1)):  # a 3x3 hash code, Okabe-Ito blue on white
        x, y = 2 + (i % 3) * 10, 2 + (i // 3) * 10
        draw.rectangle((x, y, x + 8, y + 8), fill=(0, 114, 178, 255) if bit else (220, 220, 220, 255))
    return image


def frame() -> None:
    """Page config, the presentation toggle and the CSS, once per run for whichever page runs."""
    present = presenting()
    st.set_page_config(
        page_title="hashdemo",
        page_icon=favicon(),
        layout="wide",
        initial_sidebar_state="collapsed" if present else "auto",
    )
    st.sidebar.toggle(
        "Presentation mode",
        key="present",
        help="For a projector: larger text and images, the sidebar folded away (the arrow at the top left opens it "
        "again). The page list stays at the top (on a narrow screen it moves into the sidebar); 'Leave presentation "
        "mode' on the page switches it off.",
    )
    st.session_state[RUN_PLACE] = st.sidebar.container()  # above every control of the page
    if present:
        if st.query_params.get("present") != "true":  # an unchanged URL adds no browser history entry
            st.query_params["present"] = "true"
        st.button(
            "Leave presentation mode", on_click=leave_presentation, icon=":material/close_fullscreen:", type="tertiary"
        )
    elif "present" in st.query_params:
        st.query_params.pop("present")
    st.markdown(BASE_CSS + (PRESENTATION_CSS if present else ""), unsafe_allow_html=True)


def headline(where, text: str) -> None:
    """What the page shows, one line under its title, on the first screen in every mode."""
    where.markdown(f"**{text}**")


def intro(text: str) -> None:
    """A page's line under its title; left out in presentation mode, where the screen is for the result."""
    if not presenting():
        st.caption(text)


def metric_columns(count: int) -> list:
    """Columns for `count` metrics: one row (up to five; presentation mode's CSS keeps them compact)."""
    per_row = min(count, 5)
    return [column for first in range(0, count, per_row) for column in st.columns(per_row)][:count]


def image_px(base: int) -> int:
    """Screen width of an image panel: 1.5x in presentation mode."""
    return int(base * 1.5) if presenting() else base


LECTURE_KEY = "lecture"  # a step page's link names its step: ?lecture=3
ARROW_KEYS = """<script>
const host = window.parent, doc = host.document;
// each page's frame brings its own handler (a frame's functions die with it when the page changes)
if (host.hashdemoArrows) doc.removeEventListener('keydown', host.hashdemoArrows);
host.hashdemoArrows = (event) => {
  if (['INPUT', 'TEXTAREA'].includes(event.target.tagName)) return;
  const label = {ArrowRight: 'Next step', ArrowLeft: 'Back to the lecture'}[event.key];
  if (!label) return;
  const links = [...doc.querySelectorAll('a')].filter((a) => a.offsetParent && a.innerText.includes(label));
  if (links.length) { event.preventDefault(); links[links.length - 1].click(); }
};
doc.addEventListener('keydown', host.hashdemoArrows);
</script>"""


def step_link(step_number: int, present: bool) -> tuple[str, dict]:
    """The page and URL of lecture step `step_number` (1-based), as the Lecture page links it."""
    from ..experiments.lecture import LECTURE

    step = LECTURE[step_number - 1]
    params = {**step.params, LECTURE_KEY: str(step_number)}
    return VIEWS[step.view], {**params, "present": "true"} if present else params


def lecture_nav() -> None:
    """On a page a lecture step opened (?lecture=N): "Back to the lecture" (to that step's card) and "Next step",
    at the top; in presentation mode the arrow keys press them."""
    from ..experiments.lecture import LECTURE

    number = st.query_params.get(LECTURE_KEY)
    if not (number or "").isdigit() or not 1 <= int(number) <= len(LECTURE):
        return
    n, present = int(number), presenting()
    back, forward = st.columns(2)
    home = {"step": str(n), **({"present": "true"} if present else {})}
    back.page_link("pages/lecture.py", label="Back to the lecture", icon=":material/arrow_back:", query_params=home)
    if n < len(LECTURE):
        page, params = step_link(n + 1, present)
        forward.page_link(
            page, label=f"Next step: {LECTURE[n].title}", icon=":material/arrow_forward:", query_params=params
        )
    if present:
        st.iframe(ARROW_KEYS, height=1)
