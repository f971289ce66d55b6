"""Robustness: MAP against epsilon for models and their defended versions, the worst case per query over an
ensemble of attacks, the smallest budget that breaks each query, and the leaderboard."""

from dataclasses import replace

import streamlit as st

from hashdemo.attacks import ATTACKS
from hashdemo.core.params import Param
from hashdemo.core.progress import Stopped
from hashdemo.experiments import robustness
from hashdemo.figures import charts, tables
from hashdemo.run.settings import DEVICE
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.zoo import all_entries
from hashdemo.ui import controls, exports, frame, resources
from hashdemo.ui.state import PageState, url_multiselect

state = PageState.open("robustness")
exports.export_settings()
st.title("Robustness")
frame.intro(
    "How much a model resists: the clean model beside its adversarially trained versions (PgA Fig. 5 and Tables "
    "2, 8), the worst case over an ensemble of attacks per query, and the budget that breaks each query. Every "
    "run is cached: a finished view opens at once."
)
entries = all_entries()
defended = [e for e in entries if e.defence]
bases = [e for e in entries if not e.defence and any(d.family() == e.family() and d.bits == e.bits for d in defended)]
sb = st.sidebar
sb.header("Models and attacks")
sources = controls.models_multiselect(
    state, sb, "Models", "models", entries, [e.source for e in bases + defended][:4] or [e.source for e in entries[:2]]
)
device = controls.param_control(state, sb, replace(DEVICE, choices=tuple(controls.devices())), "auto")
chosen = url_multiselect(
    state, sb, "Attacks", ATTACKS.names(), "attacks", ["pga", "hag"], format_func=controls.attack_label
)
eps_param = Param("eps_values", "2, 4, 8, 16", "comma-separated budgets in [0, 255] (1/255)", label="epsilons (1/255)")
eps_text = controls.param_control(state, sb, eps_param)
systems = resources.load_many([ModelSpec(s, device) for s in sources])
available = min((len(s.dataset.query) for s in systems or []), default=1000)
queries_param = replace(controls.RUN_PARAM["queries"], high=available, optional=False, increment=10)
queries = controls.param_control(state, sb, queries_param, min(100, available))
link_ok = state.report()
state.finish()
try:
    eps_values = [
        controls.RUN_PARAM["eps"].check(v.strip()) for v in eps_text.replace(";", ",").split(",") if v.strip()
    ]
except Exception as exc:
    resources.show_error(exc)
    st.stop()
if not systems or not chosen or not eps_values:
    st.info("Choose at least one model, one attack and one epsilon in the sidebar.")
    st.stop()
tab_curves, tab_worst, tab_break, tab_board = st.tabs(["Curves", "Worst case", "Breaking budget", "Leaderboard"])


def run_button(label: str, key: str, work, auto: bool = False) -> None:
    """A run button with a Stop button and a progress bar; results land in the cache, then the view reads them.
    `auto`: run without the click (a link with run=1 whose results are not cached yet)."""
    if frame.controls_place().button(label, type="primary", key=key) or auto:
        try:
            with resources.running(
                label, "stops after the current batch; finished runs stay cached", f"{key}-stop"
            ) as p:
                work(p)
        except Stopped as exc:
            st.info(str(exc))
        except Exception as exc:
            resources.show_error(exc)


with tab_curves:
    rows = robustness.curves(systems, chosen, eps_values, queries=queries, only_cached=True)
    run_button(
        "Run the curves",
        "run-curves",
        lambda p: robustness.curves(systems, chosen, eps_values, queries=queries, progress=p),
        auto=st.query_params.get("run") == "1" and link_ok and rows is None,
    )
    rows = rows or robustness.curves(systems, chosen, eps_values, queries=queries, only_cached=True)
    if rows is None:
        st.info("Not computed yet for these models, attacks and epsilons: press **Run the curves**.")
    else:
        exports.chart(
            charts.robustness_figure(rows, "MAP (t-MAP for targeted attacks) against epsilon"),
            "curves",
            "robustness-curves",
        )
        clean = {r.label: r.map_clean for r in rows}
        st.caption("Clean MAP (what a defence costs): " + "; ".join(f"{k} {v:.4f}" for k, v in clean.items()) + ".")
        st.dataframe(
            [r.to_json() for r in rows], hide_index=True, column_order=["label", "title", "eps", "value", "map_clean"]
        )

with tab_worst:
    labels = {s.spec.source: s.label for s in systems}
    pick = st.selectbox("Model", list(labels), key="worst_model", format_func=labels.get)
    eps = st.select_slider("Epsilon (1/255)", sorted(set(eps_values) | {8.0, 16.0}), 8.0, key="worst_eps")
    system = next(s for s in systems if s.spec.source == pick)
    st.caption(
        f"The ensemble: {', '.join(m.label for m in robustness.ENSEMBLE)}, on the same queries; a query "
        "where members tie is shared among them."
    )
    run_button(
        "Run the ensemble", "run-worst", lambda p: robustness.worst_case(system, eps, queries=queries, progress=p)
    )
    worst = robustness.worst_case(system, eps, queries=queries, only_cached=True)
    if worst is None:
        st.info("Not computed yet: press **Run the ensemble**.")
    else:
        cols = frame.metric_columns(1 + len(worst.member_maps))
        cols[0].metric("Worst-case MAP", f"{worst.map:.4f}", help="per query, the lowest AP over the ensemble")
        for col, (label, value) in zip(cols[1:], worst.member_maps.items(), strict=True):
            col.metric(
                f"{label} MAP",
                f"{value:.4f}",
                f"won {worst.wins[label]:g} queries",
                delta_color="off",
                delta_arrow="off",
            )

with tab_break:
    st.caption(
        "Per query, the smallest epsilon (bisection on a grid of 1/255) at which PgA (from the clean image) "
        "brings its P@10 to 0.2 or less."
    )
    run_button(
        "Run the search",
        "run-break",
        lambda p: [robustness.breaking_eps(s, queries=queries, progress=p) for s in systems],
    )
    found = {s.label: robustness.breaking_eps(s, queries=queries, only_cached=True) for s in systems}
    done = {label: v for label, v in found.items() if v is not None}
    if not done:
        st.info("Not computed yet: press **Run the search**.")
    else:
        exports.chart(
            charts.breaking_figure({k: v.tolist() for k, v in done.items()}, 32, "Smallest breaking budget"),
            "breaking",
            "breaking-budget",
        )
        for col, (label, v) in zip(frame.metric_columns(len(done)), done.items(), strict=True):
            col.metric(label, f"{robustness.median_eps(v):g}/255", help="median breaking epsilon")

with tab_board:
    st.caption(
        "The models chosen in the sidebar: clean MAP, worst-case MAP at 8/255 and 16/255, median breaking "
        "epsilon; most robust first. `python -m hashdemo leaderboard` prints the same table."
    )
    run_button(
        "Run the leaderboard", "run-board", lambda p: robustness.leaderboard(systems, queries=queries, progress=p)
    )
    board = robustness.leaderboard(systems, queries=queries, only_cached=True)
    if board is None:
        st.info("Not computed yet for these models and queries: press **Run the leaderboard** (minutes a model).")
    else:
        table = tables.leaderboard_table(board, ensemble=", ".join(m.label for m in robustness.ENSEMBLE))
        st.markdown(tables.markdown(table))
        exports.table_downloads(table, "Leaderboard", "leaderboard")
