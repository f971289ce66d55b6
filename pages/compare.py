"""Compare: several attacks on the same queries with the same budget; the papers' table and curves."""

import streamlit as st

from hashdemo.attacks import ATTACKS
from hashdemo.figures import tables
from hashdemo.run.driver import Job, execute
from hashdemo.run.protocols import DEFAULT_PROTOCOL
from hashdemo.run.report import curves as run_curves
from hashdemo.run.settings import Choices
from hashdemo.ui import controls, exports, frame, resources, views
from hashdemo.ui.state import PageState, url_multiselect

state = PageState.open("compare")
exports.export_settings()
st.title("Compare attacks")
head = st.empty()
frame.lecture_nav()
frame.intro(
    "Every attack gets the same queries and the same budget. Results are cached on disk by every setting, "
    "so reopening a finished comparison is instant."
)
spec = controls.model_picker(state, st.sidebar)
system = resources.load_or_explain(spec)
st.sidebar.header("Protocol and budget")
protocol = controls.protocol_picker(state, st.sidebar, DEFAULT_PROTOCOL)
overrides = controls.settings_controls(state, st.sidebar, protocol, system=system, query_set=True)
chosen = url_multiselect(
    state, st.sidebar, "Attacks", ATTACKS.names(), "attacks", list(protocol.attacks), format_func=controls.attack_label
)
link_ok = state.report()
state.finish()
try:
    choices = Choices.of(protocol.name, overrides)
    jobs = {name: Job(system, choices.settings(name, system.spec)) for name in chosen}
except Exception as exc:
    resources.show_error(exc)
    st.stop()

first_settings = next(iter(jobs.values())).settings if jobs else None
if first_settings is not None:
    steps = "each paper's T" if protocol.optimiser == "paper" else f"T = {first_settings.steps}"
    queries = first_settings.queries or "all"
    line = f"{len(jobs)} attacks · protocol {protocol.name} · eps {first_settings.eps:g}/255 · {steps}"
    frame.headline(head, f"{line} · {queries} queries · on {system.label}")
runs = dict(zip(jobs, execute(list(jobs.values()), only_cached=True), strict=True))
auto = state.run_on_arrival and link_ok and None in runs.values()  # a link that runs on arrival, once
if frame.controls_place().button("Run comparison", type="primary", disabled=not chosen) or auto:
    missing = [job for name, job in jobs.items() if runs[name] is None]
    resources.run_plan(missing, "comparison", "finished batches stay cached; the comparison resumes from them")
    runs = dict(zip(jobs, execute(list(jobs.values()), only_cached=True), strict=True))

done = {name: run for name, run in runs.items() if run is not None}
missing = [controls.attack_label(n) for n, r in runs.items() if r is None]
if missing:
    st.info(f"Not computed yet for these settings: {', '.join(missing)}. Press **Run comparison**.")
if not done:
    st.stop()

reports = [run.report for run in done.values()]
first = reports[0]
table = tables.comparison(reports)
st.subheader(f"MAP@{tables.k_text(first.topk)} and t-MAP@{tables.k_text(first.t_topk)} on {system.label}")
# a projector shows the attack, MAP, t-MAP and perceptibility (the downloads keep every column)
st.markdown(tables.markdown(table, with_settings=False, columns=4 if frame.presenting() else None))
st.caption(
    f"{table.settings_line()}. Bold: the strongest attack per column (lowest MAP, highest t-MAP) and the least "
    "perceptible / fastest, among the attacks within the table's budget (the noise baseline, the clean and code "
    "rows, and an attack past the budget, such as the unbounded ProS-GAN, are left out). "
    "Perceptibility: RMSE over pixels in [0,1]. Code rows query with the target code itself (ProS-GAN Table 1)."
)
exports.table_downloads(table, "Table", "compare")

shown = tuple(jobs[name].settings for name in done)  # what the curves come from (settings name the model)
curves = views.shared((shown, "curves"), lambda: {name: run_curves(system, run) for name, run in done.items()})
views.curve_charts(curves, "compare", shown)
