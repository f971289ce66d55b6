"""Every run setting declared once: a field of RunSettings bound to its Param (`setting`), the loop's and the
model's nested in place. `RunSettings` is the only way a run is described, from every face alike (a page's
controls, a link, the CLI, a sweep axis, a protocol, a Ray task).

From these fields come the CLI's flags (`fields()`), the app's controls and ranges, URL state, validation
messages, the JSON of every report, the cache keys and a page's staleness check: a new setting is one field here.
Eps and step are kept in the papers' 1/255 units; `budget` is the one place they become [0,1] pixel units.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from ..attacks import ATTACKS, Attack, attack_class
from ..attacks.budget import EPS, RANDOM_START, SEED, STEP, STEPS, Budget
from ..attacks.loop import Loop
from ..core.errors import InvalidInputError
from ..core.params import Bound, Param, bound, nested, setting
from ..core.units import from_255, to_255
from ..retrieval.metrics import T_MAP_OVER, T_TOPK, TIES, TOPK
from ..systems.spec import ModelSpec
from .protocols import DEFAULT_PROTOCOL, PROTOCOLS, Protocol, get_protocol

ATTACK = Param("attack", "pga", "the attack (see 'hashdemo attack --help')", choices=tuple(ATTACKS.names()))
PROTOCOL = Param(
    "protocol",
    DEFAULT_PROTOCOL,
    "a paper's table settings (see 'hashdemo protocols'); every other setting given overrides its value",
    choices=tuple(PROTOCOLS),
)
QUERIES = Param(
    "queries",
    None,
    "how many query images (a seeded sample when fewer than all); unset: the whole query split",
    1,
    None,
    integer=True,
    optional=True,
    increment=10,
)
QUERY_SEED = replace(
    SEED, name="query_seed", help="seeds the sample of queries when fewer than all", label="query seed"
)
BATCH = Param(
    "batch_size",
    250,
    "queries attacked together (sets each batch's random start)",
    1,
    100_000,
    integer=True,
    label="batch size",
)
TARGET_SET = Param(
    "target_set",
    "closed",
    "closed: target labels the model trained on; open: classes held out of its training "
    "(DHTA appendix, open-set targeted attack)",
    choices=("closed", "open"),
    label="target labels",
)
THREADS = Param(
    "threads",
    None,
    "CPU threads each attack uses (torch.set_num_threads); unset: the CPUs idle when a batch starts (at most "
    "torch's default; one for a single image)",
    1,
    512,
    integer=True,
    optional=True,
)
INTERNAL = ("params", "record_at", "overridden")  # set by hashdemo itself, never a user's setting


@dataclass(frozen=True)
class RunSettings:
    """Everything one attack run depends on, resolved once: the cache key, a page's staleness check and the
    report's settings block all come from this object. Build it with `resolve(protocol, attack, overrides)`."""

    model: ModelSpec = nested(ModelSpec)
    attack: str = setting(ATTACK, "attack")
    protocol: str = setting(PROTOCOL, "attack")
    eps: float = setting(EPS, "budget")  # 1/255
    step: float = setting(STEP, "budget")  # 1/255
    steps: int = setting(STEPS, "budget")
    random_start: bool | None = setting(RANDOM_START, "budget")
    seed: int = setting(SEED, "budget")
    loop: Loop = nested(Loop)
    queries: int | None = setting(QUERIES, "queries")  # None: the whole query split
    query_seed: int = setting(QUERY_SEED, "queries")
    target_set: str = setting(TARGET_SET, "queries")
    batch_size: int = setting(BATCH, "queries")
    topk: int = setting(TOPK, "measure", "measure")
    t_topk: int = setting(T_TOPK, "measure", "measure")
    ties: str = setting(TIES, "measure", "measure")
    t_map_over: str = setting(T_MAP_OVER, "measure", "measure")
    threads: int | None = setting(THREADS, "machine", "runtime")
    params: tuple[tuple[str, Any], ...] = ()  # the attack's own parameters, in declaration order
    record_at: tuple[int, ...] = ()  # iterations whose codes are kept too (a sweep over T, HAG Table I)
    overridden: tuple[str, ...] = ()  # the settings the user set apart from the protocol

    @property
    def budget(self) -> Budget:
        """The attack's budget in [0,1] pixel units: the one conversion from the settings' 1/255."""
        return Budget(from_255(self.eps), from_255(self.step), self.steps, self.random_start, self.seed)

    @property
    def method_params(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def attack_class(self) -> type[Attack]:
        return attack_class(self.attack)

    def to_json(self) -> dict:
        """Flat, in the papers' units (eps and step in 1/255), as the reports and exports record it."""
        out: dict[str, Any] = {"model": self.model.to_json()}
        out |= {b.name: b.get(self) for b in fields_of(type(self)) if b.path[0] != "model"}
        return out | {
            "params": self.method_params,
            "record_at": list(self.record_at),
            "overridden": list(self.overridden),
        }

    def result_json(self) -> dict:
        """What the numbers depend on (the cache key): every setting but the runtime ones and the model's source,
        which the system's identity (weights, codes, data, device) stands for."""
        out = self.to_json()
        for b in fields_of(type(self)):
            if b.role == "runtime":
                out.pop(b.name)
        out.pop("model")
        return out

    def attack_json(self) -> dict:
        """What a batch's adversarial codes depend on: result_json without the measure settings and the labels."""
        out = self.result_json()
        for b in fields_of(type(self)):
            if b.role == "measure":
                out.pop(b.name, None)
        for name in ("protocol", "overridden"):
            out.pop(name)
        return out

    def same_result(self, other: RunSettings | None) -> bool:
        """Whether `other` gives the same numbers (a page's staleness check): equal but for runtime settings."""
        return other is not None and type(other) is type(self) and runtime_free(self) == runtime_free(other)

    def headline(self, model: str, target: str | None = None) -> str:
        """What a projected screen says it shows, in one line: 'PgA · eps 16/255 · T = 100 · on dpsh-smallcnn-32'."""
        cls = self.attack_class
        parts = [cls.title]
        if cls.uses_budget:
            parts += [f"eps {self.eps:g}/255{cls.eps_note}", f"T = {cls.steps_for(self.budget)}"]
        else:
            parts.append("one forward pass, no L-inf bound")
        if target:
            parts.append(f"target {target}")
        return " · ".join([*parts, f"on {model}"])

    def search_words(self) -> list[str]:
        """How the attack searches the eps-ball, in words: its step, T, start and tanh schedule."""
        cls, loop, budget = self.attack_class, self.loop, self.budget
        if loop.optimiser == "pgd":
            step = f"step {self.step:g}/255"
        elif loop.optimiser == "l2":
            step = "L2-normalised step " + (
                cls.step_note.format(**self.method_params) if cls.step_note else f"of length {self.step:g}/255"
            )
        elif loop.lr:
            step = f"{loop.optimiser.upper()} (lr {loop.lr:g}" + (
                f", momentum {loop.momentum:g})" if loop.optimiser == "sgd" else ")"
            )
        else:
            step = loop.optimiser.upper()
        return [
            step,
            f"T = {cls.steps_for(budget)}",
            "random start" if cls.random_start_for(budget) else "start at x",
            "HAG schedule" if loop.schedule == "hag" else "no tanh schedule",
        ]

    def describe(self) -> str:
        """In words and the papers' units: 'protocol lab; eps 16/255, step 1/255, T = 100, ...' (what applies)."""
        cls = self.attack_class
        parts = [f"protocol {self.protocol}"]
        if cls.uses_budget:
            parts += [f"eps {self.eps:g}/255{cls.eps_note}", *self.search_words()]
        parts.append(f"seed {self.seed}")
        parts += [f"{p.title} = {self.method_params[p.name]}" for p in cls.parameters]
        if self.ties != TIES.default:
            parts.append(f"ties {self.ties}")
        if self.t_map_over != T_MAP_OVER.default:
            parts.append(f"t-MAP over queries with a {self.t_map_over}")
        if self.overridden:
            parts.append("changed from the protocol: " + ", ".join(self.overridden))
        return "; ".join(parts)


def runtime_free(settings: RunSettings) -> RunSettings:
    """The settings with every runtime field at its default."""
    changes = {b.path[0]: b.param.default for b in fields_of(type(settings)) if b.role == "runtime"}
    return replace(settings, **changes)


def fields_of(cls: type) -> tuple[Bound, ...]:
    return bound(cls)


def run_fields() -> tuple[Bound, ...]:
    """Every run setting, the model's and the loop's in place (what the CLI, the controls and the JSON show)."""
    return fields_of(RunSettings)


def user_fields() -> tuple[Bound, ...]:
    """The settings a user sets apart from the model (flags beside --model, controls beside the picker)."""
    return tuple(b for b in run_fields() if b.path[0] != "model")


def model_fields() -> tuple[Bound, ...]:
    return tuple(b for b in run_fields() if b.path[0] == "model")


def field_param(name: str) -> Param:
    return next(b.param for b in run_fields() if b.name == name)


def known_keys(cls: type[Attack]) -> list[str]:
    return [b.name for b in user_fields() if b.name not in ("attack", "protocol")] + [p.name for p in cls.parameters]


def resolve(
    protocol: str | Protocol, attack: str, overrides: dict[str, Any] | None = None, model: ModelSpec | None = None
) -> RunSettings:
    """The protocol's settings for `attack`, then the user's explicit ones (eps and step in 1/255 units).

    Each field starts at its declared default; the attack's own loop (HAG's tanh schedule, say) comes next, then
    the protocol's values, then, under a protocol that runs each attack as its paper does, that paper's optimiser
    and iterations; the user's overrides come last. Overrides may name any run setting and any of the attack's
    parameters; anything else is an error that lists what is accepted.
    """
    p = get_protocol(protocol) if isinstance(protocol, str) else protocol
    cls = attack_class(attack)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - set(known_keys(cls)) - {"record_at"})
    if unknown:
        names = [b.name for b in user_fields() if b.name not in ("attack", "protocol")]
        raise InvalidInputError(
            f"{cls.title} has no setting {', '.join(unknown)}; settings: {', '.join(names)}; {cls.title}'s own: "
            f"{', '.join(q.name for q in cls.parameters) or 'none'}"
        )
    paper = p.paper_setting(cls)  # None under PGD, and for noise (it takes no step)
    loop = paper.loop if paper else cls.default_loop
    values: dict[str, Any] = {}
    for b in user_fields():
        if b.name in ("attack", "protocol"):
            continue
        start = getattr(loop, b.name) if b.path[0] == "loop" else b.param.default
        start = p.value(b.name, start)
        if b.name == "steps" and paper:
            start = paper.steps
        values[b.name] = b.param.check(given.get(b.name, start))
    for param in (TOPK, T_TOPK):
        if values[param.name] == 0:
            raise InvalidInputError(f"{param.title} must be a positive number of items or -1 (the whole database)")
    params = {q.name: q.check(given.get(q.name, q.default), cls.title) for q in cls.parameters}
    loop_names = {f.name for f in fields(Loop)}
    top = {k: v for k, v in values.items() if k not in loop_names}
    return RunSettings(
        model=model or ModelSpec(),
        attack=attack,
        protocol=p.name,
        loop=Loop(**{k: v for k, v in values.items() if k in loop_names}),
        params=tuple(params.items()),
        record_at=tuple(sorted({int(n) for n in given.get("record_at", p.value("record_at", ()))})),
        overridden=tuple(sorted(set(given) - {"record_at"})),
        **top,
    )


