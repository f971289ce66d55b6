"""How hashing retrieval works: one query through the model, its code, the Hamming ranking and the map of codes."""

import streamlit as st
import torch

from hashdemo.experiments import lab
from hashdemo.figures import charts, panels
from hashdemo.retrieval.ranking import hamming_distance, rank
from hashdemo.ui import controls, exports, frame, resources, views
from hashdemo.ui.state import PageState

state = PageState.open("how")
exports.export_settings()
st.title("How hashing retrieval works")
frame.lecture_nav()
frame.intro(
    "Everything the attack pages change is here first: the image, the network's K outputs, their signs (the "
    "code), the Hamming distance to every database item, the top-k, and where the code sits among all codes."
)
st.sidebar.header("Model")
spec = controls.model_picker(state, st.sidebar)
system = resources.load_or_explain(spec)
data = system.dataset
left, right = st.columns([2, 3])
position, caption = controls.query_from_set(state, left, data)
image, labels = data.query.images([position]), data.query.labels[[position]]
with torch.no_grad():
    outputs = system.model(image.to(system.device))[0].cpu()
code = torch.where(outputs > 0, 1, -1).to(torch.int8)
px = frame.image_px(168)
views.show_png(
    views.drawn((spec, position, px), lambda: panels.upscale(panels.to_pil(image[0]), px)), caption, where=right
)

st.subheader("1. The network's K outputs")
st.latex(r"f(x) = \tanh(\alpha\,(W\,\phi(x) + b)) \in (-1, 1)^K")
bars = views.shared(
    (spec, position, "bars"), lambda: charts.output_bars_figure(outputs.tolist(), f"tanh outputs of {system.label}")
)
exports.chart(bars, "bars", "outputs")
st.write(
    f"The backbone turns the image into features phi(x); the hash layer maps them to K = {system.bits} numbers, "
    "squashed into (-1, 1) by tanh. Most sit near +1 or -1: training pushed them there (the quantisation term)."
)

st.subheader("2. Their signs are the code")
st.latex(r"b = \mathrm{sign}(f(x)) \in \{-1, +1\}^K")
views.show_png(
    views.drawn(
        (spec, position, "code"),
        lambda: panels.titled(panels.code_strip(code), f"code of the query ({system.bits} bits; dark = +1)"),
    )
)

st.subheader("3. Hamming distance to every database item")
st.latex(r"D_H(b, b_j) = \tfrac12\,(K - b^\top b_j)")
distances = hamming_distance(code[None], system.database_codes)[0]
relevant = (data.database.labels.float() @ labels[0].float()) > 0
histogram = views.shared(
    (spec, position, "histogram"),
    lambda: charts.distance_histogram(
        distances.tolist(), relevant.tolist(), system.bits, f"{len(distances):,} database items by distance"
    ),
)
exports.chart(histogram, "histogram", "distances")
st.write(
    "The system never compares images: it counts differing bits. Items of the query's class pile up at small "
    "distances; an attack has to move the code so that other items come first."
)

st.subheader("4. The top-k")
k = controls.param_control(state, st, lab.K)
index, dist = rank(code[None], system.database_codes, topk=k)
tile = frame.image_px(72) * views.DENSITY
top_k = lambda: panels.retrieval_grid(
    data.database.images(index[0]), relevant[index[0]].tolist(), dist[0].tolist(), tile=tile
)
views.show_png(views.drawn((spec, position, k, tile), top_k, views.DENSITY))
st.caption(
    "Ties in distance are broken by database index, so the list is reproducible. Blue solid frame with a "
    "check: shares a label with the query; orange dashed with a cross: does not."
)

st.subheader("5. The map of Hamming space")
code_map = resources.cached_code_map(spec)
point = code_map.project(code[None])[0].tolist()
code_map_chart = lambda: charts.code_map_figure(
    code_map, data.class_names, {"query": point}, title="Database codes on their first two principal axes"
)
exports.chart(views.shared((spec, position, "map"), code_map_chart), "map", "code-map")
st.write(
    "Each dot is a database item's code, projected on the two directions in which the codes vary most; classes "
    "form islands. The star is the query. In the Attack Lab the star moves: a non-targeted attack pushes it off "
    "its island, a targeted one onto another."
)
state.report()
state.finish()
st.page_link(
    "pages/attack_lab.py",
    label="Next: attack this query in the Attack Lab",
    icon=":material/biotech:",
    query_params={k: v for k, v in st.query_params.to_dict().items() if k != "k"},
)
