"""Transfer: perturbations made on one model, used on others (HAG Tables IV-VI, ProS-GAN Table 3); the sum of
several sources' perturbations, and that sum on a held-out model (a black-box attack)."""

import streamlit as st
import torch

from hashdemo import attacks, tables, ui
from hashdemo.cache import Stopped
from hashdemo.evaluation import run_attack
from hashdemo.figures import charts, panels
from hashdemo.protocols import resolve
from hashdemo.retrieval import rank
from hashdemo.system import load_system
from hashdemo.transfer import transfer

ui.page("Transfer")
ui.export_settings()
link = ui.LinkCheck("transfer")
st.title("Transfer")
st.caption(
    "An attacker rarely sees the model it attacks: here the perturbations are computed on source models and the "
    "same adversarial queries are sent to target models. The diagonal is the white-box attack; a target that no "
    "source resembles (another method and network) makes it a black-box attack."
)
entries = ui.zoo_entries()
by_data: dict[str, list[str]] = {}
for e in entries:
    if not e.get("held_out_classes"):
        by_data.setdefault(e["dataset"], []).append(f"zoo:{e['name']}")
sb = st.sidebar
dataset = ui.url_selectbox(sb, "Dataset", list(by_data), "dataset", "fashion")
zoo = by_data[dataset]
default_sources = [m for m in zoo if m.endswith(("dpsh-smallcnn-32", "dpsh-resnet18-cifar-32"))] or zoo[:2]
sources = ui.url_multiselect(
    sb,
    "Sources (make the perturbations)",
    zoo,
    "sources",
    default_sources,
    format_func=ui.model_label,
)
default_targets = default_sources + [
    m for m in zoo if m.endswith(("dpsh-smallcnn-16", "dpsh-smallcnn-64", "csq-resnet18-cifar-32"))
]
targets = ui.url_multiselect(
    sb,
    "Targets (are attacked)",
    zoo,
    "targets",
    default_targets or zoo[:3],
    format_func=ui.model_label,
)
attack_name = ui.attack_picker(sb, default="pga")
sb.header("Protocol and budget")
protocol = ui.protocol_picker(sb, "pgd", attack_name)
overrides = ui.budget_controls(sb, protocol, attack_name, query_set=True)
link.report()
if not sources or not targets:
    st.info("Choose at least one source and one target model in the sidebar.")
    st.stop()
try:
    resolve(protocol, attack_name, overrides)
except Exception as exc:
    ui.show_error(exc)
    st.stop()

if st.button("Run the transfer", type="primary"):
    st.button("Stop", help="stops after the current batch; finished sources stay cached")
    bar = st.progress(0.0, text="starting")
    try:
        transfer(
            sources,
            targets,
            attack_name,
            overrides=overrides,
            protocol=protocol.name,
            progress=lambda d, t, text: bar.progress(min(1.0, d / max(t, 1)), text=text),
        )
    except Stopped as exc:
        st.info(str(exc))
    except Exception as exc:
        ui.show_error(exc)
    bar.empty()
try:
    found = transfer(sources, targets, attack_name, overrides=overrides, protocol=protocol.name, only_cached=True)
except Exception as exc:
    ui.show_error(exc)
    st.stop()
if found is None:
    st.info("Not computed yet for these models and settings: press **Run the transfer**.")
    st.stop()
result = found.to_json()
metric = "t-MAP" if found.targeted else "MAP"
st.subheader(f"{metric} of {attacks.ATTACKS[attack_name].title} at {found.eps:g}/255")
ui.chart(charts.transfer_figure(result), "matrix", f"transfer-{attack_name}")
table = tables.transfer_table(result)
st.markdown(tables.markdown(table))
ui.table_downloads(table, "Table", "transfer")
st.caption(
    "In brackets: the change from the target's clean value (lower MAP or higher t-MAP = the attack carried over). "
    "Combined: the sum of every source's perturbation, as it is (its L-inf grows with the sources) and projected "
    "back to eps."
)

st.subheader("One query, from each source, on one target")
settings = resolve(protocol, attack_name, {**overrides})
first = load_system(sources[0])
runs = {s: run_attack(load_system(s), settings, keep_images=True, only_cached=True) for s in sources}
a, b = st.columns(2)
position = a.slider("Query (position in the sample)", 0, len(runs[sources[0]].query_index) - 1, 0, key="example")
target = b.selectbox("Target model", targets, key="example_target", format_func=ui.model_label)
target_system = load_system(target)
data = first.dataset
query = int(runs[sources[0]].query_index[position])
labels = data.query.labels[[query]]
relevance = runs[sources[0]].target_labels[[position]] if found.targeted else labels
columns = st.columns(1 + len(sources))
shown = [("clean query", data.query.images([query])[0])] + [
    (f"from {ui.model_label(s)}", runs[s].adversarial_images[position]) for s in sources
]
for column, (title, image) in zip(columns, shown, strict=True):
    with torch.no_grad():
        code = target_system.model.encode(image[None].to(target_system.device)).cpu()
    index, distance = rank(code, target_system.database_codes, topk=5)
    hits = (target_system.dataset.database.labels[index[0]].float() @ relevance[0].float()) > 0
    column.image(panels.upscale(panels.to_pil(image), ui.image_px(112)), caption=title, output_format="PNG")
    column.image(
        panels.retrieval_grid(data.database.images(index[0]), hits.tolist(), distance[0].tolist(), tile=28, per_row=5),
        output_format="PNG",
    )
st.caption(
    "Under each query: its top 5 on the target model (blue solid with a check: relevant"
    + (" to the target label)." if found.targeted else " to the query).")
)
