"""Streamlit helpers shared by the pages: cached loading, model picker, attack controls, exports.

Only widgets and layout live here; every number comes from the rest of the package.
"""

from __future__ import annotations

import streamlit as st
import torch

from . import attacks, zoo
from .defaults import DEFAULT_ZOO_CHOICE as DEFAULT
from .errors import HashdemoError
from .figures import charts
from .params import Param
from .protocols import PROTOCOLS, Protocol, get_protocol, resolve
from .system import HashingSystem, load_system

BIND = {"bind": "query-params"}


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


def param_controls(container, attack_name: str) -> dict:
    """One control per parameter the attack declares (range and help from the declaration); returns the values
    that differ from the defaults (the overrides)."""
    out = {}
    for param in attacks.attack_class(attack_name).parameters:
        value = param_control(container, param, f"{param.name}_{attack_name}")
        if value is not None and value != param.default:
            out[param.name] = value
    return out


def param_control(container, param: Param, key: str):
    """A selectbox for choices, a slider for a short closed range, a number box otherwise; None if fixed."""
    common = {"key": key, "help": param.help, **BIND}
    label = param.title[0].upper() + param.title[1:]
    if param.choices is not None:
        return container.selectbox(label, param.choices, index=param.choices.index(param.default), **common)
    if param.low is not None and param.high is not None and param.high - param.low <= 2 and not param.integer:
        step = 0.05
        low, high = param.low + step * param.open_low, param.high - step * param.open_high
        return container.slider(label, float(low), float(high), float(param.default), step, **common)
    if param.low is not None and param.high is not None and param.low == param.high:
        return None  # fixed by the method (P2P's n_t = 1)
    kind = int if param.integer else float
    return container.number_input(
        label,
        min_value=None if param.low is None else kind(param.low),
        max_value=None if param.high is None else kind(param.high),
        value=kind(param.default),
        step=kind(1) if param.integer else None,
        format=None if param.integer else "%g",
        **common,
    )


def protocol_values(protocol: Protocol, attack: str | None = None) -> dict:
    """The control values a protocol implies (eps, step, T, top-K); T is the attack's own under a paper protocol."""
    steps = resolve(protocol, attack).budget.steps if attack else protocol.steps
    return {
        "eps": float(protocol.eps),
        "step": float(protocol.step),
        "steps": steps,
        "topk": protocol.topk,
        "t_topk": protocol.t_topk,
    }


def protocol_picker(container, default: str, attack: str | None = None) -> Protocol:
    """The papers' protocols as one selector: choosing one sets the budget controls to its values, and
    what it sets is listed under it."""

    def apply() -> None:
        chosen = get_protocol(st.session_state["protocol"])
        for key, value in protocol_values(chosen, st.session_state.get("attack", attack)).items():
            st.session_state[key] = value

    name = url_selectbox(
        container,
        "Protocol",
        list(PROTOCOLS),
        "protocol",
        default,
        format_func=lambda n: f"{n}: {PROTOCOLS[n].title}",
        on_change=apply,
        help="A named bundle of every setting a paper's table uses (budget, optimiser, top-K, queries); the "
        "controls below start at its values and any change you make is recorded as an override.",
    )
    protocol = get_protocol(name)
    with container.expander(f"What '{name}' sets"):
        st.caption(
            ("hashdemo's own. " if protocol.ours else f"Source: {protocol.source}. ") + "; ".join(protocol.lines())
        )
    return protocol


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
        for column, fmt, mime in zip(st.columns(2), ("svg", "png"), ("image/svg+xml", "image/png"), strict=True):
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


def budget_controls(container, protocol: Protocol, attack: str | None = None, query_set: bool = False) -> dict:
    """eps, step, T (and for query sets: queries, top-K) starting at the protocol's values; returns the overrides.

    Under a paper protocol each attack keeps its own optimiser and iterations unless "Same T" is switched on.
    """
    defaults = protocol_values(protocol, attack)
    values = {
        "eps": container.slider(
            "Epsilon (1/255)",
            0.0,
            64.0,
            defaults["eps"],
            0.5,
            key="eps",
            **BIND,
            help="L-inf budget: no pixel moves by more than eps/255 (papers: 8).",
        ),
        "step": container.slider(
            "Step size (1/255)",
            0.25,
            8.0,
            defaults["step"],
            0.25,
            key="step",
            **BIND,
            help="PGD's step eta (PgA Eq. 15): each iteration moves every pixel by step/255 (papers: 1).",
        ),
    }
    per_attack = protocol.optimiser == "paper" and attack is None
    if not per_attack or container.toggle(
        "Same T for every attack",
        key="same_steps",
        **BIND,
        help="The protocol runs each attack for its own paper's iterations.",
    ):
        values["steps"] = container.slider(
            "Iterations T",
            1,
            2000,
            defaults["steps"],
            key="steps",
            **BIND,
            help="Gradient steps (PgA: 100; HAG and DHTA: 2000).",
        )
    values["seed"] = container.number_input(
        "Seed", 0, 2**31 - 1, 0, key="seed", **BIND, help="Random start and every random target or anchor draw."
    )
    if query_set:
        values["queries"] = container.slider(
            "Queries",
            10,
            1000,
            100,
            10,
            key="queries",
            **BIND,
            help="How many query images every attack gets (a seeded sample of the 1,000).",
        )
        values["query_seed"] = container.number_input("Query sample seed", 0, 10**6, 0, key="query_seed", **BIND)
        for key, label in (("topk", "MAP@K"), ("t_topk", "t-MAP@K")):
            values[key] = container.select_slider(
                label,
                [100, 500, 1000, 5000, -1],
                defaults[key],
                key=key,
                **BIND,
                format_func=lambda v: "all" if v < 0 else str(v),
                help="HAG and DHTA report MAP@1000, PgA MAP@5000, ProS-GAN the whole database.",
            )
    base = {**defaults, "seed": 0, "queries": None, "query_seed": 0}
    return {k: v for k, v in values.items() if v != base.get(k)}


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
