"""Compare: several attacks on the same queries with the same budget; the papers' table and curves."""

import streamlit as st

from hashdemo import attacks, evaluation, tables, ui
from hashdemo.figures import charts
from hashdemo.protocols import resolve
from hashdemo.report import curves as run_curves

ui.page("Compare")
ui.export_settings()
link = ui.LinkCheck("compare")

st.title("Compare attacks")
st.caption(
    "Every attack gets the same queries and the same budget. Results are cached on disk by every setting, "
    "so reopening a finished comparison is instant."
)

spec = ui.model_or_checkpoint(st.sidebar)
st.sidebar.header("Protocol and budget")
protocol = ui.protocol_picker(st.sidebar, "pgd")
overrides = ui.budget_controls(st.sidebar, protocol, query_set=True)
names = list(attacks.ATTACKS)
chosen = ui.url_multiselect(st, "Attacks", names, "attacks", list(protocol.attacks), format_func=ui.attack_label)
system = ui.load_or_explain(spec)
overrides |= ui.target_set_control(st.sidebar, system)
try:
    settings = {name: resolve(protocol, name, overrides) for name in chosen}
except Exception as exc:
    ui.show_error(exc)
    st.stop()

link.report()
start = st.button("Run comparison", type="primary", disabled=not chosen)
st.caption(
    "While it runs, any click (the Stop button, or a control) stops it; finished attacks stay cached and the "
    "one in progress leaves nothing behind."
)
if start:
    stop = st.empty()
    stop.button("Stop")
    status = st.empty()
    for i, name in enumerate(chosen):
        bar = st.progress(0.0, text=f"{ui.attack_label(name)}: starting")
        try:
            evaluation.run_attack(
                system,
                settings[name],
                progress=lambda done, total, text, bar=bar: bar.progress(min(1.0, done / max(total, 1)), text=text),
            )
        except Exception as exc:
            ui.show_error(exc)
        bar.empty()
        status.caption(f"{i + 1} of {len(chosen)} attacks done")
    status.empty()
    stop.empty()

runs = {name: evaluation.run_attack(system, settings[name], only_cached=True) for name in chosen}
done = {name: run for name, run in runs.items() if run is not None}
missing = [ui.attack_label(n) for n, r in runs.items() if r is None]
if missing:
    st.info(f"Not computed yet for these settings: {', '.join(missing)}. Press **Run comparison**.")
if not done:
    st.stop()

reports = [run.report for run in done.values()]
first = reports[0]
st.subheader(f"MAP@{tables.k_text(first['topk'])} and t-MAP@{tables.k_text(first['t_topk'])} on {system.name}")
st.markdown(tables.to_markdown(reports))
iterations = sorted({r["steps"] for r in reports})
st.caption(
    f"Protocol {protocol.name}; {first['queries']} queries, eps {first['eps']:g}/255, "
    f"T = {', '.join(map(str, iterations))}. Bold: the strongest attack per column (lowest MAP, highest t-MAP) and "
    "the least perceptible / fastest, among the attacks (the noise baseline, the clean row and the code rows are "
    "left out). Perceptibility: RMSE over pixels in [0,1]. Code rows query with the target code itself (ProS-GAN "
    "Table 1)."
)
ui.table_downloads(tables.comparison(reports), "Table", "compare")

curves = {name: run_curves(system, run) for name, run in done.items()}
first = next(iter(curves.values()))
pr = {"Clean": (first["pr_clean"]["precision"], first["pr_clean"]["recall"])}
pr.update({attacks.ATTACKS[n].title: (c["pr_adv"]["precision"], c["pr_adv"]["recall"]) for n, c in curves.items()})
left, right = st.columns(2)
with left:
    ui.chart(charts.pr_figure(pr, "Precision-recall (Hamming radius 0..K)"), "pr", "compare-pr")
with right:
    p_at = {"Clean": first["p_at_n_clean"]}
    p_at.update({attacks.ATTACKS[n].title: c["p_at_n_adv"] for n, c in curves.items()})
    ui.chart(charts.precision_at_n_figure(first["ns"], p_at), "pn", "compare-precision-at-n")
targeted = {n: c for n, c in curves.items() if "t_p_at_n_adv" in c}
if targeted:
    t_first = next(iter(targeted.values()))
    left, right = st.columns(2)
    with left:
        t_pr = {"Clean": (t_first["t_pr_clean"]["precision"], t_first["t_pr_clean"]["recall"])}
        t_pr.update(
            {
                attacks.ATTACKS[n].title: (c["t_pr_adv"]["precision"], c["t_pr_adv"]["recall"])
                for n, c in targeted.items()
            }
        )
        ui.chart(charts.pr_figure(t_pr, "Targeted precision-recall (relevance = target label)"), "tpr", "compare-t-pr")
    with right:
        series = {"Clean": t_first["t_p_at_n_clean"]}
        series.update({attacks.ATTACKS[n].title: c["t_p_at_n_adv"] for n, c in targeted.items()})
        ui.chart(
            charts.precision_at_n_figure(
                t_first["ns"], series, "Targeted precision@N (relevance = target label)", "t-precision"
            ),
            "tpn",
            "compare-t-precision-at-n",
        )
