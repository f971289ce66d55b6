"""Every run setting declared once. `RunSettings` is the only way a run is described, from every face alike (a
page's controls, a link, the CLI, a sweep axis, a protocol, a Ray task); its `ModelSpec` names the system it runs
on with the device and data root, so they survive every hop.

The CLI's flags and `--set` help, the app's controls, link warnings and validation messages are generated from
the Params below, the loop's (attacks.loop.LOOP_PARAMS) and each attack's own (Attack.parameters).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..attacks import ATTACKS, LOOP_PARAMS, Attack, attack_class
from ..attacks.budget import EPS, RANDOM_START, SEED, STEP, STEPS, Budget
from ..attacks.loop import Loop
from ..core.errors import InvalidInputError
from ..core.params import Param
from ..systems.spec import DEFAULT_MODEL, ModelSpec
from .protocols import Protocol, get_protocol

DEVICE = Param("device", "auto", "where the model runs: auto (the GPU when present), cpu or cuda[:N]", label="device")
DATA_ROOT = Param(
    "data_root", "", "your copy of the dataset (not needed for the shipped fashion data)", label="data root"
)
TOPK = Param(
    "topk", 1000, "MAP@K over the top K retrieved; -1 = the whole database", -1, None, integer=True, label="MAP@K"
)
T_TOPK = replace(
    TOPK, name="t_topk", help="t-MAP@K (relevance = the target label); -1 = the whole database", label="t-MAP@K"
)
QUERIES = Param(
    "queries", 1000, "how many query images (a seeded sample when fewer than all)", 1, None, integer=True, optional=True
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
# what a run takes besides the loop's options and the attack's own parameters, in the order the CLI lists them
RUN_PARAMS: tuple[Param, ...] = (
    EPS,
    STEP,
    STEPS,
    RANDOM_START,
    SEED,
    TOPK,
    T_TOPK,
    QUERIES,
    QUERY_SEED,
    BATCH,
    TARGET_SET,
)
INTERNAL_KEYS = ("record_at",)  # set by a sweep over T, never by a user


@dataclass(frozen=True)
class RunSettings:
    """Everything one attack run depends on, resolved once: the cache key, a page's staleness check and the
    report's settings block all come from this object."""

    model: ModelSpec
    attack: str
    protocol: str
    budget: Budget
    loop: Loop
    params: tuple[tuple[str, Any], ...]  # the attack's own parameters, in declaration order
    topk: int
    t_topk: int
    queries: int | None  # None: the whole query split
    query_seed: int
    batch_size: int
    record_at: tuple[int, ...]
    target_set: str
    overridden: tuple[str, ...]  # the settings the user set apart from the protocol

    @property
    def method_params(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def attack_class(self) -> type[Attack]:
        return attack_class(self.attack)

    def to_json(self) -> dict:
        """In the papers' units (eps and step in 1/255), flat, as the reports and exports record it."""
        return {
            "protocol": self.protocol,
            "attack": self.attack,
            **self.budget.to_json(),
            **self.loop.to_json(),
            "params": self.method_params,
            "topk": self.topk,
            "t_topk": self.t_topk,
            "queries": self.queries,
            "query_seed": self.query_seed,
            "batch_size": self.batch_size,
            "record_at": list(self.record_at),
            "overridden": list(self.overridden),
            "target_set": self.target_set,
        }

    def describe(self) -> str:
        """In words and the papers' units: 'protocol lab; eps 16/255, step 1/255, T = 100, ...' (what applies)."""
        cls = self.attack_class
        parts = [f"protocol {self.protocol}"]
        if cls.uses_budget:
            loop = self.loop
            parts += [
                f"eps {self.budget.eps_255:g}/255",
                f"step {self.budget.step_255:g}/255"
                if loop.optimiser == "pgd"
                else f"{loop.optimiser.upper()}"
                + (f" (lr {loop.lr:g}" + (f", momentum {loop.momentum:g})" if loop.optimiser == "sgd" else ")"))
                if loop.lr
                else loop.optimiser.upper(),
                f"T = {cls.steps_for(self.budget)}",
                "random start" if cls.random_start_for(self.budget) else "start at x",
                "HAG schedule" if loop.schedule == "hag" else "no tanh schedule",
            ]
        parts.append(f"seed {self.budget.seed}")
        parts += [f"{p.title} = {self.method_params[p.name]}" for p in cls.parameters]
        if self.overridden:
            parts.append("changed from the protocol: " + ", ".join(self.overridden))
        return "; ".join(parts)


def known_keys(cls: type[Attack]) -> list[str]:
    return [p.name for p in RUN_PARAMS] + [p.name for p in LOOP_PARAMS] + [p.name for p in cls.parameters]


def resolve(
    protocol: str | Protocol, attack: str, overrides: dict[str, Any] | None = None, model: ModelSpec | None = None
) -> RunSettings:
    """The protocol's settings for `attack`, then the user's explicit ones (eps and step in 1/255 units).

    Overrides may name any run setting, any loop option and any of the attack's parameters; anything else is an
    error that lists what is accepted.
    """
    p = get_protocol(protocol) if isinstance(protocol, str) else protocol
    cls = attack_class(attack)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - set(known_keys(cls)) - set(INTERNAL_KEYS))
    if unknown:
        raise InvalidInputError(
            f"{cls.title} has no setting {', '.join(unknown)}; settings: {', '.join(q.name for q in RUN_PARAMS)}; "
            f"loop: {', '.join(q.name for q in LOOP_PARAMS)}; {cls.title}'s own: "
            f"{', '.join(q.name for q in cls.parameters) or 'none'}"
        )
    paper = p.paper_setting(cls)  # None under PGD, and for noise (it takes no step)
    loop = paper.loop if paper else cls.default_loop
    loop_values = {q.name: q.check(given.get(q.name, getattr(loop, q.name)), "the loop") for q in LOOP_PARAMS}
    budget = Budget.from_255(
        eps=given.get("eps", p.eps),
        step=given.get("step", p.step),
        steps=given.get("steps", paper.steps if paper else p.steps),
        random_start=given.get("random_start", p.random_start),
        seed=given.get("seed", SEED.default),
    )
    topk = TOPK.check(given.get("topk", p.topk))
    t_topk = T_TOPK.check(given.get("t_topk", p.t_topk))
    for value, param in ((topk, TOPK), (t_topk, T_TOPK)):
        if value == 0:
            raise InvalidInputError(f"{param.title} must be a positive number of items or -1 (the whole database)")
    params = {q.name: q.check(given.get(q.name, q.default), cls.title) for q in cls.parameters}
    return RunSettings(
        model=model or ModelSpec(),
        attack=attack,
        protocol=p.name,
        budget=budget,
        loop=Loop(**loop_values),
        params=tuple(params.items()),
        topk=topk,
        t_topk=t_topk,
        queries=QUERIES.check(given.get("queries", p.queries)),
        query_seed=QUERY_SEED.check(given.get("query_seed", QUERY_SEED.default)),
        batch_size=BATCH.check(given.get("batch_size", BATCH.default)),
        record_at=tuple(sorted({int(n) for n in given.get("record_at", p.record_at)})),
        target_set=TARGET_SET.check(given.get("target_set", TARGET_SET.default)),
        overridden=tuple(sorted(set(given) - set(INTERNAL_KEYS))),
    )


def method_param_lines() -> list[str]:
    """Every attack's own parameters, one line each (the CLI's --set help)."""
    lines = []
    for name, cls in ATTACKS.items():
        lines += [f"{name}: {p.describe()}" for p in cls.parameters]
    return lines


__all__ = [
    "DEFAULT_MODEL",
    "RUN_PARAMS",
    "ModelSpec",
    "RunSettings",
    "resolve",
]
