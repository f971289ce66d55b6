"""Attack Lab: one query under attack, with every view a lecture needs."""

import hashlib
import time

import streamlit as st
import torch

from hashdemo import attacks, lab, ui
from hashdemo.budget import UNIT
from hashdemo.explain import NOTES
from hashdemo.figures import charts, panels
from hashdemo.figures.paper import FORMATS, WIDTHS, paper_figure
from hashdemo.protocols import resolve
from hashdemo.uploads import convert_upload

ui.page("Attack Lab")
ui.export_settings()
link = ui.LinkCheck("lab")


def lecture(name: str) -> None:
    equation, text = NOTES[name]
    with st.expander("What this shows"):
        st.latex(equation)
        st.write(text)


def show_png(image, caption: str | None = None, width: int | str = "content", where=st) -> None:
    """Every image on this page goes out as PNG: Streamlit's default JPEG would blur the perturbation."""
    where.image(image, caption=caption, output_format="PNG", width=width)


st.title("Attack Lab")
st.caption("Perturb one query within an L-inf budget and watch what the retrieval system returns before and after.")

# ----- sidebar: model and attack ---------------------------------------------------------------------------
sb = st.sidebar
sb.header("Model")
spec = ui.model_picker(sb)
sb.header("Attack")
attack_name = ui.attack_picker(sb)
attack_cls = attacks.ATTACKS[attack_name]
sb.caption(attack_cls.paper)
protocol = ui.protocol_picker(sb, "lab", attack_name)
overrides = ui.budget_controls(sb, protocol, attack_name)
overrides |= ui.param_controls(sb, attack_name)
device = sb.selectbox("Device", ui.devices(), key="device", bind="query-params", help="auto = the GPU when present.")
system = ui.load_or_explain(spec, device)
data = system.dataset
names = list(data.class_names)

# ----- the query, the target and the run button, side by side ----------------------------------------------
query_image, query_labels, query_id = None, None, None
controls, shown, launch = st.columns([5, 3, 4], gap="medium")
source = controls.radio(
    "Query", ["From the query set", "Upload your own image"], horizontal=True, key="source", bind="query-params"
)
if source == "From the query set":
    position, caption = ui.query_from_set(controls, data)
    query_image, query_labels = data.query.images([position]), data.query.labels[[position]]
    query_id = f"query-{position}"
    show_png(panels.upscale(panels.to_pil(query_image[0]), ui.image_px(140)), caption, where=shown)
else:
    upload = controls.file_uploader("Image file (PNG, JPEG, GIF, BMP, TIFF, WebP; at most 20 MB)", key="upload")
    invert = controls.selectbox(
        "Invert",
        ["auto", "yes", "no"],
        key="invert",
        help="Fashion-MNIST items are light on black; auto inverts photos with a light border.",
    )
    label = controls.selectbox("What is it? (for relevance and label-using attacks)", names, key="upload_label")
    if upload is None:
        shown.info("Upload an image to attack it; its conversion to the dataset's format is shown here.")
    else:
        try:
            converted = convert_upload(
                upload.getvalue(), data.image_shape, {"auto": None, "yes": True, "no": False}[invert]
            )
        except Exception as exc:
            ui.show_error(exc, shown)
        else:
            query_image = converted.tensor
            query_labels = torch.zeros(1, data.num_classes, dtype=torch.bool)
            query_labels[0, names.index(label)] = True
            query_id = "upload-" + hashlib.sha256(upload.getvalue()).hexdigest()[:12] + invert
            show_png(panels.upscale(converted.converted, ui.image_px(140)), "what the model sees", where=shown)
            shown.caption("Conversion: " + "; ".join(converted.steps) + ".")

target_labels = None
if attack_cls.targeted and query_labels is not None:
    allowed = [n for i, n in enumerate(names) if not bool(query_labels[0, i])]
    unseen = {names[c] for c in system.meta.get("held_out_classes") or []}
    target = launch.selectbox(
        "Target label",
        ["random", *allowed],
        key="target",
        bind="query-params",
        format_func=lambda n: f"{n} (never seen in training)" if n in unseen else n,
        help="Targeted attacks make the system return items of this label, which the query does not carry "
        "(random: drawn with the seed). A label never seen in training is an open-set target (DHTA appendix).",
    )
    if target in allowed:
        target_labels = torch.zeros(1, data.num_classes, dtype=torch.bool)
        target_labels[0, names.index(target)] = True
k = launch.slider("k: results shown (and AP@k, P@k)", 5, 50, 10, 1, key="k", bind="query-params")
run_clicked = launch.button("Run attack", type="primary", disabled=query_image is None, use_container_width=True)
progress_slot = launch.empty()
link_ok = link.report()

try:
    settings = resolve(protocol, attack_name, overrides)
