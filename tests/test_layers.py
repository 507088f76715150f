"""The layers of the package import one way (DESIGN.md "Layers").

Read from the source with ``ast``: every ``import hoarfrost...`` / ``from hoarfrost... import``
(at module level or inside a function, TYPE_CHECKING blocks included: a type that needs a
higher layer is a dependency on it) must point at the same or a lower layer, and no two
packages may depend on each other. Private names never cross modules.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "hoarfrost"

# Each unit (a package, or a top-level module) and the units it may import besides itself.
BASE = {"errors", "version", "config", "egress"}
LEAVES = BASE | {"sql", "packages", "workers"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "version": set(),
    "egress": {"errors"},
    "config": {"errors", "egress"},
    "sql": BASE,
    "packages": BASE,
    "workers": BASE,
    # worker backends (local pool, Ray cluster): environments (packages) meet workers here
    "cluster": LEAVES,
    "catalog": LEAVES,
    "engine": LEAVES | {"catalog", "cluster"},
    "commands": LEAVES | {"catalog", "engine", "cluster"},
    "connection": LEAVES | {"catalog", "engine", "commands", "cluster"},
    # connect() gives the engine the server's bridge for procedures' Snowpark sessions
    "__init__": LEAVES | {"connection", "server"},
    "server": LEAVES | {"catalog", "engine", "commands", "connection", "cluster"},
    "cli": LEAVES
    | {"catalog", "engine", "commands", "connection", "server", "__init__", "cluster"},
    "__main__": {"cli"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _unit(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, names imported from it) for every hoarfrost import in the file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "hoarfrost"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] == "hoarfrost":
                found.append((target, [a.name for a in node.names]))
    return found


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _edges() -> dict[str, set[tuple[str, str]]]:
    """unit -> {(imported unit, 'importer -> imported')}."""
    edges: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in _sources():
        importer = _module_name(path)
        for target, names in _imports(path):
            targets = [target]
            if target == "hoarfrost":  # `from hoarfrost import errors` names a module
                targets = [
                    f"hoarfrost.{n}" if (SRC / f"{n}.py").exists() or (SRC / n).is_dir() else target
                    for n in names
                ]
            for t in targets:
                if _unit(t) != _unit(importer):
                    edges[_unit(importer)].add((_unit(t), f"{importer} -> {t}"))
    return edges


def test_every_unit_is_declared() -> None:
    units = {_unit(_module_name(p)) for p in _sources()}
    assert units <= set(ALLOWED), f"add these to ALLOWED with their layer: {units - set(ALLOWED)}"


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = sorted(
        why
        for unit, targets in _edges().items()
        for target, why in targets
        if target not in ALLOWED.get(unit, set())
    )
    assert wrong == [], "imports against the layering:\n" + "\n".join(wrong)


def test_no_cycle_between_packages() -> None:
    graph = {unit: {t for t, _ in targets} for unit, targets in _edges().items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(unit for unit in graph if reaches(unit, unit, {unit}))
    assert cycles == [], f"packages on an import cycle: {cycles}"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(SRC)))
def test_private_names_stay_private(path: Path) -> None:
    crossing = [
        f"{target}.{name}"
        for target, names in _imports(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert crossing == [], f"{path.name} imports private names: {crossing}"


_MUTATORS = {"update", "extend", "append", "add", "insert", "setdefault", "__setitem__"}


def _foreign_receiver(node: ast.expr, modules: set[str]) -> bool:
    """Whether ``node`` is (an attribute of) a module imported by the file."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return isinstance(node, ast.Name) and node.id in modules


def _imported_modules(tree: ast.Module) -> set[str]:
    """Names bound by imports of hoarfrost's own modules (the standard library's tables, such
    as ``sys.modules``, are not ours to keep)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names if _ours(a.name)}
        elif isinstance(node, ast.ImportFrom) and (node.level or _ours(node.module or "")):
            names |= {a.asname or a.name for a in node.names}
    return names


def _ours(module: str) -> bool:
    return module.split(".")[0] == "hoarfrost"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_changes_another_modules_tables(path: Path) -> None:
    """Registries are assembled by value (commands/registry.py); nobody adds to another
    module's dict, list or set, at import time or later."""
    tree = ast.parse(path.read_text())
    modules = _imported_modules(tree)
    wrong = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _MUTATORS
            and isinstance(node.func.value, ast.Attribute)
            and _foreign_receiver(node.func.value, modules)
        ):
            wrong.append(ast.unparse(node))
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AugAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Subscript | ast.Attribute) and _foreign_receiver(
                target.value, modules
            ):
                wrong.append(ast.unparse(target))
    assert wrong == [], f"{path.name} changes another module's tables: {wrong}"
