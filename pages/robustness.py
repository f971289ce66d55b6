"""Robustness: MAP against epsilon for models and their defended versions, the worst case per query over an
ensemble of attacks, the smallest budget that breaks each query, and the leaderboard."""

import streamlit as st

from hashdemo.attacks import ATTACKS
from hashdemo.core.params import Param
from hashdemo.experiments import leaderboard, robustness
from hashdemo.figures import charts, tables
from hashdemo.run.protocols import DEFAULT_PROTOCOL
from hashdemo.run.settings import Choices, field_param
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.zoo import all_cards
from hashdemo.ui import controls, exports, frame, resources
from hashdemo.ui.state import PageState, url_multiselect

state = PageState.open("robustness")
exports.export_settings()
st.title("Robustness")
head = st.empty()
frame.lecture_nav()
frame.intro(
    "How much a model resists: the clean model beside its adversarially trained versions (PgA Fig. 5 and Tables "
    "2, 8), the worst case over an ensemble of attacks per query, and the budget that breaks each query. Every "
    "run is cached: a finished view opens at once."
)
entries = all_cards()
defended = [e for e in entries if e.defence]
bases = [e for e in entries if not e.defence and any(d.family() == e.family() and d.bits == e.bits for d in defended)]
sb = st.sidebar
sb.header("Models and attacks")
sources = controls.models_multiselect(
    state, sb, "Models", "models", entries, [e.source for e in bases + defended][:4] or [e.source for e in entries[:2]]
)
where = controls.spec_controls(state, sb, None)
chosen = url_multiselect(
    state, sb, "Attacks", ATTACKS.names(), "attacks", list(robustness.CURVE_ATTACKS), format_func=controls.attack_label
)
EPS = field_param("eps")
eps_param = Param(
    "eps_values",
    ", ".join(f"{v:g}" for v in robustness.CURVE_EPS),
    f"comma-separated budgets, each {EPS.range_text()} {EPS.unit}",
    label="epsilons (1/255)",
)
eps_text = controls.param_control(state, sb, eps_param)
systems = resources.load_many([ModelSpec(s, **where) for s in sources])
sb.header("Protocol and settings")
protocol = controls.protocol_picker(state, sb, DEFAULT_PROTOCOL)
overrides = controls.settings_controls(
    state, sb, protocol, system=(systems or [None])[0], query_set=True, skip=(EPS.name,)
)
choices = Choices.of(protocol.name, overrides)
link_ok = state.report()
state.finish()
try:
    eps_values = [EPS.check(v.strip()) for v in eps_text.replace(";", ",").split(",") if v.strip()]
except Exception as exc:
    resources.show_error(exc)
    st.stop()
if not systems or not chosen or not eps_values:
    st.info("Choose at least one model, one attack and one epsilon in the sidebar.")
    st.stop()
shown_eps = ", ".join(f"{e:g}" for e in eps_values)
queries = choices.given.get("queries", "all")
names = ", ".join(ATTACKS.get(a).title for a in chosen)
frame.headline(head, f"{names} · eps {shown_eps}/255 · {len(systems)} models · {queries} queries")
tab_curves, tab_worst, tab_break, tab_board = st.tabs(["Curves", "Worst case", "Breaking budget", "Leaderboard"])


def run_button(label: str, key: str, work, auto: bool = False) -> None:
    """A run button with a Stop button and a progress bar; results land in the cache (batch by batch), then the
    view reads them. `auto`: run without the click (a link with run=1 arriving whose results are not cached)."""
    if frame.controls_place().button(label, type="primary", key=key) or auto:
        resources.run_with_stop(label, "finished batches stay cached; the run resumes from them", work, f"{key}-stop")


with tab_curves:
    rows = robustness.curves(systems, chosen, eps_values, choices, only_cached=True)
    run_button(
        "Run the curves",
        "run-curves",
        lambda p: robustness.curves(systems, chosen, eps_values, choices, progress=p),
        auto=state.run_on_arrival and link_ok and rows is None,
    )
    rows = rows or robustness.curves(systems, chosen, eps_values, choices, only_cached=True)
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
    budgets = sorted(set(eps_values) | set(leaderboard.BUDGETS))
    eps = st.select_slider("Epsilon (1/255)", budgets, leaderboard.BUDGETS[0], key="worst_eps")
    system = next(s for s in systems if s.spec.source == pick)
    st.caption(
        f"The ensemble: {', '.join(m.label for m in robustness.ENSEMBLE)}, on the same queries; a query "
        "where members tie is shared among them."
    )
    run_button("Run the ensemble", "run-worst", lambda p: robustness.worst_case(system, eps, choices, progress=p))
    worst = robustness.worst_case(system, eps, choices, only_cached=True)
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
        f"brings its P@{robustness.BREAK_P_AT} to {robustness.BREAK_THRESHOLD:g} or less."
    )
    run_button(
        "Run the search",
        "run-break",
        lambda p: [robustness.breaking_eps(s, choices, progress=p) for s in systems],
    )
    found = {s.label: robustness.breaking_eps(s, choices, only_cached=True) for s in systems}
    done = {label: v for label, v in found.items() if v is not None}
    if not done:
        st.info("Not computed yet: press **Run the search**.")
    else:
        exports.chart(
            charts.breaking_figure(
                {k: v.tolist() for k, v in done.items()}, robustness.BREAK_LARGEST, "Smallest breaking budget"
            ),
            "breaking",
            "breaking-budget",
        )
        for col, (label, v) in zip(frame.metric_columns(len(done)), done.items(), strict=True):
            col.metric(label, f"{robustness.median_eps(v):g}/255", help="median breaking epsilon")

with tab_board:
    shown = ", ".join(f"{b:g}/255" for b in leaderboard.BUDGETS)
    st.caption(
        f"The models chosen in the sidebar: clean MAP, worst-case MAP at {shown}, median breaking "
        "epsilon; most robust first. `python -m hashdemo leaderboard` prints the same table."
    )
    run_button("Run the leaderboard", "run-board", lambda p: leaderboard.leaderboard(systems, choices, progress=p))
    board = leaderboard.leaderboard(systems, choices, only_cached=True)
    if board is None:
        st.info("Not computed yet for these models and queries: press **Run the leaderboard** (minutes a model).")
    else:
        ensemble = ", ".join(m.label for m in robustness.ENSEMBLE)
        table = tables.leaderboard_table(board, ensemble, choices.protocol)
        st.markdown(tables.markdown(table))
        exports.table_downloads(table, "Leaderboard", "leaderboard")
