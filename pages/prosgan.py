"""ProS-GAN: the generative targeted attack. Its training curves, queries x target labels generated instantly,
and training a new generator with a live loss chart (the same code as `hashdemo train-attack prosgan`)."""

from dataclasses import replace

import streamlit as st
import torch

from hashdemo.core import params
from hashdemo.experiments import frontier
from hashdemo.figures import charts, panels
from hashdemo.prosgan import gallery
from hashdemo.prosgan import model as prosgan_model
from hashdemo.prosgan.training import RECIPES, TrainSettings, cached_run, train
from hashdemo.ui import controls, exports, frame, resources, views
from hashdemo.ui.state import PageState, url_multiselect

state = PageState.open("prosgan")
exports.export_settings()
st.title("ProS-GAN")
frame.intro(
    "A generator trained against the hashing model turns any query and any target label into an adversarial "
    "query in one forward pass (Wang et al., CVPR 2021): no iterations at attack time."
)
st.sidebar.header("Model")
spec = controls.model_picker(state, st.sidebar)
system = resources.load_or_explain(spec)
data = system.dataset
names = list(data.class_names)
generators = gallery.available_generators(system)

st.subheader("1. The generator and its training")
if not generators:
    st.info(f"No generator for {system.name} yet: train one below (section 4).")
else:
    labels = [g.label for g in generators]
    chosen = generators[labels.index(st.selectbox("Generator", labels, key="generator"))]
    epochs = chosen.log.get("epochs", [])
    if epochs:
        left, right = st.columns(2)
        with left:
            exports.chart(
                charts.training_figure(
                    epochs,
                    {
                        "loss_generator": "generator (Eq. 5)",
                        "j_ham": "J_ham (Eq. 7)",
                        "j_adv": "J_adv (Eq. 10)",
                        "loss_discriminator": "discriminator (Eq. 13)",
                        "loss_prototype": "PrototypeNet (Eq. 3; trained jointly only)",
                    },
                    "Losses per epoch",
                    "loss",
                ),
                "losses",
                "prosgan-losses",
            )
        with right:
            exports.chart(
                charts.training_figure(
                    epochs,
                    {"held_out_t_map": "held-out t-MAP (all)", "held_out_rmse": "held-out RMSE"},
                    f"On {chosen.log['settings']['held_out']} held-out queries",
                    "value",
                ),
                "held-out",
                "prosgan-held-out",
            )
        st.caption(
            f"{len(epochs)} epochs in {chosen.log.get('train_seconds', 0):.0f} s; the generator is the "
            "last epoch's (the held-out queries only watch the training, they choose nothing)."
        )

    st.subheader("2. Any query, any target, no waiting")
    left, right = st.columns(2)
    query_classes = url_multiselect(state, left, "Queries (one of each class)", names, "queries", names[:3])
    target_classes = url_multiselect(state, right, "Target labels", names, "targets", names[5:9])
    if query_classes and target_classes:
        net, _ = prosgan_model.load(chosen.path, system)
        positions = [int(torch.nonzero(data.query.labels[:, names.index(c)]).flatten()[0]) for c in query_classes]
        targets = [names.index(c) for c in target_classes]
        cells = gallery.generation_grid(system, net, positions, targets, k=5)
        tile = frame.image_px(28) * views.DENSITY
        grid = panels.queries_by_targets(
            [panels.upscale(panels.to_pil(data.query.images([p])[0]), 2 * tile) for p in positions],
            [f"#{p}: {data.label_names(data.query.labels[p])}" for p in positions],
            target_classes,
            {
                (r, c): (
                    panels.upscale(panels.to_pil(cell.adversarial), 2 * tile),
                    panels.retrieval_grid(
                        data.database.images(cell.indices),
                        cell.target_hit.tolist(),
                        cell.distances.tolist(),
                        cell.target_hit.tolist(),
                        tile=tile,
                        per_row=5,
                    ),
                    f"t-P@5 = {cell.t_precision:.1f}",
                )
                for r, p in enumerate(positions)
                for c, t in enumerate(targets)
                if (cell := cells.get((p, t))) is not None
            },
            gap=12 * views.DENSITY,
            text=14 * views.DENSITY,
        )
        views.show_png(grid, density=views.DENSITY)
        st.caption(
            "Each cell: the generated query, then its top 5 (blue solid with a check and T: carries the target "
            "label). One forward pass per cell, no gradient."
        )
        st.download_button("Grid as PNG", panels.png_bytes(grid), "prosgan-grid.png", "image/png", on_click="ignore")

