"""Streamlit helpers shared by the pages: cached loading, model picker, attack controls, exports.

Only widgets and layout live here; every number comes from the rest of the package.
"""

from __future__ import annotations

import streamlit as st
import torch

from . import attacks, zoo
from .errors import HashdemoError
from .figures import charts
from .system import HashingSystem, load_system

BIND = {"bind": "query-params"}
DEFAULT = {"dataset": "fashion", "backbone": "smallcnn", "method": "dpsh", "bits": 32}  # zoo:fashion-dpsh-smallcnn-32


@st.cache_resource(show_spinner="Loading the model, its dataset and its database codes...")
def cached_system(spec: str, device: str) -> HashingSystem:
    """One shared, never-mutated system per (model, device) for every browser session, warmed up so that the
    first click does not pay for kernel initialisation."""
    system = load_system(spec, device)
    probe = torch.zeros(2, *system.dataset.image_shape, device=system.device, requires_grad=True)
    torch.autograd.grad(system.model(probe).sum(), probe)
    return system


def step_progress(bar, title: str, updates: int = 20):
    """A progress callback for an attack's iterations that redraws the bar about `updates` times."""

    def report(t: int, total: int, _: str) -> None:
        if (t + 1) % max(1, total // updates) == 0 or t + 1 >= total:
            bar.progress(min(1.0, (t + 1) / max(total, 1)), text=f"{title}: step {t + 1}/{total}")

    return report


@st.cache_data
def zoo_entries() -> list[dict]:
    return zoo.list_models()


def url_selectbox(container, label: str, options: list, key: str, default=None, **kwargs):
    """A selectbox mirrored into the URL as ?key=<option> (Streamlit's own binding would store the
    format_func label); a link opens with that option selected."""
    wanted = st.query_params.get(key)
    by_text = {str(o): o for o in options}
    start = by_text.get(wanted, default)
    value = container.selectbox(
        label, options, index=options.index(start) if start in options else 0, key=key, **kwargs
    )
    if value == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = str(value)
    return value


def url_multiselect(container, label: str, options: list[str], key: str, default: list[str], **kwargs) -> list[str]:
    """A multiselect mirrored into the URL as repeated ?key=a&key=b."""
    wanted = [v for v in st.query_params.get_all(key) if v in options]
    value = container.multiselect(label, options, default=wanted or default, key=key, **kwargs)
    st.query_params[key] = value
    return value


PAGES = [
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Attack_Lab.py", "Attack Lab", ":material/biotech:"),
    ("pages/2_Compare.py", "Compare", ":material/table_chart:"),
    ("pages/3_Sweep.py", "Sweep", ":material/show_chart:"),
]


def sidebar_nav() -> None:
    """Links to every page at the top of the sidebar (Streamlit's own list would call the landing page "app")."""
    for path, label, icon in PAGES:
        st.sidebar.page_link(path, label=label, icon=icon)
    st.sidebar.divider()


def devices() -> list[str]:
    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def model_picker(container=st.sidebar) -> str | None:
    """Dataset / backbone / method / bits from the zoo; returns 'zoo:<name>', or None (with the reason shown)."""
    entries = zoo_entries()
    if not entries:
        container.error("The model zoo is empty: run `make zoo` to build assets/zoo.")
        return None
    datasets = list(dict.fromkeys(e["dataset"] for e in entries))
    dataset = url_selectbox(
        container,
        "Dataset",
        datasets,
        "dataset",
        DEFAULT["dataset"],
        help="fashion: 28x28 grey clothing photos, 10 classes. fashion-mosaic: 2x2 mosaics, "
        "multi-label like NUS-WIDE / MS-COCO.",
    )
    here = [e for e in entries if e["dataset"] == dataset]

    def choice(label: str, field: str, pool: list[dict], key: str, help: str):
        values = sorted({e[field] for e in entries}, key=str)
        present = {e[field] for e in pool}
        value = url_selectbox(
            container,
            label,
            values,
            key,
            DEFAULT[field],
            help=help,
            format_func=lambda v: f"{v}" if v in present else f"{v} (not in the zoo here)",
        )
        return value, [e for e in pool if e[field] == value]

    backbone, here = choice(
        "Backbone",
        "backbone",
        here,
        "backbone",
        "The network before the hash layer: a small CNN or a CIFAR-style ResNet-18.",
    )
    method, here = choice(
        "Hashing method",
        "method",
        here,
        "method",
        "The training loss that made the codes (DPH = the model HAG attacks, Eq. 11).",
    )
    bits, here = choice(
        "Bit length K", "bits", here, "bits", "Code length: the model outputs sign(tanh(f(x))) in {-1,+1}^K."
    )
    if not here:
        available = ", ".join(f"{e['backbone']}/{e['method']}/{e['bits']}" for e in entries if e["dataset"] == dataset)
        container.error(
            f"No {dataset} model with {backbone} + {method} at {bits} bits in the zoo. "
            f"Available for {dataset}: {available}. Train one with `python -m hashdemo train "
            f"--dataset {dataset} --backbone {backbone} --method {method} --bits {bits}`."
        )
        return None
    return f"zoo:{here[0]['name']}"


def attack_label(name: str) -> str:
    cls = attacks.ATTACKS[name]
    return f"{cls.group}: {cls.title}"


def attack_picker(container=st.sidebar, default: str = "pga", options: list[str] | None = None) -> str:
    names = options or [n for group in attacks.by_group().values() for n in group]
    return url_selectbox(
        container,
        "Attack",
        names,
        "attack",
        default,
        format_func=attack_label,
        help="Non-targeted attacks push retrieval away from the query's class; targeted "
        "ones pull it towards a chosen label; baselines are for comparison.",
    )


def margin_control(container, attack_name: str) -> dict:
    """The margin t of HAG (mask, Eq. 7) or PgA (Eq. 12-14) when the attack has one."""
    defaults = attacks.ATTACKS[attack_name].method_defaults
    if "t" not in defaults:
        return {}
    if defaults["t"] >= 0:
        value = container.slider(
            "Margin t (HAG mask)",
            0.0,
            1.0,
            float(defaults["t"]),
            0.05,
            key=f"t_{attack_name}",
            **BIND,
            help="HAG Eq. 7: bits already flipped by more than t leave the loss (paper: 0.5).",
        )
    else:
        value = container.slider(
            "Margin t (PgA)",
            -0.95,
            -0.05,
            float(defaults["t"]),
            0.05,
            key=f"t_{attack_name}",
            **BIND,
            help="PgA Eq. 12-14: each bit of u = b* o f(x') is pushed until it reaches t (paper: -0.8).",
        )
    return {"t": value}


def show_error(exc: Exception, where=st) -> None:
    """A HashdemoError is the user's to fix: show its message in place; anything else is a bug, shown as such."""
    if isinstance(exc, HashdemoError):
        where.error(str(exc))
    else:
        where.exception(exc)


def chart(fig, key: str, file_stem: str) -> None:
    """A plotly chart with its own template, a 3x SVG camera button, and SVG/PNG downloads when kaleido can run."""
    st.plotly_chart(
        fig, theme=None, key=key, config={"toImageButtonOptions": {"format": "svg", "filename": file_stem, "scale": 3}}
    )
    if charts.static_export_available():
        for column, fmt, mime in zip(st.columns(2), ("svg", "png"), ("image/svg+xml", "image/png")):
            column.download_button(
                f"Chart as {fmt.upper()}",
                lambda fmt=fmt: charts.to_image(fig, fmt),
                f"{file_stem}.{fmt}",
                mime,
                key=f"{key}-{fmt}",
                on_click="ignore",
            )
    else:
        st.caption(
            "Download the chart with the camera icon in its toolbar (SVG at 3x); server-side export needs a "
            "Chromium (Debian: apt-get install chromium)."
        )


def model_or_checkpoint(container=st.sidebar) -> str | None:
    """The zoo picker, or a checkpoint folder written by `python -m hashdemo train` when one is given."""
    spec = model_picker(container)
    folder = container.text_input(
        "...or a trained checkpoint folder",
        key="checkpoint",
        bind="query-params",
        help="A folder written by `python -m hashdemo train` (model.safetensors, meta.json, "
        "codes.safetensors). Leave empty to use the zoo model above.",
    )
    return folder.strip() or spec


def budget_controls(container=st.sidebar) -> dict:
    """Query set and attack budget shared by the Compare and Sweep pages (eps, alpha in 1/255 units)."""
    container.header("Queries and budget")
    queries = container.slider(
        "Queries",
        10,
        1000,
        100,
        10,
        key="queries",
        **BIND,
        help="How many query images every attack gets (a seeded sample of the 1,000).",
    )
    query_seed = container.number_input("Query sample seed", 0, 10**6, 0, key="query_seed", **BIND)
    eps = container.slider(
        "Epsilon (1/255)", 0.0, 64.0, 8.0, 0.5, key="eps", **BIND, help="L-inf budget for every attack (papers: 8)."
    )
    alpha = container.slider(
        "Step size (1/255)", 0.25, 8.0, 1.0, 0.25, key="alpha", **BIND, help="PGD step (papers: 1)."
    )
    steps = container.slider("Iterations T", 1, 500, 100, key="steps", **BIND, help="(PgA: 100)")
    topk = container.select_slider(
        "MAP@K",
        [100, 500, 1000, 5000, -1],
        1000,
        key="topk",
        **BIND,
        format_func=lambda v: "all" if v < 0 else str(v),
        help="HAG and DHTA report MAP@1000, PgA MAP@5000, ProS-GAN the whole database.",
    )
    seed = container.number_input(
        "Seed", 0, 2**31 - 1, 0, key="seed", **BIND, help="Random start and target-label draws."
    )
    return {
        "queries": queries,
        "query_seed": int(query_seed),
        "eps": eps,
        "alpha": alpha,
        "steps": steps,
        "topk": topk,
        "seed": int(seed),
    }


def load_or_explain(spec: str | None, device: str = "auto") -> HashingSystem:
    """Load the chosen system, or show why not and stop the page (the sidebar stays usable)."""
    if spec is None:
        st.info("Choose a model combination that exists in the zoo (see the sidebar).")
        st.stop()
    try:
        return cached_system(spec, device)
    except Exception as exc:  # a missing or broken checkpoint must not take the page down
        show_error(exc)
        st.stop()
