"""Report: the robustness report of one model (the same as `python -m hashdemo report`), made section by section
with a progress bar and Stop, shown here, downloadable as HTML, PDF and JSON."""

import json

import streamlit as st

from hashdemo.experiments.report import REPORT_QUERIES, SECTIONS, make_report
from hashdemo.figures.report_doc import to_html, to_pdf
from hashdemo.run.protocols import DEFAULT_PROTOCOL
from hashdemo.run.settings import Choices
from hashdemo.ui import controls, exports, frame, resources
from hashdemo.ui.state import PageState

state = PageState.open("report")
exports.export_settings()
st.title("Robustness report")
frame.intro(
    "Everything a paper about a hashing model needs, for the model chosen in the sidebar: clean retrieval, the worst "
    "case over the ensemble at 4, 8 and 16/255, the breaking budget, MAP and t-MAP against epsilon, transfer from "
    "other models, the most and the least robust queries, and the command that reproduces it. Every run is cached "
    "batch by batch: Stop keeps what is done, and the report resumes from there."
)
spec = controls.model_picker(state, st.sidebar)
system = resources.load_or_explain(spec)
st.sidebar.header("Protocol and settings")
protocol = controls.protocol_picker(state, st.sidebar, DEFAULT_PROTOCOL)
overrides = controls.settings_controls(
    state, st.sidebar, protocol, system=system, query_set=True, skip=("eps",), queries=REPORT_QUERIES
)
link_ok = state.report()
state.finish()
choices = Choices.of(protocol.name, overrides)

if frame.controls_place().button("Make the report", type="primary") or (state.run_on_arrival and link_ok):
    resources.run_with_stop(
        "Report",
        "finished batches stay cached; making the report again resumes from them",
        lambda progress: make_report(system, choices, progress=progress),
    )
report = make_report(system, choices, only_cached=True)
if report.missing == tuple(n for n in SECTIONS if n not in ("card", "provenance")):
    st.info(f"Not made yet for these settings ({report.queries} queries): press **Make the report**.")
    st.stop()
if not report.complete:
    st.warning(
        f"Partial: {', '.join(SECTIONS[n] for n in report.missing)} not computed yet. Press **Make the report**."
    )
page = to_html(report, system)
stem = f"report-{system.name}"
left, middle, right = st.columns(3)
left.download_button("Report as HTML", page, f"{stem}.html", "text/html", on_click="ignore", use_container_width=True)
middle.download_button(
    "Report as PDF",
    lambda: to_pdf(report, system),
    f"{stem}.pdf",
    "application/pdf",
    on_click="ignore",
    use_container_width=True,
)
exports.json_download(
    right, "Report as JSON", lambda: json.dumps(report.to_json(), indent=2, default=str), stem, "report-json"
)
st.iframe(page, height=900)  # our own page: every text in it escaped (report_doc), no script
