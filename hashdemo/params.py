"""Typed parameter declarations: one place states a setting's default, range, units and help.

Validation, the app's controls, the sweep's choices and the CLI's `--set` help all read these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInputError


@dataclass(frozen=True)
class Param:
    """A named setting with its default, its allowed values and one line of help.

    Numeric ranges are closed unless `open_low` / `open_high`; `choices` makes it categorical;
    `integer` refuses fractions (2.5 iterations is an error, not 2).
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

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def numeric(self) -> bool:
        return self.choices is None and not isinstance(self.default, bool | str)

    def range_text(self) -> str:
        """'in (-1, 0)', 'from 1 to 500', 'one of pgd, sgd, adam', 'true or false'."""
        if isinstance(self.default, bool):
            return "true or false"
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        kind = "a whole number" if self.integer else "a number"
        if self.low is None and self.high is None:
            return kind
        if self.low is not None and self.high is None:
            return f"{kind} {'above' if self.open_low else 'of at least'} {self.low:g}"
        if self.low is None:
            return f"{kind} {'below' if self.open_high else 'of at most'} {self.high:g}"
        left, right = "(" if self.open_low else "[", ")" if self.open_high else "]"
        return f"{'a whole number ' if self.integer else ''}in {left}{self.low:g}, {self.high:g}{right}"

    def check(self, value: Any, owner: str = "") -> Any:
        """The value converted to the declared type, or an InvalidInputError naming the allowed range."""
        who = f"{owner}'s {self.title}" if owner else self.title
        wanted = f"{self.range_text()}{' ' + self.unit if self.unit else ''}"
        if self.numeric:
            wanted += f" (default {self.default:g})"
        if isinstance(self.default, bool):
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
            if isinstance(value, bool | int) and value in (0, 1):
                return bool(value)
            raise InvalidInputError(f"{who} must be {wanted}, got {as_typed(value)}")
        if isinstance(self.default, str) and self.choices is None:
            return str(value)  # free text: a file path, say; its user checks it
        if self.choices is not None:
            if value not in self.choices:
                raise InvalidInputError(f"{who} must be {wanted}, got {as_typed(value)}")
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{who} must be {wanted}, got {as_typed(value)}") from None
        bad = (
            not math.isfinite(number)
            or (self.integer and number != int(number))
            or (self.low is not None and (number <= self.low if self.open_low else number < self.low))
            or (self.high is not None and (number >= self.high if self.open_high else number > self.high))
        )
        if bad:
            raise InvalidInputError(f"{who} must be {wanted}, got {as_typed(value)}")
        return int(number) if self.integer else number


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
