"""Attack Lab: one query under attack, with every view a lecture needs."""

import hashlib
import random

import streamlit as st
import torch

from hashdemo import attacks, lab, ui
from hashdemo.explain import NOTES
from hashdemo.figures import charts, panels
from hashdemo.figures.paper import paper_figure
from hashdemo.protocols import resolve
from hashdemo.uploads import convert_upload

st.set_page_config(page_title="Attack Lab - hashdemo", layout="wide")
ui.sidebar_nav()

IMAGE_PX = 224


def lecture(name: str) -> None:
    equation, text = NOTES[name]
    with st.expander("What this shows"):
        st.latex(equation)
        st.write(text)


def show_png(image, caption: str | None = None, width: int | str = "content", where=st) -> None:
    """Every image on this page goes out as PNG: Streamlit's default JPEG would blur the perturbation."""
    where.image(image, caption=caption, output_format="PNG", width=width)


st.title("Attack Lab")
st.caption(
    "Pick a hashing model and an attack, perturb one query within an L-inf budget, and watch what the "
    "retrieval system returns before and after."
)

# ----- sidebar: model and attack ---------------------------------------------------------------------------
sb = st.sidebar
sb.header("Model")
spec = ui.model_picker(sb)
sb.header("Attack")
attack_name = ui.attack_picker(sb)
attack_cls = attacks.ATTACKS[attack_name]
sb.caption(f"{attack_cls.paper}")
protocol = ui.protocol_picker(sb, "lab", attack_name)
overrides = ui.budget_controls(sb, protocol, attack_name)
overrides |= ui.param_controls(sb, attack_name)
device = sb.selectbox(
    "Device", ui.devices(), key="device", bind="query-params", help="auto = the GPU when one is present."
)

if spec is None:
    st.info("Choose a model combination that exists in the zoo (see the sidebar).")
    st.stop()
try:
    system = ui.cached_system(spec, device)
except Exception as exc:  # a broken checkpoint must not take the page down
    ui.show_error(exc)
    st.stop()
data = system.dataset

# ----- the query ------------------------------------------------------------------------------------------
st.subheader("Query")
names = list(data.class_names)
source = st.radio(
    "Source", ["From the query set", "Upload your own image"], horizontal=True, key="source", bind="query-params"
)
query_image, query_labels, query_id = None, None, None
left, right = st.columns([2, 3])
if source == "From the query set":

    def random_query() -> None:
        st.session_state["qclass"] = random.choice(names)
        st.session_state["qindex"] = random.randrange(
            int(data.query.labels[:, names.index(st.session_state["qclass"])].sum())
        )

    qclass = left.selectbox(
        "Class",
        names,
        key="qclass",
        bind="query-params",
        help="Queries that carry this label (the query set holds 100 per class on fashion).",
    )
    members = torch.nonzero(data.query.labels[:, names.index(qclass)]).flatten()
    qindex = left.slider("Index within the class", 0, len(members) - 1, 0, key="qindex", bind="query-params")
    left.button("Random query", on_click=random_query)
    position = int(members[min(qindex, len(members) - 1)])
    query_image, query_labels = data.query.images([position]), data.query.labels[[position]]
    query_id = f"query-{position}"
    show_png(
        panels.upscale(panels.to_pil(query_image[0]), 168),
        f"query #{position}: {data.label_names(query_labels[0])}",
        where=right,
    )
else:
    upload = left.file_uploader("Image file (PNG, JPEG, ...; at most 20 MB)", key="upload")
    invert = left.selectbox(
        "Invert",
        ["auto", "yes", "no"],
        key="invert",
        help="Fashion-MNIST items are light on black; auto inverts photos with a light border.",
    )
    label = left.selectbox("What is it? (for relevance and label-using attacks)", names, key="upload_label")
    if upload is not None:
        try:
            converted = convert_upload(
                upload.getvalue(), data.image_shape, {"auto": None, "yes": True, "no": False}[invert]
            )
        except Exception as exc:
            ui.show_error(exc, right)
        else:
            query_image = converted.tensor
            query_labels = torch.zeros(1, data.num_classes, dtype=torch.bool)
            query_labels[0, names.index(label)] = True
            query_id = "upload-" + hashlib.sha256(upload.getvalue()).hexdigest()[:12] + invert
            a, b = right.columns(2)
            show_png(converted.original, "uploaded", width=168, where=a)
            show_png(panels.upscale(converted.converted, 168), "what the model sees", where=b)
            right.caption("Conversion: " + "; ".join(converted.steps) + ".")
    else:
        right.info("Upload an image to attack it; the conversion to the dataset's format is shown here.")

target_labels = None
if attack_cls.targeted and query_labels is not None:
    allowed = [n for i, n in enumerate(names) if not bool(query_labels[0, i])]
    target = st.selectbox(
        "Target label",
        ["random (drawn with the seed)"] + allowed,
        key="target",
        bind="query-params",
        help="Targeted attacks make the system return items of this label; it must differ from "
        "the query's own labels (DHTA, ProS-GAN).",
    )
    if target in allowed:
        target_labels = torch.zeros(1, data.num_classes, dtype=torch.bool)
        target_labels[0, names.index(target)] = True

k = st.slider("k (results shown and used for AP@k)", 5, 50, 10, 5, key="k", bind="query-params")
try:
    settings = resolve(protocol, attack_name, overrides)
except Exception as exc:
    ui.show_error(exc)
    st.stop()
config = (spec, device, settings, query_id, None if target_labels is None else tuple(target_labels[0].tolist()), k)

