"""Sweep: MAP (or t-MAP) against one parameter: epsilon, the margin t, iterations T, or bit length."""

import streamlit as st

from hashdemo import attacks, sweep, tables, ui
from hashdemo.figures import charts

st.set_page_config(page_title="Sweep - hashdemo", layout="wide")
ui.sidebar_nav()

st.title("Sweep a parameter")
st.caption("Each point attacks the same queries; results are cached, so adding a value only computes that value.")

DEFAULT_VALUES = {
    "eps": "2, 4, 8, 16, 32",
    "t": "-0.9, -0.8, -0.6, -0.4, -0.2",
    "steps": "10, 20, 50, 100, 200",
    "bits": "16, 32, 64",
}
LABELS = {
    "eps": "epsilon (1/255), as DHTA's appendix Table 2",
    "t": "margin t, as PgA Fig. 5c / HAG Fig. 6",
    "steps": "iterations T, as PgA Fig. 5a-b",
    "bits": "bit length (zoo models 16 / 32 / 64)",
}

spec = ui.model_or_checkpoint(st.sidebar)
settings = ui.budget_controls(st.sidebar)
param = st.selectbox("Parameter", list(DEFAULT_VALUES), format_func=LABELS.get, key="param", bind="query-params")
with_t = [n for n, cls in attacks.ATTACKS.items() if "t" in cls.method_defaults]
options = with_t if param == "t" else list(attacks.ATTACKS)
chosen = st.multiselect(
    "Attacks",
    options,
    default=["pga"] if param == "t" else ["pga", "dhta"],
    format_func=ui.attack_label,
    key=f"attacks_{param}",
)
text = st.text_input(
    "Values (comma-separated)",
    DEFAULT_VALUES[param],
    key=f"values_{param}",
    help="HAG's t lies in [0, 1], PgA's in (-1, 0): sweep them separately.",
)
system = ui.load_or_explain(spec)
try:
    values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    sweep.check(system, param, values, chosen)
except ValueError:
    st.error(f"Values must be numbers separated by commas, got {text!r}.")
    st.stop()
except Exception as exc:
    ui.show_error(exc)
    st.stop()

if st.button("Run sweep", type="primary", disabled=not chosen):
    stop = st.empty()
    stop.button("Stop")
    bar = st.progress(0.0, text="starting")
    try:
        sweep.run_sweep(
            system,
            param,
            values,
            chosen,
            base=settings,
            progress=lambda done, total, label: bar.progress(done / total, text=label),
        )
    except Exception as exc:
        ui.show_error(exc)
    bar.empty()
    stop.empty()

try:
    rows = sweep.run_sweep(system, param, values, chosen, base={**settings, "only_cached": True})
except sweep.NotCached as missing:
    st.info(f"Not computed yet: {missing}. Press **Run sweep**.")
    st.stop()
fig = charts.sweep_figure(rows, param, f"{system.name}: MAP / t-MAP against {param}")
left, right = st.columns([3, 2])
with left:
    ui.chart(fig, "sweep", f"sweep-{param}")
with right:
    four_places = st.column_config.NumberColumn(format="%.4f")
    st.dataframe(
        tables.sweep_table(rows, param),
        hide_index=True,
        column_config={"MAP": four_places, "Perc. RMSE": four_places, "s / image": four_places},
    )
    st.download_button(
        "Values as CSV", tables.render_sweep(rows, param, "csv"), f"sweep-{param}.csv", "text/csv", on_click="ignore"
    )
    st.download_button(
        "Values as Markdown",
        tables.render_sweep(rows, param, "md"),
        f"sweep-{param}.md",
        "text/markdown",
        on_click="ignore",
    )
