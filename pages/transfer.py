"""Transfer: perturbations made on one model, used on others (HAG Tables IV-VI, ProS-GAN Table 3); the sum of
several sources' perturbations, and that sum on a held-out model (a black-box attack)."""

import streamlit as st
import torch

from hashdemo.experiments.transfer import transfer
from hashdemo.figures import charts, panels, tables
from hashdemo.models.card import DEFAULT_DATASET
from hashdemo.retrieval.ranking import rank
from hashdemo.run.driver import run_attack
from hashdemo.run.protocols import DEFAULT_PROTOCOL
from hashdemo.run.settings import Choices
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.zoo import all_cards
from hashdemo.ui import controls, exports, frame, resources, views
from hashdemo.ui.state import PageState, url_selectbox

state = PageState.open("transfer")
exports.export_settings()
st.title("Transfer")
frame.intro(
    "An attacker rarely sees the model it attacks: here the perturbations are computed on source models and the "
    "same adversarial queries are sent to target models. The diagonal is the white-box attack; a target that no "
    "source resembles (another method and network) makes it a black-box attack."
)
by_data: dict[str, list] = {}
for e in all_cards():
    if not e.held_out_classes:
        by_data.setdefault(e.dataset, []).append(e)
sb = st.sidebar
dataset = url_selectbox(state, sb, "Dataset", list(by_data), "dataset", DEFAULT_DATASET)
entries = by_data[dataset]
sources_default = [e.source for e in entries if (e.method, e.bits, e.defence) == ("dpsh", 32, None)][:2]
sources = controls.models_multiselect(
    state,
    sb,
    "Sources (make the perturbations)",
    "sources",
    entries,
    sources_default or [e.source for e in entries[:2]],
)
black_box = [e.source for e in entries if e.backbone == "vgg-small"]
targets_default = (
    sources_default
    + [
        e.source
        for e in entries
        if e.method == "dpsh" and e.bits in (16, 64) and e.backbone == "smallcnn" and not e.defence
    ]
    + black_box
)
targets = controls.models_multiselect(
    state, sb, "Targets (are attacked)", "targets", entries, targets_default or [e.source for e in entries[:3]]
)
where = controls.spec_controls(state, sb, None)
attack = controls.attack_picker(state, sb)
source_systems = resources.load_many([ModelSpec(s, **where) for s in sources])
target_systems = resources.load_many([ModelSpec(t, **where) for t in targets])
sb.header("Protocol and budget")
protocol = controls.protocol_picker(state, sb, DEFAULT_PROTOCOL)
first_system = (source_systems or [None])[0]
overrides = controls.settings_controls(state, sb, protocol, attack=attack, system=first_system, query_set=True)
state.report()
state.finish()
if not sources or not targets:
    st.info("Choose at least one source and one target model in the sidebar.")
    st.stop()
if source_systems is None or target_systems is None:
    st.stop()
choices = Choices.of(protocol.name, overrides)

if st.button("Run the transfer", type="primary"):
    resources.run_with_stop(
        "transfer",
        "finished batches stay cached; the transfer resumes from them",
        lambda progress: transfer(source_systems, target_systems, attack, choices, progress=progress),
    )
try:
    found = transfer(source_systems, target_systems, attack, choices, only_cached=True)
except Exception as exc:
    resources.show_error(exc)
    st.stop()
if found is None:
    st.info("Not computed yet for these models and settings: press **Run the transfer**.")
    st.stop()
metric = "t-MAP" if found.targeted else "MAP"
st.subheader(f"{metric} of {controls.ATTACKS.get(attack).title} at {found.eps:g}/255")
exports.chart(charts.transfer_figure(found), "matrix", f"transfer-{attack}")
table = tables.transfer_table(found)
st.markdown(tables.markdown(table))
exports.table_downloads(table, "Table", "transfer")
st.caption(
    "In brackets: the change from the target's clean value (lower MAP or higher t-MAP = the attack carried over). "
    "Combined: the sum of every source's perturbation, as it is (its L-inf grows with the sources) and projected "
    "back to eps."
)

st.subheader("One query, from each source, on one target")
runs = {
    s.spec.source: run_attack(s, choices.settings(attack, s.spec), keep_images=True, only_cached=True)
    for s in source_systems
}
first = runs[sources[0]]
a, b = st.columns(2)
position = a.slider("Query (position in the sample)", 0, len(first.query_index) - 1, 0, key="example")
labels = {t.spec.source: t.label for t in target_systems}
target = b.selectbox("Target model", list(labels), key="example_target", format_func=labels.get)
target_system = next(t for t in target_systems if t.spec.source == target)
data = source_systems[0].dataset
query = int(first.query_index[position])
relevance = first.target_labels[[position]] if found.targeted else data.query.labels[[query]]
shown = [("clean query", data.query.images([query])[0])]
shown += [(f"from {s.label}", runs[s.spec.source].adversarial_images[position]) for s in source_systems]
for column, (title, image) in zip(st.columns(len(shown)), shown, strict=True):
    with torch.no_grad():
        code = target_system.model.encode(image[None].to(target_system.device)).cpu()
    index, distance = rank(code, target_system.database_codes, topk=5)
    hits = (target_system.dataset.database.labels[index[0]].float() @ relevance[0].float()) > 0
    views.show_png(panels.upscale(panels.to_pil(image), frame.image_px(112)), title, where=column)
    views.show_png(
        panels.retrieval_grid(
            data.database.images(index[0]), hits.tolist(), distance[0].tolist(), tile=28 * views.DENSITY, per_row=5
        ),
        where=column,
        density=views.DENSITY,
    )
st.caption(
    "Under each query: its top 5 on the target model (blue solid with a check: relevant"
    + (" to the target label)." if found.targeted else " to the query).")
)
