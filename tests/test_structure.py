"""The package's shape: no import cycle between hashdemo modules (imports read with ast, top level and inside
functions alike), the core never imports the app, pages never parse model names, every registry is filled by
decorators, every attack declares what the protocols and the app read."""

import ast
import inspect
from pathlib import Path

import pytest

from hashdemo import attacks

PACKAGE = Path(__file__).resolve().parent.parent / "hashdemo"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """hashdemo modules that `path` imports anywhere in its body (a `from X import name` names module X.name
    when that is a module, else X); importing a.b.c runs the packages a.b and a first, so they count too
    (except the packages `path` itself lives in, which are already being imported)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                candidate = f"{origin}.{alias.name}"
                found.add(candidate if candidate in modules else origin)
    parents = {".".join(m.split(".")[:i]) for m in found for i in range(2, m.count(".") + 1)}
    mine = {".".join(me.split(".")[:i]) for i in range(1, me.count(".") + 2)}
    return {m for m in found | parents if m in modules and m not in mine}


def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, modules) for f in files}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a"}}) is None


def test_the_graph_sees_imports_inside_functions():
    edges = graph()
    assert "hashdemo.training.zoo_build" in edges["hashdemo.cli"]  # imported inside cmd_zoo only
    assert "hashdemo.experiments.lecture" in edges["hashdemo.cli"]  # imported inside cmd_lecture


def test_the_graph_counts_the_package_a_submodule_import_runs():
    assert "hashdemo.attacks" in graph()["hashdemo.defences.atrdh"]  # from ..attacks.losses import ...


# hashdemo's sub-packages from the bottom up: a module imports only from its own sub-package or one below
LAYERS = (
    ("core",),  # errors, paths, registry, params, units, progress, devices
    ("data", "models"),  # datasets; networks and model folders (card, checkpoint)
    ("hashing", "retrieval"),  # training losses; ranking, metrics, encoding
    ("targets",),  # target labels, pharos and anchor codes, PrototypeNet
    ("prosgan",),  # the generative attack's networks, losses and training
    ("attacks",),  # attacks, their budget and the optimiser loop
    ("systems",),  # a model with its data and codes: ModelSpec, loading, the zoo, imports
    ("run",),  # the run spine: settings, protocols, driver, engines, cache, reports
    ("defences",),  # adversarial training terms (the inner attack is a run)
    ("training",),  # training hashing models and the zoo
    ("experiments",),  # lab, sweep, robustness, leaderboard, transfer, lecture, report
    ("figures",),  # charts, panels, the paper figure, tables: they read result types
    ("ui", "cli", "__main__"),  # the faces
)


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the package's lazy exports
    return next(i for i, names in enumerate(LAYERS) if parts[1] in names)


def test_every_sub_package_has_a_layer():
    tops = {m.split(".")[1] for m in graph() if m.count(".")}
    assert tops <= {name for names in LAYERS for name in names}


def test_imports_only_point_down():
    upward = [
        f"{module} -> {target}"
        for module, imported in graph().items()
        for target in imported
        if layer_of(module) is not None
        and layer_of(target) is not None
        and module.split(".")[1] != target.split(".")[1]
        and layer_of(target) >= layer_of(module)
        and module != "hashdemo.__main__"
    ]
    assert not upward, upward


def test_no_import_cycle_between_hashdemo_modules():
    cycle = find_cycle(graph())
    assert cycle is None, " -> ".join(cycle)


def test_loading_a_model_never_imports_training():
    edges = graph()
    seen, todo = set(), ["hashdemo.systems.system"]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges[node])
    assert "hashdemo.training.train" not in seen and "hashdemo.training.zoo_build" not in seen


def test_the_core_never_imports_the_app():
    for module, imported in graph().items():
        if not module.startswith("hashdemo.ui"):
            assert not any(m.startswith("hashdemo.ui") for m in imported), module
    for path in PACKAGE.rglob("*.py"):
        if "ui" not in path.relative_to(PACKAGE).parts:
            assert "import streamlit" not in path.read_text(), path


def test_pages_never_parse_model_names():
    for path in sorted((PACKAGE.parent / "pages").glob("*.py")) + [PACKAGE.parent / "app.py"]:
        text = path.read_text()
        for piece in ('removeprefix("zoo:")', '"-atrdh"', '"-pharos-at"', 'endswith(("dpsh', '.split("-")'):
            assert piece not in text, (path.name, piece)


def test_every_registry_is_filled_by_decorators_in_the_entries_own_files():
    from hashdemo.data import DATASETS
    from hashdemo.defences import DEFENCES
    from hashdemo.hashing import METHODS
    from hashdemo.models import BACKBONES

    for registry, decorator in ((attacks.ATTACKS, "ATTACKS"), (DEFENCES, "DEFENCES"), (METHODS, "METHODS")):
        for name, cls in registry.items():
            assert f"@{decorator}.register()" in Path(inspect.getfile(cls)).read_text(), name
    assert {"fashion", "fashion-mosaic", "cifar10", "cifar10-1", "cifar10-2", "folder", "list"} <= set(DATASETS)
    assert {"smallcnn", "resnet18-cifar", "vgg-small", "alexnet", "resnet50"} <= set(BACKBONES)


@pytest.mark.parametrize("name", attacks.ATTACKS.names())
def test_every_attack_declares_its_contract(name):
    cls = attacks.ATTACKS.get(name)
    assert cls.name == name and cls.group in attacks.GROUPS and cls.title and cls.paper and cls.equation
    assert cls.__doc__ and all(p.help for p in cls.parameters)
    assert not any(hasattr(cls, look) for look in ("colour", "marker", "dash"))  # no styling in attacks/
    assert cls.fixed_steps == 0 or cls.paper_setting is not None  # noise and ProS-GAN take no gradient step
