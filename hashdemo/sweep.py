"""Sweep one parameter (eps, margin t, iterations T, or bit length) for one or more attacks."""

from __future__ import annotations

from . import attacks
from .errors import InvalidInputError
from .evaluation import run_attack
from .progress import Progress, silent
from .system import HashingSystem, load_system
from .zoo import list_models

PARAMS = ("eps", "t", "steps", "bits")


class NotCached(Exception):
    """A sweep point asked for from the cache only has not been computed."""


def sibling_models(system: HashingSystem) -> dict[int, str]:
    """Zoo models that differ from `system` only in bit length: {bits: zoo spec}."""
    m = system.meta
    return {
        e["bits"]: f"zoo:{e['name']}"
        for e in list_models()
        if (e["dataset"], e["backbone"], e["method"]) == (m["dataset"], m["backbone"], m["method"])
    }


def check(system: HashingSystem, param: str, values: list[float], attack_names: list[str]) -> None:
    if param not in PARAMS:
        raise InvalidInputError(f"cannot sweep {param!r}; choose one of {', '.join(PARAMS)}")
    if not values:
        raise InvalidInputError("give at least one value to sweep")
    if param == "t":
        without = [a for a in attack_names if "t" not in attacks.ATTACKS[a].method_defaults]
        if without:
            raise InvalidInputError(f"{', '.join(without)} has no margin t (HAG and PgA have one)")
    if param == "bits":
        missing = [int(v) for v in values if int(v) not in sibling_models(system)]
        if missing:
            raise InvalidInputError(
                f"no zoo model like {system.name} with {missing} bits; available: {sorted(sibling_models(system))}"
            )


def run_sweep(
    system: HashingSystem,
    param: str,
    values: list[float],
    attack_names: list[str],
    *,
    base: dict,
    progress: Progress = silent,
    should_stop=lambda: False,
) -> list[dict]:
    """One row per (value, attack): the attack's report with `value` set (same queries at every point)."""
    check(system, param, values, attack_names)
    rows = []
    total = len(values) * len(attack_names)
    for i, value in enumerate(values):
        target = system
        settings = dict(base)
        settings["params"] = dict(settings.get("params") or {})
        if param == "bits":
            target = load_system(sibling_models(system)[int(value)], str(system.device))
        elif param == "t":
            settings["params"]["t"] = float(value)
        elif param == "steps":
            settings["steps"] = int(value)
        else:
            settings["eps"] = float(value)
        for j, name in enumerate(attack_names):
            params = {k: v for k, v in settings["params"].items() if k in attacks.ATTACKS[name].method_defaults}
            run = run_attack(target, name, **{**settings, "params": params}, should_stop=should_stop)
            if run is None:
                raise NotCached(f"{name} at {param} = {value:g}")
            rows.append({"param": param, "value": value, **run.report})
            progress(i * len(attack_names) + j + 1, total, f"{param}={value} {name}")
    return rows
