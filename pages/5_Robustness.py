"""Robustness: MAP against epsilon for models and their defended versions, the worst case per query over an
ensemble of attacks, the smallest budget that breaks each query, and the leaderboard of the zoo."""

import streamlit as st

from hashdemo import attacks, robustness, tables, ui
from hashdemo.cache import Stopped
from hashdemo.figures import charts
from hashdemo.system import load_system

ui.page("Robustness")
ui.export_settings()
link = ui.LinkCheck("robustness")
st.title("Robustness")
st.caption(
    "How much a model resists: the clean model beside its adversarially trained versions (PgA Fig. 5 and Tables "
    "2, 8), the worst case over an ensemble of attacks per query, and the budget that breaks each query. Every "
    "run is cached: a finished view opens at once."
)
zoo = [f"zoo:{m['name']}" for m in ui.zoo_entries()]
defended = [m for m in zoo if "-atrdh" in m or "-pharos-at" in m]
bases = [m.replace("-atrdh", "").replace("-pharos-at", "") for m in defended]
sb = st.sidebar
sb.header("Models and attacks")
models = ui.url_multiselect(
    sb,
    "Models",
    zoo,
    "models",
    list(dict.fromkeys(bases + defended))[:4] or zoo[:2],
    format_func=ui.model_label,
)
chosen = ui.url_multiselect(
    sb, "Attacks", list(attacks.ATTACKS), "attacks", ["pga", "hag"], format_func=ui.attack_label
)
eps_text = sb.text_input("Epsilons (1/255)", "2, 4, 8, 16", key="eps_values", bind="query-params")
queries = ui.queries_slider(sb, "The same seeded sample for every model and attack (the README uses all 1,000).")
link.report()
try:
    eps_values = [float(v) for v in eps_text.replace(";", ",").split(",") if v.strip()]
    if not eps_values or any(not 0 <= v <= 255 for v in eps_values):
        raise ValueError
except ValueError:
    st.error(f"Epsilons are numbers in [0, 255] in 1/255 units, separated by commas; got {eps_text!r}.")
    st.stop()
if not models or not chosen:
    st.info("Choose at least one model and one attack in the sidebar.")
    st.stop()

tab_curves, tab_worst, tab_break, tab_board = st.tabs(["Curves", "Worst case", "Breaking budget", "Leaderboard"])


def run_button(label: str, key: str, work) -> None:
    """A run button with a Stop button and a progress bar; results land in the cache, then the view reads them."""
    if st.button(label, type="primary", key=key):
        st.button("Stop", key=f"{key}-stop", help="stops after the current batch; finished runs stay cached")
        bar = st.progress(0.0, text="starting")
        try:
            work(lambda done, total, text: bar.progress(min(1.0, done / max(total, 1)), text=text))
        except Stopped as exc:
            st.info(str(exc))
        except Exception as exc:
            ui.show_error(exc)
        bar.empty()


with tab_curves:
    run_button(
        "Run the curves",
        "run-curves",
        lambda p: robustness.curves(models, chosen, eps_values, queries=queries, progress=p),
    )
    rows = robustness.curves(models, chosen, eps_values, queries=queries, only_cached=True)
    if rows is None:
        st.info("Not computed yet for these models, attacks and epsilons: press **Run the curves**.")
    else:
        ui.chart(
            charts.robustness_figure(rows, "MAP (t-MAP for targeted attacks) against epsilon"),
            "curves",
            "robustness-curves",
        )
        st.dataframe(rows, hide_index=True, column_order=["model", "title", "eps", "value", "map_clean"])

with tab_worst:
    model = st.selectbox("Model", models, key="worst_model", format_func=ui.model_label)
    eps = st.select_slider("Epsilon (1/255)", sorted(set(eps_values) | {8.0, 16.0}), 8.0, key="worst_eps")
    system = load_system(model)
    members = ", ".join(m.label for m in robustness.ENSEMBLE)
    st.caption(f"The ensemble: {members}, each by PGD-100 (APGD for the last) on the same queries.")
    run_button(
        "Run the ensemble", "run-worst", lambda p: robustness.worst_case(system, eps, queries=queries, progress=p)
    )
    worst = robustness.worst_case(system, eps, queries=queries, only_cached=True)
    if worst is None:
        st.info("Not computed yet: press **Run the ensemble**.")
    else:
        cols = ui.metric_columns(1 + len(worst.member_maps))
        cols[0].metric("Worst-case MAP", f"{worst.map:.4f}", help="per query, the lowest AP over the ensemble")
        for col, (label, value) in zip(cols[1:], worst.member_maps.items(), strict=True):
            col.metric(
                f"{label} MAP", f"{value:.4f}", f"won {worst.wins[label]} queries", delta_color="off", delta_arrow="off"
            )

with tab_break:
    st.caption(
        "Per query, the smallest epsilon (bisection on a grid of 1/255) at which PgA (from the clean image) "
        "brings its P@10 to 0.2 or less."
    )
    run_button(
        "Run the search",
        "run-break",
        lambda p: [robustness.breaking_eps(load_system(m), queries=queries, progress=p) for m in models],
    )
    found = {m: robustness.breaking_eps(load_system(m), queries=queries, only_cached=True) for m in models}
    done = {m: v for m, v in found.items() if v is not None}
    if not done:
        st.info("Not computed yet: press **Run the search**.")
    else:
        ui.chart(
            charts.breaking_figure({m: v.tolist() for m, v in done.items()}, 32, "Smallest breaking budget"),
            "breaking",
            "breaking-budget",
        )
        cols = ui.metric_columns(len(done))
        for col, (m, v) in zip(cols, done.items(), strict=True):
            col.metric(ui.model_label(m), f"{robustness.median_eps(v):g}/255", help="median breaking epsilon")

with tab_board:
    st.caption(
        "Every zoo model: clean MAP, worst-case MAP at 8/255 and 16/255, median breaking epsilon; most "
        "robust first. `python -m hashdemo leaderboard` prints the same table."
    )
    run_button("Run the leaderboard", "run-board", lambda p: robustness.leaderboard(queries=queries, progress=p))
    board = robustness.leaderboard(queries=queries, only_cached=True)
    if board is None:
        st.info("Not computed yet for this number of queries: press **Run the leaderboard** (several minutes a model).")
    else:
        table = tables.leaderboard_table(board)
        st.markdown(tables.markdown(table))
        ui.table_downloads(table, "Leaderboard", "leaderboard")
