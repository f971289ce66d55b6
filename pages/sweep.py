"""Sweep: MAP (or t-MAP) against one setting: epsilon, step, iterations T, bit length, or a method parameter."""

import streamlit as st

from hashdemo.attacks import ATTACKS
from hashdemo.core.params import Param
from hashdemo.experiments import sweep
from hashdemo.figures import charts, tables
from hashdemo.run.protocols import DEFAULT_PROTOCOL
from hashdemo.run.settings import Choices
from hashdemo.ui import controls, exports, frame, resources
from hashdemo.ui.state import PageState, url_multiselect, url_selectbox

state = PageState.open("sweep")
exports.export_settings()
st.title("Sweep a setting")
frame.intro("Each point attacks the same queries; results are cached, so adding a value only computes that value.")
NOTES = {
    "eps": "as DHTA's appendix Table 2",
    "steps": "as HAG Table I / PgA Fig. 5a-b: one run, MAP at each iteration",
    "bits": "models that differ only in bit length",
    "t": "as PgA Fig. 5c",
}

spec = controls.model_picker(state, st.sidebar)
system = resources.load_or_explain(spec)
st.sidebar.header("Protocol and budget")
protocol = controls.protocol_picker(state, st.sidebar, DEFAULT_PROTOCOL)
overrides = controls.settings_controls(state, st.sidebar, protocol, system=system, query_set=True)
chosen = url_multiselect(
    state, st, "Attacks", ATTACKS.names(), "attacks", ["pga", "dhta"], format_func=controls.attack_label
)
axes = sweep.sweepable(chosen)


def axis_label(name: str) -> str:
    param = axes[name]
    note = f", {NOTES[name]}" if name in NOTES else ""
    return f"{controls.label_of(param)}{note}"


param = url_selectbox(state, st, "Setting", list(axes), "param", next(iter(axes)), format_func=axis_label)
default_text = ", ".join(f"{v:g}" for v in sweep.default_values(axes[param]))
values_param = Param(
    "values",
    default_text,
    f"comma-separated, in the setting's units: {axes[param].wanted()}",
    label="values (comma-separated)",
)
text = controls.param_control(state, st, values_param, default_text, name=f"values_{param}")
state.report()
state.finish()
values = [v.strip() for v in text.replace(";", ",").split(",") if v.strip()]
overrides.pop(param, None)
try:
    sweep.check(system, param, values, chosen)
except Exception as exc:
    resources.show_error(exc)
    st.stop()

choices = Choices.of(protocol.name, overrides)
if st.button("Run sweep", type="primary"):
    resources.run_with_stop(
        "sweep",
        "finished batches stay cached; the sweep resumes from them",
        lambda progress: sweep.run_sweep(system, param, values, chosen, choices, progress=progress),
    )

try:
    rows = sweep.run_sweep(system, param, values, chosen, choices, only_cached=True)
except sweep.NotCached as missing:
    st.info(f"Not computed yet: {missing}. Press **Run sweep**.")
    st.stop()
except Exception as exc:
    resources.show_error(exc)
    st.stop()
fig = charts.sweep_figure(rows, controls.label_of(axes[param]), f"{system.label}: MAP / t-MAP against {param}")
left, right = st.columns([3, 2])
with left:
    exports.chart(fig, "sweep", f"sweep-{param}")
with right:
    table = tables.sweep_table(rows, param)
    st.dataframe(table.display_records(), hide_index=True)
    exports.table_downloads(table, "Values", f"sweep-{param}")
