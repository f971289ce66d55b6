"""Sweep: MAP (or t-MAP) against one parameter: epsilon, the margin t, iterations T, or bit length."""

import streamlit as st

from hashdemo import attacks, sweep, tables, ui
from hashdemo.figures import charts

ui.page("Sweep")
ui.export_settings()
link = ui.LinkCheck("sweep")

st.title("Sweep a parameter")
st.caption("Each point attacks the same queries; results are cached, so adding a value only computes that value.")

LABELS = {
    "eps": "epsilon (1/255), as DHTA's appendix Table 2",
    "step": "step size (1/255)",
    "steps": "iterations T, as HAG Table I / PgA Fig. 5a-b (one run, MAP at each iteration)",
    "bits": "bit length (zoo models 16 / 32 / 64)",
    "t": "margin t, as PgA Fig. 5c",
}

spec = ui.model_or_checkpoint(st.sidebar)
st.sidebar.header("Protocol and budget")
protocol = ui.protocol_picker(st.sidebar, "pgd")
overrides = ui.budget_controls(st.sidebar, protocol, query_set=True)
chosen = ui.url_multiselect(
    st, "Attacks", list(attacks.ATTACKS), "attacks", ["pga", "dhta"], format_func=ui.attack_label
)
choices = sweep.sweepable(chosen)


def default_text(name: str) -> str:
    return ", ".join(f"{v:g}" for v in sweep.default_values(choices[name]))


def reset_values() -> None:
    st.session_state["values"] = default_text(st.session_state["param"])


param = ui.url_selectbox(
    st, "Parameter", list(choices), "param", "eps", format_func=lambda p: LABELS.get(p, p), on_change=reset_values
)
text = st.text_input(
    "Values (comma-separated)",
    default_text(param),
    key="values",
    bind="query-params",
    help="In the units of the parameter (epsilon and step in 1/255). HAG's t lies in [0, 1], PgA's in (-1, 0): "
    "sweep them separately.",
)
link.report()
system = ui.load_or_explain(spec)
values = [v.strip() for v in text.replace(";", ",").split(",") if v.strip()]
overrides.pop(param, None)
try:
    sweep.check(system, param, values, chosen)
except Exception as exc:
    ui.show_error(exc)
    st.stop()

if st.button("Run sweep", type="primary"):
    stop = st.empty()
    stop.button("Stop")
    bar = st.progress(0.0, text="starting")
    try:
        sweep.run_sweep(
            system,
            param,
            values,
            chosen,
            protocol=protocol.name,
            overrides=overrides,
            progress=lambda done, total, label: bar.progress(done / total, text=label),
        )
    except Exception as exc:
        ui.show_error(exc)
    bar.empty()
    stop.empty()

try:
    rows = sweep.run_sweep(system, param, values, chosen, protocol=protocol.name, overrides=overrides, only_cached=True)
except sweep.NotCached as missing:
    st.info(f"Not computed yet: {missing}. Press **Run sweep**.")
    st.stop()
except Exception as exc:
    ui.show_error(exc)
    st.stop()
fig = charts.sweep_figure(rows, param, f"{system.name}: MAP / t-MAP against {param}")
left, right = st.columns([3, 2])
with left:
    ui.chart(fig, "sweep", f"sweep-{param}")
with right:
    four_places = st.column_config.NumberColumn(format="%.4f")
    table = tables.sweep_table(rows, param)
    st.dataframe(
        table.records(),
        hide_index=True,
        column_config={h: four_places for h in ("MAP", "t-MAP", "Perc. (RMSE)", "s / image")},
    )
    ui.table_downloads(table, "Values", f"sweep-{param}")
