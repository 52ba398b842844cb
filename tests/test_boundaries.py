"""The hexagon's arrows point inward: the pure core imports no adapter or framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "coachcore"
PURE = ["domain", "scheduling", "policies"]
ALLOWED_THIRD_PARTY = {"attrs", "pendulum"}
ALLOWED_OWN = {"coachcore.domain", "coachcore.scheduling", "coachcore.policies", "coachcore.errors"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", PURE)
def test_pure_packages_import_only_stdlib_attrs_pendulum(package: str) -> None:
    import sys

    offenders = []
    for path in sorted((SRC / package).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "coachcore":
                if not any(name == ok or name.startswith(ok + ".") for ok in ALLOWED_OWN):
                    offenders.append(f"{path.name}: {name}")
            elif top not in sys.stdlib_module_names and top not in ALLOWED_THIRD_PARTY:
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_ports_and_services_do_not_import_adapters_or_sqlalchemy() -> None:
    offenders = []
    for package in ("ports", "services"):
        for path in sorted((SRC / package).rglob("*.py")):
            if path.name == "bootstrap.py":  # the composition root wires adapters in
                continue
            for name in _imports(path):
                if name.startswith(("coachcore.adapters", "sqlalchemy", "pluggy")):
                    offenders.append(f"{package}/{path.name}: {name}")
    assert offenders == []


def test_nothing_happens_at_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys, coachcore; "
        "print(int('sqlalchemy' in sys.modules), "
        "int('coachcore.adapters.sqlalchemy.store' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0"]


# Import cycles. Every ``import`` and ``from ... import`` of a coachcore module
# counts, wherever it is written: at module level, inside a function, or under
# ``if TYPE_CHECKING:`` (a cycle hidden in a function or behind TYPE_CHECKING is
# still two modules that each need the other; moving an import there does not
# break a cycle). ``from package import name`` is an edge to the submodule when
# ``name`` is one, else to the package. The implicit import of a module's parent
# packages is not an edge (``coachcore/__init__.py`` imports the services, which
# import ``coachcore.domain``: that is how packages work, not a cycle).

ALLOWED_CYCLES: set[frozenset[str]] = set()


def _module_names() -> dict[str, Path]:
    names = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _import_graph() -> dict[str, set[str]]:
    """Each coachcore module -> the coachcore modules it imports (see above)."""
    modules = _module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _path(graph: dict[str, set[str]], component: list[str]) -> str:
    """The shortest cycle through the component's first module, as ``a -> b -> a``."""
    start, inside = component[0], set(component)
    came_from: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & inside):
            if nxt == start:
                trail = [node]
                while trail[-1] != start:
                    trail.append(came_from[trail[-1]])
                return " -> ".join([*reversed(trail), start])
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"not a cycle: {component}")


def test_the_import_graph_sees_every_kind_of_import() -> None:
    graph = _import_graph()
    assert "coachcore.services.runtime.transaction" in graph["coachcore.services.scopes"]
    # ``from coachcore.services.runtime import records``: the submodule, not the package
    assert "coachcore.services.runtime.records" in graph["coachcore.services.accounts.users"]
    # inside a function (as under ``if TYPE_CHECKING:``: every nested block counts)
    assert "coachcore.adapters.crypto" in graph["coachcore.cli.keys"]
    toy = {"a": {"b"}, "b": {"c", "a"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(toy) == [["a", "b", "c"]]
    assert _path(toy, ["a", "b", "c"]) == "a -> b -> a"
    assert _path({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c"]) == "a -> b -> c -> a"


def test_no_import_cycles() -> None:
    graph = _import_graph()
    cycles = _cycles(graph)
    unexpected = [_path(graph, c) for c in cycles if frozenset(c) not in ALLOWED_CYCLES]
    assert unexpected == [], "import cycles:\n" + "\n".join(unexpected)
    gone = ALLOWED_CYCLES - {frozenset(c) for c in cycles}
    assert not gone, f"no longer a cycle, remove it from ALLOWED_CYCLES: {gone}"
