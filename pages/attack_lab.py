"""Attack Lab: one query under attack, with every view a lecture needs."""

import streamlit as st

from hashdemo.experiments import lab
from hashdemo.figures import charts
from hashdemo.figures.paper import FORMATS, WIDTHS, paper_figure
from hashdemo.run.protocols import LAB_PROTOCOL
from hashdemo.run.settings import resolve
from hashdemo.ui import controls, exports, frame, resources, views
from hashdemo.ui.explain import NOTES
from hashdemo.ui.state import PageState

state = PageState.open("lab")
exports.export_settings()
st.title("Attack Lab")
head = st.empty()  # what is shown: the attack, eps, T, target and model, filled below
frame.lecture_nav()
frame.intro("Perturb one query within an L-inf budget and watch what the retrieval system returns before and after.")
run_place = frame.controls_place()  # presentation mode: the run button at the top of the sidebar

sb = st.sidebar
sb.header("Model")
spec = controls.model_picker(state, sb)
sb.header("Attack")
attack = controls.attack_picker(state, sb)
attack_cls = controls.ATTACKS.get(attack)
sb.caption(attack_cls.paper)
protocol = controls.protocol_picker(state, sb, LAB_PROTOCOL)
system = resources.load_or_explain(spec)
overrides = controls.settings_controls(state, sb, protocol, attack=attack, system=system)
overrides |= controls.method_controls(state, sb, attack)
data = system.dataset

present = frame.presenting()  # a projector: the query's controls in the sidebar, the result on the first screen
if present:
    sb.header("Query")
ask, shown, launch = (sb, sb, sb) if present else st.columns([5, 3, 4], gap="medium")
query = views.query_input(state, ask, shown, data)
target = views.target_input(state, launch, system, attack_cls, query)
k = controls.param_control(state, launch, lab.K)
button_place = run_place if present else launch
run_clicked = button_place.button("Run attack", type="primary", disabled=query is None, use_container_width=True)
progress_slot = button_place.empty()
live_slot = st.empty()  # the Hamming distance over iterations, drawn while the attack runs
link_ok = state.report()
try:
    settings = resolve(protocol, attack, overrides, model=system.spec)
except Exception as exc:
    resources.show_error(exc)
    state.finish()
    st.stop()

request = None if query is None else lab.LabRequest(settings, query.id, target, k)
stored = st.session_state.get("lab")
fresh = stored is not None and stored.request.same(request)
auto = state.run_on_arrival and link_ok and not fresh
if request is not None and (run_clicked or auto):
    bar = progress_slot.progress(0.0, text=f"{attack_cls.title}: starting")
    try:
        stored = resources.lab_run_once(
            system,
            request,
            lambda: lab.run_lab(
                system,
                request,
                query.image,
                query.labels,
                keep_images=True,
                progress=resources.progress_bar(bar, attack_cls.title),
                watch=views.live_trace(live_slot, system.bits, attack_cls),
            ),
        )
        st.session_state["lab"] = stored
        fresh = True
    except Exception as exc:
        resources.show_error(exc)
    progress_slot.empty()
    live_slot.empty()
state.finish({"run": "1" if fresh else None})
target_name = views.target_caption(system, attack_cls, target, stored if fresh else None)
frame.headline(head, (stored.settings if fresh else settings).headline(system.label, target_name))

if request is None:
    st.info("Choose a query (or upload a readable image) to run an attack.")
    st.stop()
if not fresh:
    st.info("Press **Run attack** to perturb this query with these settings.")
    st.stop()
run, result = stored, stored.result

views.metric_row(lab.headline(run))
if present:
    views.first_screen(data, run, 200)
advice = lab.advice(run)
if advice:
    st.warning(advice)
if not present:
    views.attack_images(run, frame.image_px(200))
views.note(NOTES["images"])
st.subheader(f"Top-{k} retrieval")
views.retrieval_pair(data, run, frame.image_px(72))
views.note(NOTES["retrieval"])
st.subheader("Hash codes")
views.code_strips(run, system.bits)
views.note(NOTES["codes"])

st.subheader("Hamming distance over iterations")
if result.trace.loss.shape[0] > 2:
    draw_trace = lambda: charts.trace_figure(
        result.trace, system.bits, title=attack_cls.title, target_name=attack_cls.target_kind
    )
    fig = views.shared((run.request, "trace"), draw_trace)
    exports.chart(fig, "trace", f"trace-{attack}")
    views.note(NOTES["trace"])
    views.scrubber(system, run, resources.cached_code_map(spec))
else:
    st.caption(f"{attack_cls.title} takes {result.trace.loss.shape[0] - 1} gradient step(s): no trajectory to draw.")

st.subheader("Numbers")
views.metric_row(lab.details(run))
views.note(NOTES["numbers"])
with st.expander(f"The attack: {attack_cls.title}"):
    st.latex(attack_cls.equation)
    st.write(f"{attack_cls.paper}.")
    st.write(f"Settings of this run: {run.settings.describe()}.")

st.subheader("Export")
left, right = st.columns(2)
width = left.selectbox("Figure width", list(WIDTHS), index=1, key="figure_width")
fmt = right.selectbox("Format", list(FORMATS), key="figure_format", format_func=str.upper)
left.download_button(
    f"Figure for a paper ({fmt.upper()}, {WIDTHS[width]:g} in)",
    lambda: paper_figure(system, run, WIDTHS[width], fmt),
    f"hashdemo-{attack}.{fmt}",
    FORMATS[fmt],
    key="export-figure",
    on_click="ignore",
    use_container_width=True,
)
exports.json_download(right, "Settings and numbers (JSON)", run.to_json, f"hashdemo-{attack}", "export-json")
