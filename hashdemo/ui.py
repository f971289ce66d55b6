"""Streamlit helpers shared by the pages: cached loading, model picker, attack controls, exports.

Only widgets and layout live here; every number comes from the rest of the package.
"""

from __future__ import annotations

import random

import streamlit as st
import torch

from . import attacks, tables, zoo
from .codemap import CodeMap, code_map
from .defaults import DEFAULT_ZOO_CHOICE as DEFAULT
from .defaults import OPENING_QUERY
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


@st.cache_resource(show_spinner="Mapping the database codes...")
def cached_code_map(spec: str, device: str) -> CodeMap:
    """The 2-D map of a model's database codes (first two principal axes), shared by every session."""
    system = cached_system(spec, device)
    return code_map(system.database_codes, system.dataset.database.labels)


def delta(change: float, places: int) -> str:
    """A metric's change as text; no change reads 'unchanged' (shown without an arrow)."""
    return "unchanged" if round(change, places) == 0 else f"{change:+.{places}f}"


def step_progress(bar, title: str, updates: int = 20):
    """A progress callback for an attack's iterations that redraws the bar about `updates` times."""

    def report(t: int, total: int, text: str) -> None:
        if (t + 1) % max(1, total // updates) == 0 or t + 1 >= total:
            doing = text if " " in text else "step"  # a one-off stage names itself ("training the PrototypeNet")
            bar.progress(min(1.0, (t + 1) / max(total, 1)), text=f"{title}: {doing} {t + 1}/{total}")

    return report


@st.cache_data
def zoo_entries() -> list[dict]:
    return zoo.list_models()


def url_selectbox(container, label: str, options: list, key: str, default=None, snapped: str = "", **kwargs):
    """A selectbox mirrored into the URL as ?key=<option> (Streamlit's own binding would store the
    format_func label); a link opens with that option selected. When the options change under a choice
    (another dataset has other models), the choice snaps to the default and `snapped` (with {old} and
    {new}) says so."""
    fallback = default if default in options else options[0]
    if key in st.session_state and st.session_state[key] not in options:
        old = st.session_state[key]
        st.session_state[key] = fallback
        if snapped:
            container.caption(snapped.format(old=old, new=fallback))
    start = {str(o): o for o in options}.get(st.query_params.get(key), fallback)
    value = container.selectbox(label, options, index=options.index(start), key=key, **kwargs)
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
    ("pages/0_How_hashing_works.py", "How hashing works", ":material/school:"),
    ("pages/1_Attack_Lab.py", "Attack Lab", ":material/biotech:"),
    ("pages/2_Compare.py", "Compare", ":material/table_chart:"),
    ("pages/3_Sweep.py", "Sweep", ":material/show_chart:"),
    ("pages/4_ProS-GAN.py", "ProS-GAN", ":material/auto_awesome:"),
    ("pages/5_Robustness.py", "Robustness", ":material/shield:"),
    ("pages/6_Transfer.py", "Transfer", ":material/swap_horiz:"),
    ("pages/9_Lecture.py", "Lecture", ":material/co_present:"),
]
BASE_CSS = """<style>
[data-testid="stImage"] img { max-width: 100%; height: auto; image-rendering: pixelated; }
</style>"""
PRESENTATION_CSS = """<style>
html { font-size: 22px; }
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; max-width: 100%; }
</style>"""


def presenting() -> bool:
    """Presentation mode (a projector): larger text and images, no header; the sidebar starts collapsed."""
    return bool(st.session_state.get("present", st.query_params.get("present") in ("True", "true", "1")))


def page(title: str) -> None:
    """The frame every page shares: page config, links to every page, the presentation-mode toggle."""
    st.set_page_config(
        page_title=f"{title} - hashdemo" if title != "hashdemo" else title,
        layout="wide",
        initial_sidebar_state="collapsed" if presenting() else "auto",
    )
    for path, label, icon in PAGES:
        st.sidebar.page_link(path, label=label, icon=icon)
    st.sidebar.toggle(
        "Presentation mode",
        key="present",
        bind="query-params",
        help="For a projector: larger text and images, no header, the sidebar folded away (its arrow at the top "
        "left opens it again).",
    )
    st.sidebar.divider()
    st.markdown(BASE_CSS + (PRESENTATION_CSS if presenting() else ""), unsafe_allow_html=True)


def metric_columns(count: int) -> list:
    """Columns for `count` metrics: one row on a screen, rows of three in presentation mode (large text)."""
    per_row = 3 if presenting() else count
    return [column for first in range(0, count, per_row) for column in st.columns(per_row)][:count]