except Exception as exc:
    ui.show_error(exc)
    st.stop()
config = (spec, device, settings, query_id, None if target_labels is None else tuple(target_labels[0].tolist()), k)
auto = st.query_params.get("run") == "1" and link_ok and not st.session_state.get("lab_auto_done")
st.session_state["lab_auto_done"] = True
if query_image is not None and (run_clicked or auto):
    bar = progress_slot.progress(0.0, text=f"{attack_cls.title}: starting")
    try:
        run = lab.run_lab(
            system,
            settings,
            query_image,
            query_labels,
            target_labels=target_labels,
            k=k,
            extra={"query": query_id, "query_labels": data.label_names(query_labels[0])},
            keep_images=True,
            progress=ui.step_progress(bar, attack_cls.title),
        )
    except Exception as exc:
        ui.show_error(exc)
    else:
        st.session_state["lab"] = {"config": config, "run": run}
        st.query_params["run"] = "1"
    progress_slot.empty()

stored = st.session_state.get("lab")
if query_image is None:
    st.info("Choose a query (or upload a readable image) to run an attack.")
    st.stop()
if not stored:
    st.info("Press **Run attack** to perturb this query.")
    st.stop()
if stored["config"] != config:
    st.warning("The settings changed since this result was computed; press **Run attack** to update it.")
run = stored["run"]
result = run.result
n = run.numbers
kind = attack_cls.target_kind or "target"

# ----- the headline: right under the button, so a click visibly changes the first screen ---------------------
cols = ui.metric_columns(5)
for column, key, what in ((cols[0], "p", "share a label with the query"), (cols[1], "t_p", "carry the target label")):
    if f"{key}_clean" in n:
        column.metric(
            f"{key.replace('_', '-').replace('p', 'P')}@{n['k']}",
            f"{n[key + '_adv']:.2f}",
            f"from {n[key + '_clean']:.2f}",
            delta_color="off",
            delta_arrow="off",
            help=f"share of the top k that {what}, after the attack (before: below the number)",
        )
cols[2].metric("Bits flipped", f"{n['hamming_clean_adv']} / {system.bits}")
cols[3].metric(
    "Perceptibility (RMSE)", f"{n['perceptibility_rmse']:.4f}", help="sqrt(mean (x - x')^2), pixels in [0,1]"
)
cols[4].metric("Attack time", f"{n['seconds']:.2f} s", help=f"one-off setup: {n['setup_seconds']:.1f} s")
advice = lab.advice(run, attack_cls)
if advice:
    st.warning(advice)

px = ui.image_px(200)
# the full scale is +-eps; an unbounded attack (ProS-GAN) is scaled to its own largest change instead
scale = min(run.settings["eps"] * UNIT, float(result.linf[0]) or 1.0)
perturbation, gain = panels.perturbation_image(result.perturbation[0], scale)
semantic_map = getattr(result.plan, "semantic_map", None)
columns = st.columns(4 if semantic_map is not None else 3)
show_png(panels.upscale(panels.to_pil(result.images[0]), px), "original", "stretch", columns[0])
show_png(panels.upscale(panels.to_pil(result.adversarial[0]), px), "adversarial", "stretch", columns[1])
show_png(
    panels.stamp(panels.upscale(perturbation, px), f"x{gain:.1f}"),
    f"perturbation x{gain:.1f} (red +, blue -; +-{scale * 255:.3g}/255 = full scale)",
    "stretch",
    columns[2],
)
if semantic_map is not None:
    show_png(
        panels.upscale(panels.to_pil((semantic_map[0] + 1) / 2), px),
        "decoded semantic map D_t(r_t) of the target label",
        "stretch",
        columns[3],
    )
lecture("images")

st.subheader(f"Top-{run.settings['k']} retrieval")
db = data.database
for title, ret in (("original query", run.clean), ("adversarial query", run.adversarial)):
    st.markdown(f"**{title}**")
    grid = panels.retrieval_grid(
        db.images(ret.indices),
        ret.relevant.tolist(),
        ret.distances.tolist(),
        None if ret.target_hit is None else ret.target_hit.tolist(),
        tile=ui.image_px(72),
    )
    show_png(grid)
lecture("retrieval")

st.subheader("Hash codes")
show_png(panels.titled(panels.code_strip(result.clean_codes[0]), "clean code"))
show_png(
    panels.titled(
        panels.code_strip(result.adversarial_codes[0], result.clean_codes[0]),
        f"adversarial code: {n['hamming_clean_adv']} of {system.bits} bits flipped (framed)",
    )
)
if result.target_codes is not None:
    show_png(
        panels.titled(
            panels.code_strip(result.target_codes[0]),
            f"{kind} code (Hamming to adversarial: {n['hamming_target_adv']}, to clean: {n['hamming_target_clean']})",
        )
    )
