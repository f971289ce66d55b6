"""The app's controls, generated from the declarations: a control per Param (its range, increment, unit and help),
the model picker over the zoo and the user's own models, the attack and protocol pickers, the query chooser."""

from __future__ import annotations

import random
from dataclasses import replace

import streamlit as st
import torch

from .. import attacks
from ..attacks import ATTACKS, LOOP_PARAMS
from ..core.errors import HashdemoError
from ..core.params import Param
from ..data import DATASETS, resolve_root
from ..defences import DEFENCES
from ..models import BACKBONES
from ..run.protocols import PROTOCOLS, Protocol, get_protocol
from ..run.settings import DEVICE, QUERIES, QUERY_SEED, RUN_PARAMS, SEED, T_TOPK, TOPK, resolve
from ..systems.spec import ModelSpec
from ..systems.zoo import ModelEntry, all_entries, entry_of, resolve_folder
from .state import PageState, parse_param, url_multiselect, url_selectbox

DEFAULT_CHOICE = {"dataset": "fashion", "backbone": "smallcnn", "method": "dpsh", "bits": 32, "variant": "standard"}
# The opening query: measured so that every attack kind visibly works on it under the lab protocol (eps 16/255,
# T = 100): HAG and PgA bring its P@10 from 1.0 to 0.0, and P2P, DHTA, THA, DHTA + I-FGSM and the feature attack
# all reach the target that seed 0 draws for it (Coat) and 6 of its 8 other targets (README, "The Attack Lab").
OPENING_QUERY = ("Sandal", 0)
RUN_PARAM = {p.name: p for p in RUN_PARAMS + LOOP_PARAMS}
TOPK_CHOICES = [100, 500, 1000, 5000, -1]
JS_LARGEST = 2**53 - 1  # the largest whole number a browser's number box holds exactly


def label_of(param: Param) -> str:
    text = param.title[0].upper() + param.title[1:]
    return f"{text} {param.unit}".strip()


def param_control(state: PageState, container, param: Param, default=None, name: str | None = None, **kwargs):
    """One control for a declared setting, its range and increment from the declaration; the link's value on
    arrival (a value it cannot take is named with its range and unit). None for a value the method fixes."""
    name = name or param.name
    default = param.default if default is None and not param.optional else default
    if param.numeric and param.low is not None and param.low == param.high:
        return None  # fixed by the method (P2P's n_t = 1)
    key = state.start(name, default, parse_param(param), f"{label_of(param)} ({name}; {param.wanted()})")
    common = {"key": key, "help": param.help, **kwargs}
    label = label_of(param)
    if param.choices is not None:
        value = container.selectbox(label, list(param.choices), **common)
    elif param.is_bool and param.optional:
        options = [None, True, False]
        text = {None: "the paper's default", True: "yes", False: "no"}
        value = container.selectbox(label, options, format_func=text.get, **common)
    elif param.is_bool:
        value = container.checkbox(label, **common)
    elif param.is_text:
        value = container.text_input(label, **common).strip() or param.default
    else:
        value = number_control(container, param, label, common)
    state.write(name, value, default)
    return value


def number_control(container, param: Param, label: str, common: dict):
    """A slider for a closed range of at most 200 declared increments (a margin in (-1, 0)), a number box with
    the declared increment otherwise."""
    kind = int if param.integer else float
    closed = param.low is not None and param.high is not None
    if closed and param.increment and (param.high - param.low) / param.increment <= 200 and not param.integer:
        step = param.increment
        low, high = param.low + step * param.open_low, param.high - step * param.open_high
        return container.slider(label, float(low), float(high), step=step, **common)
    step = param.increment or (1 if param.integer else None)
    return container.number_input(
        label,
        min_value=None if param.low is None else kind(param.low + (param.increment or 0) * param.open_low),
        max_value=None if param.high is None else kind(min(param.high, JS_LARGEST)),
        step=None if step is None else kind(step),
        format=None if param.integer else "%g",
        **common,
    )


# ----- the model --------------------------------------------------------------------------------------------------
LEVELS = (
    ("dataset", "Dataset", lambda v: DATASETS.get(v).description if v in DATASETS else ""),
    ("backbone", "Backbone", lambda v: BACKBONES.get(v).description if v in BACKBONES else ""),
    ("method", "Hashing method", lambda v: v),
    ("bits", "Bit length K", lambda v: f"{v} bits"),
    ("variant", "Variant", lambda v: DEFENCES.get(v).paper if v in DEFENCES else v),
)