def image_px(base: int) -> int:
    """Screen width of an image panel: 1.5x in presentation mode."""
    return int(base * 1.5) if presenting() else base


class LinkCheck:
    """What a shared link asked for, compared with what the page's controls show once they are drawn.

    Streamlit quietly drops a URL value a control cannot take (eps=abc, steps=0, qclass=Nope); this names
    each one, so a link never runs a different experiment than it asks for without saying so.
    """

    EXTRA = ("run",)  # keys that are not controls

    def __init__(self, page_name: str):
        flag = f"_link_checked_{page_name}"
        first = not st.session_state.get(flag)
        self.wanted = {k: st.query_params.get_all(k) for k in st.query_params} if first else {}
        st.session_state[flag] = True
        self.notice = st.empty()

    def ignored(self) -> list[str]:
        out = []
        for key, texts in self.wanted.items():
            if key in self.EXTRA:
                continue
            if key not in st.session_state:
                out.append(f"{key}={','.join(texts)} (not a setting of this page)")
            elif not same_value(texts, st.session_state[key]):
                out.append(f"{key}={','.join(texts)} (shown: {st.session_state[key]})")
        return out

    def report(self) -> bool:
        """Show what the link asked for that could not be used; True when everything was used."""
        ignored = self.ignored()
        if ignored:
            self.notice.warning(
                "This link asked for settings the page cannot use, so the controls show other values: "
                + "; ".join(ignored)
                + ". Nothing runs by itself; check the controls and press the run button."
            )
        return not ignored


def same_value(texts: list[str], shown) -> bool:
    """Whether URL text(s) mean the value a control shows (numbers compared as numbers)."""
    if isinstance(shown, list | tuple):
        return texts == [str(v) for v in shown]
    text = texts[-1]
    if isinstance(shown, bool):
        return text.lower() in ("true", "1") if shown else text.lower() in ("false", "0")
    if isinstance(shown, int | float):
        try:
            return abs(float(text) - float(shown)) <= 1e-9 * max(1.0, abs(float(shown)))
        except ValueError:
            return False
    return text == str(shown)


def devices() -> list[str]:
    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])


MODEL_LEVELS = (
    (
        "dataset",
        "Dataset",
        "fashion: 28x28 grey clothing photos, 10 classes. fashion-mosaic: 2x2 mosaics, multi-label "
        "like NUS-WIDE / MS-COCO.",
    ),
    ("backbone", "Backbone", "The network before the hash layer: a small CNN or a CIFAR-style ResNet-18."),
    ("method", "Hashing method", "The training loss that made the codes (DPH = the model HAG attacks, Eq. 11)."),
    ("bits", "Bit length K", "Code length: the model outputs sign(tanh(f(x))) in {-1,+1}^K."),
    (
        "variant",
        "Variant",
        "standard; adversarially trained (atrdh: Wang et al. 2021, pharos-at: PgA Eq. 16); or "
        "open set (two classes never seen in training, DHTA appendix)",
    ),
)


def model_picker(container=st.sidebar) -> str | None:
    """Dataset / backbone / method / bits, each offering only what the zoo has for the choices above it
    (a choice that no longer exists snaps to the default and says so); returns 'zoo:<name>'."""
    entries = zoo_entries()
    if not entries:
        container.error("The model zoo is empty: run `make zoo` to build assets/zoo.")
        return None
    here, chosen = [{**e, "variant": zoo.variant(e)} for e in entries], []
    for field, label, help_text in MODEL_LEVELS:
        options = list(dict.fromkeys(e.get(field) for e in here))
        if field != "dataset":
            options.sort(key=str)
        within = " / ".join(map(str, chosen)) or "the zoo"
        value = url_selectbox(
            container,
            label,
            options,
            field,
            DEFAULT[field],
            snapped=f"{label} {{old}} is not in the zoo for {within}: showing {{new}}.",
            help=help_text,
        )
        here = [e for e in here if e.get(field) == value]
        chosen.append(value)
    return f"zoo:{here[0]['name']}"


def query_from_set(container, data) -> tuple[int, str]:
    """Class and index within the class (and a random draw) -> (position in the query split, its caption)."""
    names = list(data.class_names)

    def random_query() -> None:
        st.session_state["qclass"] = random.choice(names)
        members = int(data.query.labels[:, names.index(st.session_state["qclass"])].sum())
        st.session_state["qindex"] = random.randrange(members)

    opening_class, opening_index = OPENING_QUERY
    qclass = container.selectbox(
        "Class",
        names,
        index=names.index(opening_class) if opening_class in names else 0,
        key="qclass",
        bind="query-params",
        help="Queries that carry this label (100 per class).",
    )
    members = torch.nonzero(data.query.labels[:, names.index(qclass)]).flatten()
    qindex = container.slider(
        "Index within the class", 0, len(members) - 1, opening_index, key="qindex", bind="query-params"
    )
    container.button("Random query", on_click=random_query)
    position = int(members[min(qindex, len(members) - 1)])
    return position, f"query #{position}: {data.label_names(data.query.labels[position])}"


