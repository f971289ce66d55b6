"""The app's frame, run once around every page: the one page list (st.navigation, at the top so it is always
reachable), page config, the presentation mode for a projector and the shared CSS."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class PageInfo:
    path: str
    title: str
    icon: str
    url_path: str
    blurb: str


PAGES = (
    PageInfo("pages/home.py", "Home", ":material/home:", "", "the zoo and where to start"),
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
    PageInfo(
        "pages/lecture.py",
        "Lecture",
        ":material/co_present:",
        "Lecture",
        "eight steps from clean retrieval to defences and the papers' tables",
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
</style>"""


def presenting() -> bool:
    """Presentation mode (a projector): larger text and images; the sidebar starts folded away (its arrow in the
    header opens it), the page list stays at the top, and a button on the page leaves the mode."""
    if "present" not in st.session_state:
        st.session_state["present"] = st.query_params.get("present") in ("true", "True", "1")
    return bool(st.session_state["present"])


def controls_place():
    """Where a page's run button goes: the sidebar in presentation mode (the result is the first screen)."""
    return st.sidebar if presenting() else st


def leave_presentation() -> None:
    st.session_state["present"] = False


def navigation():
    """The one page list, as Streamlit's navigation (deep links: /Attack_Lab?attack=dhta&run=1)."""
    pages = [
        st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path or None, default=not p.url_path) for p in PAGES
    ]
    return st.navigation(pages, position="top")


def frame() -> None:
    """Page config, the presentation toggle and the CSS, once per run for whichever page runs."""
    present = presenting()
    st.set_page_config(page_title="hashdemo", layout="wide", initial_sidebar_state="collapsed" if present else "auto")
    st.sidebar.toggle(
        "Presentation mode",
        key="present",
        help="For a projector: larger text and images, the sidebar folded away (the arrow at the top left opens it "
        "again). The page list stays at the top (on a narrow screen it moves into the sidebar); 'Leave presentation "
        "mode' on the page switches it off.",
    )
    if present:
        if st.query_params.get("present") != "true":  # an unchanged URL adds no browser history entry
            st.query_params["present"] = "true"
        st.button(
            "Leave presentation mode", on_click=leave_presentation, icon=":material/close_fullscreen:", type="tertiary"
        )
    elif "present" in st.query_params:
        st.query_params.pop("present")
    st.markdown(BASE_CSS + (PRESENTATION_CSS if present else ""), unsafe_allow_html=True)


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