def for_attack(overrides: dict[str, Any], attack: str) -> dict[str, Any]:
    """The settings that apply to one attack: every run setting, and the method parameters it declares."""
    own = {p.name for p in attack_class(attack).parameters}
    every = {p.name for cls in ATTACKS.values() for p in cls.parameters}
    return {k: v for k, v in overrides.items() if k in own or k not in every}


@dataclass(frozen=True)
class Choices:
    """What a user chose for a set of runs (a page's controls, the CLI's flags): a protocol and explicit settings,
    applied to every attack and model of a grid; a method parameter applies to the attacks that declare it."""

    protocol: str = DEFAULT_PROTOCOL
    overrides: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, protocol: str | None = None, overrides: dict[str, Any] | None = None) -> Choices:
        """Run settings are checked (and typed) here; an attack's own parameters when an attack takes them."""
        params = {b.name: b.param for b in user_fields()}
        given = {k: params[k].check(v) if k in params else v for k, v in (overrides or {}).items() if v is not None}
        return cls(get_protocol(protocol or DEFAULT_PROTOCOL).name, tuple(sorted(given.items(), key=lambda kv: kv[0])))

    @property
    def given(self) -> dict[str, Any]:
        return dict(self.overrides)

    def settings(self, attack: str, model: ModelSpec, **extra: Any) -> RunSettings:
        """The settings of `attack` on `model` under these choices; `extra` (an experiment's own axis) wins."""
        return resolve(self.protocol, attack, {**for_attack(self.given, attack), **extra}, model=model)

    def check(self, attack_names: list[str]) -> None:
        """Every method parameter chosen is one of these attacks'."""
        own = {p.name for n in attack_names for p in attack_class(n).parameters}
        every = {p.name for cls in ATTACKS.values() for p in cls.parameters}
        stray = sorted(set(self.given) & (every - own))
        if stray:
            raise InvalidInputError(f"{', '.join(stray)} is not a setting of {', '.join(attack_names)}")