def devices() -> list[str]:
    return ["auto", "cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]


def model_picker(state: PageState, container=st.sidebar, device: bool = True) -> ModelSpec | None:
    """Dataset / backbone / method / bits / variant over the zoo and the user's model folders ($HASHDEMO_MODELS),
    each offering only what exists for the choices above it; or a model folder typed in. Returns its ModelSpec
    (with the device and data root chosen here)."""
    entries = all_entries()
    levels = container.container()  # the pickers, drawn above the folder box that can override them
    folder = container.text_input(
        "...or a model folder",
        key=state.start("folder", "", lambda t: t[-1], "model folder"),
        help="A folder written by `hashdemo train` or `hashdemo import` (model.safetensors, meta.json, "
        "codes.safetensors); folders under $HASHDEMO_MODELS (default ./models) are listed above already.",
    ).strip()
    state.write("folder", folder, "")
    chosen: ModelEntry | None = None
    if folder:
        try:
            chosen = entry_of(resolve_folder(folder))
        except HashdemoError as exc:
            container.error(str(exc))
            return None
    elif not entries:
        container.error("No models: the zoo is empty (run `make zoo`) and no folder is under $HASHDEMO_MODELS.")
        return None
    else:
        here = entries
        for field, label, describe in LEVELS:
            options = list(dict.fromkeys(getattr(e, field) for e in here))
            if field != "dataset":
                options.sort(key=str)
            value = url_selectbox(
                state, levels, label, options, field, DEFAULT_CHOICE[field], help=describe(options[0])
            )
            here = [e for e in here if getattr(e, field) == value]
        if len(here) > 1:
            labels = {e.source: e.label for e in here}
            source = url_selectbox(
                state, levels, "Model", list(labels), "model", here[0].source, format_func=labels.get
            )
            here = [e for e in here if e.source == source]
        chosen = here[0]
    chosen_device = "auto"
    if device:
        chosen_device = param_control(state, container, replace(DEVICE, choices=tuple(devices())), "auto")
    data_root = None
    if chosen.dataset in DATASETS and not DATASETS.get(chosen.dataset).embedded:
        data_root = (
            param_control(
                state,
                container,
                Param(
                    "data_root", "", "your copy of the dataset; empty: where the model folder says", label="data root"
                ),
            )
            or None
        )
    return ModelSpec(chosen.source, chosen_device, resolve_root(data_root))


def entry_label(source: str) -> str:
    return next((e.label for e in all_entries() if e.source == source), source)


def models_multiselect(
    state: PageState, container, label: str, name: str, options: list[ModelEntry], default: list[str]
) -> list[str]:
    return url_multiselect(state, container, label, [e.source for e in options], name, default, format_func=entry_label)


# ----- the attack and its settings ---------------------------------------------------------------------------------
def attack_label(name: str) -> str:
    cls = ATTACKS.get(name)
    return f"{cls.group}: {cls.title}"


def attack_picker(state: PageState, container=st.sidebar, default: str = "pga", options: list[str] | None = None):
    names = options or [n for group in attacks.by_group().values() for n in group]
    return url_selectbox(
        state,
        container,
        "Attack",
        names,
        "attack",
        default,
        format_func=attack_label,
        help="Non-targeted attacks push retrieval away from the query's class; targeted ones pull it towards a "
        "chosen label; baselines are for comparison.",
    )


def protocol_picker(state: PageState, container, default: str) -> Protocol:
    """The papers' protocols as one selector; the controls below start at its values, and what it sets is listed."""
    name = url_selectbox(
        state,
        container,
        "Protocol",
        list(PROTOCOLS),
        "protocol",
        default,
        format_func=lambda n: f"{n}: {PROTOCOLS[n].title}",
        help="A named bundle of every setting a paper's table uses (budget, optimiser, top-K, queries); the "
        "controls below start at its values and any change is recorded as an override.",
    )
    protocol = get_protocol(name)
    with container.expander(f"What '{name}' sets"):
        st.caption(
            ("hashdemo's own. " if protocol.ours else f"Source: {protocol.source}. ") + "; ".join(protocol.lines())
        )
    return protocol


def budget_controls(
    state: PageState,
    container,
    protocol: Protocol,
    attack: str | None = None,
    query_set: bool = False,
    queries_available: int | None = None,
) -> dict:
    """eps, step, T and seed (and for query sets: queries, their seed, top-K) starting at the protocol's values;
    returns the overrides. Under a paper protocol each attack keeps its own T unless "Same T" is on; an attack
    that takes no budget (ProS-GAN) shows none."""
    base = resolve(protocol, attack or "pga")
    cls = ATTACKS.get(attack) if attack else None
    defaults = {
        "eps": base.budget.eps_255,
        "step": base.budget.step_255,
        "steps": base.budget.steps,
        "seed": SEED.default,
        "query_seed": QUERY_SEED.default,
        "topk": base.topk,
        "t_topk": base.t_topk,
    }
    state.follow((protocol.name, attack), {k: defaults[k] for k in ("eps", "step", "steps", "topk", "t_topk")})
    values = {}
    if cls is not None and not cls.uses_budget:
        state.unused_here(["eps", "step", "steps"], f"{cls.title} takes no L-inf budget or iterations")
    elif cls is not None and cls.fixed_steps is not None:
        state.unused_here(["step", "steps"], f"{cls.title} takes {cls.fixed_steps} step(s) of its own size")
    if cls is None or cls.uses_budget:
        values["eps"] = param_control(state, container, RUN_PARAM["eps"], base.budget.eps_255)
        if cls is None or cls.fixed_steps is None:
            values["step"] = param_control(state, container, RUN_PARAM["step"], base.budget.step_255)
            per_attack = protocol.optimiser == "paper" and attack is None
            same = per_attack and param_control(
                state,
                container,
                Param(
                    "same_steps",
                    False,
                    "the protocol runs each attack for its own paper's iterations; on: one T for all",
                    label="same T for every attack",
                ),
            )
            if not per_attack or same:
                values["steps"] = param_control(state, container, RUN_PARAM["steps"], base.budget.steps)
    values["seed"] = param_control(state, container, SEED, SEED.default)
    if query_set:
        available = queries_available or QUERIES.default
        queries = replace(QUERIES, high=available, optional=False, increment=10)
        values["queries"] = param_control(state, container, queries, min(100, available))
        values["query_seed"] = param_control(state, container, QUERY_SEED, QUERY_SEED.default)
        for param, default in ((TOPK, base.topk), (T_TOPK, base.t_topk)):
            key = state.start(param.name, default, parse_param(param), f"{label_of(param)} ({param.name})")
            values[param.name] = container.select_slider(
                label_of(param),
                TOPK_CHOICES,
                key=key,
                format_func=lambda v: "all" if v < 0 else str(v),
                help="HAG and DHTA report MAP@1000, PgA MAP@5000, ProS-GAN the whole database.",
            )
            state.write(param.name, values[param.name], default)
    return {k: v for k, v in values.items() if v is not None and v != defaults.get(k)}


def method_controls(state: PageState, container, attack: str) -> dict:
    """One control per parameter the attack declares; returns the values that differ from the defaults."""
    out = {}
    for param in ATTACKS.get(attack).parameters:
        value = param_control(state, container, param, name=f"{param.name}_{attack}")
        if value is not None and value != param.default:
            out[param.name] = value
    return out


def target_set_control(state: PageState, container, system) -> dict:
    """For a model with classes held out of its training: aim targeted attacks at seen or at unseen classes."""
    held_out = list(system.card.held_out_classes)
    if not held_out:
        return {}
    unseen = ", ".join(system.dataset.class_names[c] for c in held_out)
    key = state.start("target_set", "closed", lambda t: {"closed": "closed", "open": "open"}[t[-1]], "target labels")
    choice = container.radio(
        "Target labels",
        ["closed", "open"],
        key=key,
        horizontal=True,
        format_func=lambda v: "seen in training (closed set)" if v == "closed" else f"never seen: {unseen} (open set)",
        help="DHTA appendix: an open-set target is a class the hashing model never saw; its anchor comes from "
        "database items of the class. THA and ProS-GAN cannot aim at one (no prototype).",
    )
    state.write("target_set", choice, "closed")
    return {"target_set": choice} if choice != "closed" else {}


# ----- the query ----------------------------------------------------------------------------------------------------
def query_from_set(state: PageState, container, data) -> tuple[int, str]:
    """Class and index within the class (and a random draw) -> (position in the query split, its caption)."""
    names = list(data.class_names)
    opening_class, opening_index = OPENING_QUERY
    default_class = opening_class if opening_class in names else names[0]
    class_key = state.key("qclass")

    def random_query() -> None:
        st.session_state[class_key] = random.choice(names)
        members = int(data.query.labels[:, names.index(st.session_state[class_key])].sum())
        st.session_state[state.key("qindex")] = random.randrange(members)

    qclass = url_selectbox(
        state, container, "Class", names, "qclass", default_class, help="Queries that carry this label."
    )
    members = torch.nonzero(data.query.labels[:, names.index(qclass)]).flatten()
    index_param = Param(
        "qindex",
        0,
        "which query of this class",
        0,
        max(0, len(members) - 1),
        integer=True,
        label="index within the class",
    )
    qindex = param_control(state, container, index_param, opening_index if len(members) > opening_index else 0) or 0
    container.button("Random query", on_click=random_query)
    position = int(members[min(qindex, len(members) - 1)])
    return position, f"query #{position}: {data.label_names(data.query.labels[position])}"