# ----- running --------------------------------------------------------------------------------------------
run_clicked = st.button("Run attack", type="primary", disabled=query_image is None)
first_load = not st.session_state.get("lab_loaded")
st.session_state["lab_loaded"] = True
auto = first_load and st.query_params.get("run") == "1"
if query_image is not None and (run_clicked or auto):
    bar = st.progress(0.0, text=f"{attack_cls.title}: running")
    try:
        run = lab.run_lab(
            system,
            settings,
            query_image,
            query_labels,
            target_labels=target_labels,
            k=k,
            extra={"query": query_id, "query_labels": data.label_names(query_labels[0])},
            progress=ui.step_progress(bar, attack_cls.title),
        )
    except Exception as exc:
        ui.show_error(exc)
    else:
        st.session_state["lab"] = {"config": config, "run": run, "figure": paper_figure(system, run)}
        st.query_params["run"] = "1"
    bar.empty()

stored = st.session_state.get("lab")
if not stored:
    st.info("Press **Run attack** to perturb this query.")
    st.stop()
if stored["config"] != config:
    st.warning("The settings changed since this result was computed; press **Run attack** to update it.")
run = stored["run"]
result = run.result
n = run.numbers

# ----- views ----------------------------------------------------------------------------------------------
st.subheader("Original, adversarial, perturbation")
perturbation, gain = panels.perturbation_image(result.perturbation[0], run.settings["eps"] / 255)
c1, c2, c3 = st.columns(3)
with c1:
    show_png(panels.upscale(panels.to_pil(result.images[0]), IMAGE_PX), "original", IMAGE_PX)
with c2:
    show_png(panels.upscale(panels.to_pil(result.adversarial[0]), IMAGE_PX), "adversarial", IMAGE_PX)
with c3:
    show_png(
        panels.stamp(panels.upscale(perturbation, IMAGE_PX), f"x{gain:.1f}"),
        f"perturbation x{gain:.1f} (red +, blue -; +-eps = full scale)",
        IMAGE_PX,
    )
lecture("images")

st.subheader("Hash codes")
show_png(panels.titled(panels.code_strip(result.clean_codes[0]), "clean code"))
show_png(
    panels.titled(
        panels.code_strip(result.adversarial_codes[0], result.clean_codes[0]),
        f"adversarial code: {n['hamming_clean_adv']} of {system.bits} bits flipped (red)",
    )
)
kind = attack_cls.target_kind or "target"
if result.target_codes is not None:
    show_png(
        panels.titled(
            panels.code_strip(result.target_codes[0]),
            f"{kind} code (Hamming to adversarial: {n['hamming_target_adv']}, to clean: {n['hamming_target_clean']})",
        )
    )
lecture("codes")

st.subheader(f"Top-{run.settings['k']} retrieval")
db = data.database
for title, ret in (("original query", run.clean), ("adversarial query", run.adversarial)):
    st.markdown(f"**{title}**")
    show_png(
        panels.retrieval_grid(
            db.images(ret.indices),
            ret.relevant.tolist(),
            ret.distances.tolist(),
            None if ret.target_hit is None else ret.target_hit.tolist(),
        )
    )
lecture("retrieval")

st.subheader("Hamming distance over iterations")
fig = charts.trace_figure(result.trace, system.bits, title=f"{attack_cls.title} on {system.name}", target_name=kind)
ui.chart(fig, "trace", f"trace-{attack_name}")
lecture("trace")

st.subheader("Numbers")
cols = st.columns(4)
cols[0].metric("Bits flipped", f"{n['hamming_clean_adv']} / {system.bits}")
if "ap_clean" in n:
    cols[1].metric(
        f"AP@{n['k']} (query label)",
        f"{n['ap_adv']:.3f}",
        f"{n['ap_adv'] - n['ap_clean']:+.3f}",
        delta_color="off",
        help=f"before: {n['ap_clean']:.3f}",
    )
    cols[2].metric(
        f"P@{n['k']}",
        f"{n['p_adv']:.2f}",
        f"{n['p_adv'] - n['p_clean']:+.2f}",
        delta_color="off",
        help=f"before: {n['p_clean']:.2f}",
    )
if "t_ap_clean" in n:
    cols[3].metric(
        f"t-AP@{n['k']} (target: {run.settings.get('target_label', '')})",
        f"{n['t_ap_adv']:.3f}",
        f"{n['t_ap_adv'] - n['t_ap_clean']:+.3f}",
        delta_color="off",
        help=f"before: {n['t_ap_clean']:.3f}",
    )
cols = st.columns(4)
cols[0].metric(
    "Perceptibility (RMSE)",
    f"{n['perceptibility_rmse']:.4f}",
    help="sqrt(mean (x - x')^2) over pixels in [0,1], as HAG and ProS-GAN report it",
)
cols[1].metric("L-inf (1/255)", f"{n['linf_255']:.2f}")
cols[2].metric("Attack time", f"{n['seconds']:.2f} s", help=f"one-off setup: {n['setup_seconds']:.1f} s")
lecture("numbers")
with st.expander(f"The attack: {attack_cls.title}"):
    st.latex(attack_cls.equation)
    st.write(f"{attack_cls.paper}.")
    st.write("Settings of this run: " + lab.settings_text(run.settings, attack_cls) + ".")

st.subheader("Export")
e1, e2 = st.columns(2)
e1.download_button(
    "Figure for a paper (PNG, 300 dpi)",
    stored["figure"],
    f"hashdemo-{attack_name}.png",
    "image/png",
    key="export-figure",
    on_click="ignore",
)
e2.download_button(
    "Settings and numbers (JSON)",
    run.to_json(),
    f"hashdemo-{attack_name}.json",
    "application/json",
    key="export-json",
    on_click="ignore",
)
