"""The app's controls, generated from the declarations: a control per field of the run settings (its range,
increment, unit and help; the model's fields beside the model picker), the model picker over the zoo and the user's
own models, the attack and protocol pickers, the query chooser."""

from __future__ import annotations

import random
from dataclasses import replace

import streamlit as st
import torch

from .. import attacks
from ..attacks import ATTACKS
from ..core.errors import HashdemoError
from ..core.params import Bound, Param
from ..data import DATASETS, resolve_root
from ..data.listfile import LIST_FILE_SETS
from ..defences import DEFENCES
from ..models import BACKBONES
from ..models.card import DEFAULT_DATASET, ModelCard
from ..run.protocols import PROTOCOLS, Protocol, get_protocol
from ..run.settings import ATTACK, QUERIES, model_fields, protocol_lines, resolve, user_fields
from ..systems.spec import DEVICE, MODEL, ModelSpec
from ..systems.zoo import all_cards, folder_card, resolve_folder
from .frame import serving_a_class
from .state import PageState, parse_param, url_multiselect, url_selectbox

DEFAULT_CHOICE = {
    "dataset": DEFAULT_DATASET,
    "backbone": "smallcnn",
    "method": "dpsh",
    "bits": 32,
    "variant": "standard",
}
# The opening query: measured so that every attack kind visibly works on it under the lab protocol (eps 16/255,
# T = 100): HAG and PgA bring its P@10 from 1.0 to 0.0, and P2P, DHTA, THA, DHTA + I-FGSM and the feature attack
# all reach the target that seed 0 draws for it (Coat) and 6 of its 8 other targets.
OPENING_QUERY = ("Sandal", 0)
PAGE_QUERIES = 100  # a page's query-set runs start at 100 queries: a first click takes seconds, not minutes
OPTIONAL_BOOL = {None: "the paper's default", True: "yes", False: "no"}
JS_LARGEST = 2**53 - 1  # the largest whole number a browser's number box holds exactly
GROUPS = {  # how a page shows the run settings' groups: a heading, or an expander (folded away)
    "budget": ("Budget", False),
    "loop": ("Optimiser", True),
    "queries": ("Queries", False),
    "measure": ("Evaluation", False),
    "machine": ("Machine", True),
}


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
    elif param.options is not None:
        shown = (lambda v: "all" if v < 0 else str(v)) if param.low == -1 else str
        value = container.select_slider(label, list(param.options), format_func=shown, **common)
    elif param.is_bool and param.optional:
        # a selectbox holding None shows no choice at all: it holds the words, the value is read back from them
        if not isinstance(st.session_state.get(key), str):
            st.session_state[key] = OPTIONAL_BOOL[st.session_state.get(key)]
        value = {text: v for v, text in OPTIONAL_BOOL.items()}[
            container.selectbox(label, list(OPTIONAL_BOOL.values()), **common)
        ]
    elif param.is_bool:
        value = container.checkbox(label, **common)
    elif param.is_text:
        value = (container.text_input(label, **common) or "").strip() or param.default
    elif param.optional and st.session_state.get(key) is None and default is None:
        value = number_control(container, param, label, {**common, "placeholder": "unset"})
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
    return [DEVICE.default, "cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]


def device_control(state: PageState, container) -> str:
    return param_control(state, container, replace(DEVICE, choices=tuple(devices())))


def model_picker(state: PageState, container=st.sidebar) -> ModelSpec | None:
    """Dataset / backbone / method / bits / variant over the zoo and the user's model folders ($HASHDEMO_MODELS),
    each offering only what exists for the choices above it; or a model folder typed in. Then a control for every
    other field of the ModelSpec (device, data root for data not shipped, image size for file-based data). Returns
    the ModelSpec."""
    cards = all_cards()
    levels = container.container()  # the pickers, drawn above the folder box that can override them
    folder = ""
    if serving_a_class():
        refuse_in_class(state, "folder", "a model folder")
    else:
        folder = container.text_input(
            "...or a model folder",
            key=state.start("folder", "", lambda t: t[-1], "model folder"),
            help="A folder written by `hashdemo train` or `hashdemo import` (model.safetensors, meta.json, "
            "codes.safetensors); folders under $HASHDEMO_MODELS (default ./models) are listed above already.",
        ).strip()
        state.write("folder", folder, "")
    chosen: ModelCard | None = None
    if folder:
        try:
            chosen = folder_card(resolve_folder(folder))
        except HashdemoError as exc:
            container.error(str(exc))
            return None
    elif not cards:
        container.error("No models: the zoo is empty (run `make zoo`) and no folder is under $HASHDEMO_MODELS.")
        return None
    else:
        here = cards
        for field, label, describe in LEVELS:
            options = list(dict.fromkeys(getattr(c, field) for c in here))
            if field != "dataset":
                options.sort(key=str)
            value = url_selectbox(
                state, levels, label, options, field, DEFAULT_CHOICE[field], help=describe(options[0])
            )
            here = [c for c in here if getattr(c, field) == value]
        if len(here) > 1:
            labels = {c.source: c.label for c in here}
            source = url_selectbox(
                state, levels, "Model", list(labels), MODEL.name, here[0].source, format_func=labels.get
            )
            here = [c for c in here if c.source == source]
        chosen = here[0]
    return ModelSpec(chosen.source, **spec_controls(state, container, chosen))


def spec_controls(state: PageState, container, card: ModelCard | None) -> dict:
    """A control per field of the ModelSpec beside its source: the device always; the data root only for data
    that is not shipped; the image size and resize only for file-based data (they must be what the folder was saved
    with)."""
    values = {}
    for b in model_fields():
        field = b.path[-1]
        if field == "source":
            continue
        if field == "device":
            values[field] = device_control(state, container)
        elif field in ("data_root", "list_dir"):
            embedded = card is None or (card.dataset in DATASETS and DATASETS.get(card.dataset).embedded)
            if serving_a_class():
                refuse_in_class(state, field, "a data root" if field == "data_root" else "a folder of lists")
            elif not embedded and (field == "data_root" or card.dataset in LIST_FILE_SETS):
                values[field] = resolve_root(param_control(state, container, b.param) or None)
        elif field in ("image_size", "resize"):
            if card is not None and (card.dataset in ("folder", "list") or card.imported):
                values[field] = param_control(state, container, b.param, getattr(card, field))
        else:
            values[field] = param_control(state, container, b.param)
    return values


def refuse_in_class(state: PageState, name: str, what: str) -> None:
    """In class mode a link naming `name` is told why it is not used (the page runs with what the server has)."""
    state.known.add(name)
    if state.arrived and state.link.get(name):
        state.problems.append(
            f"{name}: this server is serving a class, so a link cannot open {what} it was not started with"
        )


def models_multiselect(
    state: PageState, container, label: str, name: str, options: list[ModelCard], default: list[str]
) -> list[str]:
    labels = {c.source: c.label for c in options}  # the cards' labels, read once (not once per option shown)
    sources = list(labels)
    return url_multiselect(state, container, label, sources, name, default, format_func=lambda s: labels.get(s, s))


# ----- the attack and its settings ---------------------------------------------------------------------------------
def attack_label(name: str) -> str:
    cls = ATTACKS.get(name)
    return f"{cls.group}: {cls.title}"


def attack_picker(
    state: PageState, container=st.sidebar, default: str = ATTACK.default, options: list[str] | None = None
):
    names = options or [n for group in attacks.by_group().values() for n in group]
    return url_selectbox(
        state,
        container,
        "Attack",
        names,
        ATTACK.name,
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
            ("hashdemo's own. " if protocol.ours else f"Source: {protocol.source}. ")
            + "; ".join(protocol_lines(protocol))
        )
    return protocol


def settings_controls(
    state: PageState,
    container,
    protocol: Protocol,
    *,
    attack: str | None = None,
    system=None,
    query_set: bool = False,
    skip: tuple[str, ...] = (),
    queries: int = PAGE_QUERIES,
) -> dict:
    """A control for every run setting but the model's, the attack, the protocol (they have their pickers) and
    `skip` (a page's own axis, such as the robustness curves' eps; `queries`: where a query set starts),
    grouped as GROUPS says, each starting at the protocol's value for `attack` (every attack of a page without
    one); returns the overrides, the values that differ from the protocol's. A setting that does not apply is not
    shown, and a link naming it is told why: ProS-GAN takes no budget, FGSM and noise no step or T, one query no
    query-set settings, a model that saw every class no open-set targets; under a protocol that runs each attack
    with its own paper's T, one T for all is a choice ("same T")."""
    base = resolve(protocol, attack or ATTACK.default)
    cls = ATTACKS.get(attack) if attack else None
    shown = [b for b in user_fields() if b.name not in (ATTACK.name, "protocol", *skip)]
    start = {b.name: b.get(base) for b in shown}
    available = len(system.dataset.query) if system is not None else None
    if query_set:
        start[QUERIES.name] = min(queries, available or queries)
    state.follow((protocol.name, attack), start)
    reasons = skipped(shown, cls, protocol, attack, system, query_set)
    state.unused_here(
        [name for name in reasons if reasons[name]], "; ".join(sorted(set(filter(None, reasons.values()))))
    )
    places = {}
    values = {}
    for b in shown:
        if b.name in reasons:
            continue
        if b.group not in places:
            title, folded = GROUPS.get(b.group, ("Other settings", True))
            places[b.group] = container.expander(title) if folded else container
            if not folded:
                container.caption(f"**{title}**")
        param = b.param
        if b.name == QUERIES.name and available:
            param = replace(QUERIES, high=available, optional=False)
        values[b.name] = param_control(state, places[b.group], param, start[b.name])
        if b.name == "step" and same_steps_asked(cls, protocol, attack):
            same = param_control(state, places[b.group], SAME_STEPS)
            if not same:
                reasons["steps"] = ""
    protocols = {b.name: b.get(base) for b in shown}
    return {k: v for k, v in values.items() if k not in reasons and v is not None and v != protocols[k]}


SAME_STEPS = Param(
    "same_steps",
    False,
    "the protocol runs each attack for its own paper's iterations; on: one T for all",
    label="same T for every attack",
)


def same_steps_asked(cls, protocol: Protocol, attack: str | None) -> bool:
    """A page of several attacks under a protocol that gives each its paper's T."""
    return cls is None and protocol.optimiser == "paper" and attack is None


def skipped(shown: list[Bound], cls, protocol: Protocol, attack, system, query_set: bool) -> dict[str, str]:
    """The settings that do not apply here, each with why (an empty reason: hidden without a word)."""
    out: dict[str, str] = {}
    for b in shown:
        if b.group in ("queries", "measure") and not query_set:
            out[b.name] = "one query is attacked here"
        elif cls is not None and not cls.uses_budget and b.name in ("eps", "step", "steps"):
            out[b.name] = f"{cls.title} takes no L-inf budget or iterations"
        elif cls is not None and cls.fixed_steps is not None and b.name in ("step", "steps"):
            out[b.name] = f"{cls.title} takes {cls.fixed_steps} step(s) of its own size"
        elif cls is not None and cls.step_note and b.name == "step":
            out[b.name] = f"{cls.title} sets its own step size (its parameters below)"
        elif b.name == "target_set" and (system is None or not system.card.held_out_classes):
            out[b.name] = "this model saw every class in training (no open-set targets)"
    return out


def method_controls(state: PageState, container, attack: str) -> dict:
    """One control per parameter the attack declares; returns the values that differ from the defaults."""
    out = {}
    for param in ATTACKS.get(attack).parameters:
        value = param_control(state, container, param, name=f"{param.name}_{attack}")
        if value is not None and value != param.default:
            out[param.name] = value
    return out


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