def model_label(spec: str) -> str:
    """A zoo model as a short label: zoo:fashion-dph-smallcnn-32-atrdh -> dph-smallcnn-32-atrdh."""
    return spec.removeprefix("zoo:").removeprefix("fashion-")


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
    if isinstance(param.default, bool):
        return container.checkbox(label, value=param.default, **common)
    if isinstance(param.default, str):
        return container.text_input(label, value=param.default, **common).strip() or param.default
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


EXPORT_WIDTHS = {"as on screen": None, "one column (3.5 in)": 3.5, "two columns (7.2 in)": 7.2}
CHART_FORMATS = {"svg": "image/svg+xml", "pdf": "application/pdf", "png": "image/png"}


def queries_slider(container, help_text: str) -> int:
    """How many of the 1,000 queries (a seeded sample), bound to the URL."""
    return container.slider("Queries", 10, 1000, 100, 10, key="queries", **BIND, help=help_text)


TABLE_FORMATS = (
    ("csv", "CSV", "text/csv", "csv"),
    ("md", "Markdown", "text/markdown", "md"),
    ("latex", "LaTeX", "application/x-tex", "tex"),
)


def table_downloads(table: tables.Table, what: str, stem: str) -> None:
    """One download button per format, side by side: CSV (with its settings preamble), Markdown, booktabs LaTeX."""
    for column, (fmt, name, mime, ext) in zip(st.columns(len(TABLE_FORMATS)), TABLE_FORMATS, strict=True):
        column.download_button(
            f"{what} as {name}", tables.render_table(table, fmt), f"{stem}.{ext}", mime, on_click="ignore"
        )


def export_settings(container=st.sidebar) -> None:
    """How charts are exported on this page: the printed width (300 dpi, text of 7 pt or more) and titles."""
    with container.expander("Chart exports"):
        st.selectbox(
            "Width",
            list(EXPORT_WIDTHS),
            index=2,
            key="export_width",
            help="A paper's column: text stays 7 pt or larger; PNG carries its DPI (300).",
        )
        st.toggle("Titles", True, key="export_titles", help="Off: a figure caption usually says it instead.")


def chart(fig, key: str, file_stem: str) -> None:
    """A plotly chart with its own template and a 3x SVG camera button; SVG / PDF / PNG downloads at the printed
    width chosen under "Chart exports" when kaleido can run (it needs a Chromium)."""
    st.plotly_chart(
        fig, theme=None, key=key, config={"toImageButtonOptions": {"format": "svg", "filename": file_stem, "scale": 3}}
    )
    if not charts.static_export_available():
        st.caption(
            "Download the chart with the camera icon in its toolbar (SVG at 3x); server-side export needs a "
            "Chromium (Debian: apt-get install chromium)."
        )
        return
    width = EXPORT_WIDTHS[st.session_state.get("export_width", "two columns (7.2 in)")]
    title = st.session_state.get("export_titles", True)
    for column, (fmt, mime) in zip(st.columns(3), CHART_FORMATS.items(), strict=True):
        column.download_button(
            f"Chart as {fmt.upper()}",
            lambda fmt=fmt: charts.to_image(fig, fmt, width_in=width, title=title),
            f"{file_stem}.{fmt}",
            mime,
            key=f"{key}-{fmt}",
            on_click="ignore",
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
        values["queries"] = queries_slider(
            container, "How many query images every attack gets (a seeded sample of the 1,000)."
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


def target_set_control(container, system: HashingSystem) -> dict:
    """For a model with classes held out of its training: aim targeted attacks at seen or at unseen classes."""
    held_out = system.meta.get("held_out_classes") or []
    if not held_out:
        return {}
    unseen = ", ".join(system.dataset.class_names[c] for c in held_out)
    choice = container.radio(
        "Target labels",
        ["closed", "open"],
        key="target_set",
        bind="query-params",
        horizontal=True,
        format_func=lambda v: "seen in training (closed set)" if v == "closed" else f"never seen: {unseen} (open set)",
        help="DHTA appendix: an open-set target is a class the hashing model never saw; its anchor comes from "
        "database items of the class. THA and ProS-GAN cannot aim at one (no prototype).",
    )
    return {"target_set": choice} if choice != "closed" else {}


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
