"""hashdemo: an interactive lab for adversarial attacks on deep-hashing image retrieval.

Your own model in five lines (any nn.Module whose output is the pre-tanh code H, or tanh(H)):

    model = hashdemo.wrap(net, output="pre-tanh", mean=(0.5,), std=(0.5,), input_shape=(1, 28, 28))
    system = hashdemo.HashingSystem.from_tensors(model, database=(db_x, db_y), queries=(q_x, q_y))
    report = hashdemo.evaluate(system, "pga", queries=100)
    result = hashdemo.attacks.get("dhta", system)(q_x[:4], q_y[:4], budget=hashdemo.Budget.from_255(8, 1, 100))
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.3.0"

# name -> the module that defines it (imported on first use, so `import hashdemo` stays light)
EXPORTS = {
    "wrap": "hashdemo.models.wrap",
    "HashingSystem": "hashdemo.systems.system",
    "load_system": "hashdemo.systems.system",
    "ModelSpec": "hashdemo.systems.spec",
    "Budget": "hashdemo.attacks.budget",
    "resolve": "hashdemo.run.settings",
    "run_attack": "hashdemo.run.driver",
    "evaluate": "hashdemo.run.driver",
    "attacks": "hashdemo.attacks",
}


def __getattr__(name: str) -> Any:
    if name not in EXPORTS:
        raise AttributeError(f"module 'hashdemo' has no attribute {name!r}")
    module = import_module(EXPORTS[name])
    return module if module.__name__ == f"hashdemo.{name}" else getattr(module, name)


__all__ = ["__version__", *EXPORTS]
