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