lecture("codes")

st.subheader("Hamming distance over iterations")
if result.trace.loss.shape[0] > 2:
    fig = charts.trace_figure(result.trace, system.bits, title=attack_cls.title, target_name=kind)
    ui.chart(fig, "trace", f"trace-{attack_name}")
    lecture("trace")
else:
    st.caption(f"{attack_cls.title} takes {result.trace.loss.shape[0] - 1} gradient step(s): no trajectory to draw.")

# ----- the iteration scrubber --------------------------------------------------------------------------------
steps = len(result.snapshots) - 1
if steps >= 2:
    st.subheader("Step through the iterations")
    code_map = ui.cached_code_map(spec, device)
    path = code_map.project(torch.stack([s.codes[0] for s in result.snapshots.values()])).tolist()
    left, right = st.columns([2, 3])
    t = left.slider("Iteration t", 0, steps, steps, key="scrub", help="the iterate x_t of this run")
    play = left.button("Play", icon=":material/play_arrow:", help="run through the iterations from 0")
    frame = left.empty()
    chart_slot = right.empty()

    def draw(t: int) -> None:
        image, code, ret = lab.at_iteration(system, run, t)
        with frame.container():
            show_png(panels.upscale(panels.to_pil(image), ui.image_px(168)), f"x_{t}")
            show_png(panels.titled(panels.code_strip(code, result.clean_codes[0], cell=10), f"code at t = {t}"))
            show_png(
                panels.retrieval_grid(
                    db.images(ret.indices),
                    ret.relevant.tolist(),
                    ret.distances.tolist(),
                    None if ret.target_hit is None else ret.target_hit.tolist(),
                    tile=36,
                    per_row=5,
                )
            )
        marks = {"query": path[0], f"t = {t}": path[t]}
        chart_slot.plotly_chart(
            charts.code_map_figure(code_map, names, marks, path[: t + 1], "Map of the codes"),
            theme=None,
            key=f"map-{t}-{time.time_ns()}",
        )

    if play:
        for frame_t in sorted({round(i * steps / 24) for i in range(25)}):
            draw(frame_t)
            time.sleep(0.15)
    else:
        draw(t)
    st.caption(
        "The map shows the database codes on their first two principal axes (jittered a little: many codes "
        "coincide). The star moves from the query's clean code along the path its code takes during the attack."
    )

st.subheader("Numbers")
cols = ui.metric_columns(4)
if "p_clean" in n:
    cols[0].metric(
        f"P@{n['k']}",
        f"{n['p_adv']:.2f}",
        ui.delta(n["p_adv"] - n["p_clean"], 2),
        delta_arrow="auto" if n["p_adv"] != n["p_clean"] else "off",
        delta_color="off",
        help=f"before: {n['p_clean']:.2f}",
    )
    cols[1].metric(
        f"AP@{n['k']}",
        f"{n['ap_adv']:.3f}",
        ui.delta(n["ap_adv"] - n["ap_clean"], 3),
        delta_arrow="auto" if n["ap_adv"] != n["ap_clean"] else "off",
        delta_color="off",
        help=f"before: {n['ap_clean']:.3f}. AP@k averages the precision at each relevant hit over the relevant items "
        "found in the top k, so it stays 1.000 when the few relevant items left are ranked first; P@k counts them.",
    )
if "t_ap_clean" in n:
    cols[2].metric(
        f"t-AP@{n['k']}",
        f"{n['t_ap_adv']:.3f}",
        ui.delta(n["t_ap_adv"] - n["t_ap_clean"], 3),
        delta_arrow="auto" if n["t_ap_adv"] != n["t_ap_clean"] else "off",
        delta_color="off",
        help=f"target: {run.settings.get('target_label', '')}; before: {n['t_ap_clean']:.3f}",
    )
cols[3].metric("L-inf (1/255)", f"{n['linf_255']:.2f}")
lecture("numbers")
with st.expander(f"The attack: {attack_cls.title}"):
    st.latex(attack_cls.equation)
    st.write(f"{attack_cls.paper}.")
    st.write("Settings of this run: " + lab.settings_text(run.settings, attack_cls) + ".")

st.subheader("Export")
e1, e2 = st.columns(2)
width_label = e1.selectbox("Figure width", list(WIDTHS), index=1, key="figure_width")
fmt = e2.selectbox("Format", list(FORMATS), key="figure_format", format_func=str.upper)
e1.download_button(
    f"Figure for a paper ({fmt.upper()}, {WIDTHS[width_label]:g} in)",
    lambda: paper_figure(system, run, WIDTHS[width_label], fmt),
    f"hashdemo-{attack_name}.{fmt}",
    FORMATS[fmt],
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