st.subheader("3. On the t-MAP / RMSE frontier")
st.caption(
    "ProS-GAN against the iterative attacks at equal perceptibility, not by a ratio of RMSEs: DHTA by PGD-100 with "
    "HAG's schedule, DHTA + I-FGSM and + FGSM, each over eps (labelled on its line), and every generator above, on "
    "the same queries and target labels (ProS-GAN protocol, t-MAP over the whole database). The dotted line is "
    "the reconstruction floor: the faithful generator's RMSE when asked for the query's own label. DHTA by 2000 "
    "sign steps takes minutes per budget: bench/prosgan_frontier.py adds it."
)
frontier_queries = st.number_input("Queries", 10, len(data.query), 50, step=10, key="frontier-queries")
measured = frontier.measure(system, frontier_queries, frontier.QUICK, only_cached=True)
if st.button("Measure the frontier", type="primary", key="frontier-run"):
    measured = resources.run_with_stop(
        "Measure the frontier",
        "finished runs stay cached; measuring again resumes from them",
        lambda p: frontier.measure(system, frontier_queries, frontier.QUICK, progress=p),
        "frontier-stop",
    )
if measured is None:
    st.info("Not measured yet for these queries: press **Measure the frontier** (about a minute for 50 queries).")
else:
    exports.chart(charts.frontier_figure(measured), "frontier", "prosgan-frontier")
    st.markdown("\n".join(f"- {line}" for line in measured.verdicts()) or "No generator lies within a curve's RMSE.")

st.subheader("4. Train a generator")
st.caption(
    "The paper's recipe, where it is silent its authors' script's (hashdemo.prosgan.training); the zoo's recipe is "
    "the same with a narrower generator and fewer epochs, for a CPU (README, ProS-GAN)."
)
recipe = st.selectbox("Recipe", list(RECIPES), key="recipe")
shown_settings = ("epochs", "beta", "bound", "ham_scale", "lr", "seed")
state.follow(recipe, {name: getattr(RECIPES[recipe], name) for name in shown_settings}, "recipe")
with st.form("train"):
    declared = {p.name: p for p in params.declared(TrainSettings)}
    chosen_values = {
        name: controls.param_control(state, column, declared[name], getattr(RECIPES[recipe], name))
        for column, name in zip([*st.columns(3), *st.columns(3)], shown_settings, strict=True)
    }
    go = st.form_submit_button("Train", type="primary")
if go:
    settings = replace(RECIPES[recipe], **chosen_values)
    folder = cached_run(system, settings)
    chart_slot = st.empty()
    seen: list[dict] = []

    def show(entry: dict) -> None:
        seen.append(entry)
        chart_slot.plotly_chart(
            charts.training_figure(
                seen, {"loss_generator": "generator", "held_out_t_map": "held-out t-MAP"}, "Training", "value"
            ),
            theme=None,
            key=f"live-{len(seen)}",
        )

    stop_help = "stops after the current batch; the finished epochs are kept and a later run resumes"
    log = resources.run_with_stop(
        "ProS-GAN", stop_help, lambda progress: train(system, settings, folder, progress=progress, on_epoch=show)
    )
    if log is not None:
        st.success(f"Trained: it is now in the list of section 1 ({folder}).")

state.report()
state.finish()
