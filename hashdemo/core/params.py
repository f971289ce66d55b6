"""Typed parameter declarations: one place states a setting's default, range, unit and help.

Validation, the CLI's flags and `--set` help, the app's controls, link warnings and the sweep's axes all read
these; nothing else restates a default or a range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInputError


@dataclass(frozen=True)
class Param:
    """A named setting with its default, its allowed values and one line of help.

    Numeric ranges are closed unless `open_low` / `open_high`; `choices` makes it categorical; `integer` refuses
    fractions (2.5 iterations is an error, not 2); `optional` allows None (for example "the paper's default");
    `increment` is the step of the app's control.
    """

    name: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    integer: bool = False
    choices: tuple[Any, ...] | None = None
    label: str = ""
    unit: str = ""
    increment: float | None = None
    optional: bool = False
    boolean: bool = False  # a yes/no setting whose default may be None (optional)
    text: bool = False  # free text whose default may be None (a path, a model name)
    options: tuple[Any, ...] | None = None  # values a control offers (a select slider), when not a restriction

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def flag(self) -> str:
        """The command-line flag: --t-topk for t_topk."""
        return "--" + self.name.replace("_", "-")

    @property
    def is_bool(self) -> bool:
        return self.boolean or isinstance(self.default, bool)

    @property
    def is_text(self) -> bool:
        return self.choices is None and (self.text or isinstance(self.default, str))

    @property
    def numeric(self) -> bool:
        return self.choices is None and not self.is_bool and not self.is_text

    def range_text(self) -> str:
        """'in (-1, 0)', 'a whole number in [1, 5000]', 'one of pgd, sgd, adam', 'true or false'."""
        if self.is_bool:
            return "true or false"
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        if self.is_text:
            return "text"
        kind = "a whole number" if self.integer else "a number"
        if self.low is None and self.high is None:
            return kind
        if self.low is not None and self.high is None:
            return f"{kind} {'above' if self.open_low else 'of at least'} {self._shown(self.low)}"
        if self.low is None:
            return f"{kind} {'below' if self.open_high else 'of at most'} {self._shown(self.high)}"
        left, right = "(" if self.open_low else "[", ")" if self.open_high else "]"
        low, high = self._shown(self.low), self._shown(self.high)
        return f"{'a whole number ' if self.integer else ''}in {left}{low}, {high}{right}"

    def _shown(self, bound: float) -> str:
        """A bound as typed: whole numbers in full (a seed's 2^63 - 1, not 9.22337e+18)."""
        return str(int(bound)) if self.integer else f"{bound:g}"

    def wanted(self) -> str:
        """What the setting takes, in the user's units: 'in [0, 255] (1/255) (default 8)'."""
        text = f"{self.range_text()}{' ' + self.unit if self.unit else ''}"
        if self.numeric and self.default is not None:
            text += f" (default {self.default:g})"
        return text

    def check(self, value: Any, owner: str = "") -> Any:
        """The value converted to the declared type, or an InvalidInputError naming the allowed range."""
        who = f"{owner}'s {self.title}" if owner else self.title
        if value is None and self.optional:
            return None
        if self.is_bool:
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
            if isinstance(value, bool | int) and value in (0, 1):
                return bool(value)
            raise InvalidInputError(f"{who} must be {self.wanted()}, got {as_typed(value)}")
        if self.is_text:
            return str(value)  # free text: a file path, say; its user checks it
        if self.choices is not None:
            if value not in self.choices:
                raise InvalidInputError(f"{who} must be {self.wanted()}, got {as_typed(value)}")
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{who} must be {self.wanted()}, got {as_typed(value)}") from None
        bad = (
            not math.isfinite(number)
            or (self.integer and number != int(number))
            or (self.low is not None and (number <= self.low if self.open_low else number < self.low))
            or (self.high is not None and (number >= self.high if self.open_high else number > self.high))
        )
        if bad:
            raise InvalidInputError(f"{who} must be {self.wanted()}, got {as_typed(value)}")
        return int(number) if self.integer else number

    def describe(self) -> str:
        """One line for help texts: 'eps: L-inf budget ... (in [0, 255] (1/255) (default 8))'."""
        default = "" if self.numeric or self.default in (None, "") else f"; default {self.default}"
        return f"{self.name}: {self.help} ({self.wanted()}{default})"


def as_typed(value: Any) -> str:
    """A value as the user typed it: numbers bare (-4, not '-4'), other text quoted."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return repr(value)
        return value
    return repr(value)


def check_all(declared: Sequence[Param], given: dict[str, Any], owner: str) -> dict[str, Any]:
    """Defaults overlaid by `given`, each value checked; an unknown name is an error listing the known ones."""
    by_name = {p.name: p for p in declared}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        known = ", ".join(by_name) or "none"
        raise InvalidInputError(f"{owner} has no setting {', '.join(unknown)}; it takes {known}")
    return {p.name: p.check(given.get(p.name, p.default), owner) for p in declared}


def setting(param: Param, group: str = "", role: str = "attack") -> Any:
    """A dataclass field declared by its Param: the Param's default is the field's. `group` places its control on
    a page (budget, loop, queries, measure, model, machine); `role` says what it changes: "attack" (the adversarial
    codes), "measure" (only the numbers computed from them), "runtime" (neither: threads)."""
    from dataclasses import field

    return field(default=param.default, metadata={"param": param, "group": group, "role": role})


def nested(factory: Callable[[], Any]) -> Any:
    """A dataclass field holding another settings dataclass (RunSettings.model, RunSettings.loop): its own fields
    are settings too, listed by `bound` in place."""
    from dataclasses import field

    return field(default_factory=factory, metadata={"nested": True})


@dataclass(frozen=True)
class Bound:
    """A setting as a field: where it sits (`path`, e.g. ("model", "device")), its Param, group and role."""

    path: tuple[str, ...]
    param: Param
    group: str
    role: str

    @property
    def name(self) -> str:
        return self.param.name

    def get(self, obj: Any) -> Any:
        for part in self.path:
            obj = getattr(obj, part)
        return obj


def bound(cls: type) -> tuple[Bound, ...]:
    """Every setting of a dataclass, nested ones in place, in field order."""
    from dataclasses import fields

    out: list[Bound] = []
    for f in fields(cls):
        if f.metadata.get("nested"):
            inner = f.default_factory() if callable(f.default_factory) else f.type  # type: ignore[misc]
            out += [Bound((f.name, *b.path), b.param, b.group, b.role) for b in bound(type(inner))]
        elif "param" in f.metadata:
            out.append(Bound((f.name,), f.metadata["param"], f.metadata["group"], f.metadata["role"]))
    return tuple(out)


def declared(cls: type) -> tuple[Param, ...]:
    """The Params of a dataclass's fields declared with `setting` (nested ones in place), in field order."""
    return tuple(b.param for b in bound(cls))