def protocol_lines(p: Protocol) -> list[str]:
    """What a protocol sets, one line each, in the user's units (shown by the app and the CLI help)."""
    base = resolve(p, ATTACK.default)
    k = lambda v: "the whole database" if v < 0 else str(v)
    start = {None: "each attack's paper default (PgA yes, the others no)", True: "yes, for every attack", False: "no"}
    out = [
        f"epsilon {base.eps:g}/255 (= {base.budget.eps:.4f} on [0,1] pixels)",
        "each attack with its own paper's optimiser and iterations"
        if p.optimiser == "paper"
        else f"PGD for every attack: step {base.step:g}/255, T = {base.steps}",
        "random start: " + start[base.random_start],
        f"MAP@{k(base.topk)}, t-MAP@{k(base.t_topk)}",
        f"queries: {'all of the query split' if base.queries is None else base.queries}, targets drawn per query "
        "from labels that share no class with it",
    ]
    if base.t_map_over != T_MAP_OVER.default:
        out.append(f"t-MAP over the queries with a {base.t_map_over} in their top K")
    if base.ties != TIES.default:
        out.append(f"ties ordered as {base.ties}")
    if base.record_at:
        out.append("MAP also at iterations " + ", ".join(map(str, base.record_at)) + " of the same run")
    return out + list(p.notes) + [row_line(p, name) for name in p.attacks]


def row_line(p: Protocol, attack: str) -> str:
    """Which variant a protocol's row runs: 'row dhta: DHTA, SGD (lr 0.03125, momentum 0), T = 2000, ...'."""
    settings = resolve(p, attack)
    cls = settings.attack_class
    if not cls.uses_budget:
        how = ["one forward pass, no L-inf bound"]
    elif cls.fixed_steps == 0:
        how = ["no gradient step", f"eps {settings.eps:g}/255"]
    elif cls.fixed_steps is not None:
        size = to_255(cls.step_size_for(settings.budget))
        how = [f"{cls.fixed_steps} step(s) of {size:g}/255", f"eps {settings.eps:g}/255"]
    else:
        how = [f"eps {settings.eps:g}/255{cls.eps_note}", *settings.search_words()]
    return f"row {attack}: {cls.title}, " + ", ".join(how)


def method_param_lines() -> list[str]:
    """Every attack's own parameters, one line each (the CLI's --set help)."""
    lines = []
    for name, cls in ATTACKS.items():
        lines += [f"{name}: {p.describe()}" for p in cls.parameters]
    return lines


__all__ = ["Choices", "ModelSpec", "RunSettings", "fields_of", "resolve", "run_fields", "user_fields"]
