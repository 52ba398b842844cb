"""The built wheel installs the library alone and works without any extra."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import coachcore
from coachcore.errors import MissingDependency

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

IN_A_BARE_INSTALL = """
import importlib.util, json, sys
import coachcore
from coachcore.errors import MissingDependency

out = {"version": coachcore.__version__}
with coachcore.open("memory://") as core:
    out["memory"] = core.system.users.create(
        name="Cleo", email="cleo@example.com", role=coachcore.Role.COACH).name
with coachcore.open(sys.argv[1]) as core:
    core.system.users.create(name="Max", email="max@example.com", role=coachcore.Role.MEMBER)
with coachcore.open(sys.argv[1]) as core:
    out["sqlite"] = [u.name for u in core.system.users.list()]
try:
    coachcore.open("postgresql+psycopg://nobody@localhost/none")
except MissingDependency as error:
    out["postgresql"] = error.to_dict()
out["absent"] = sorted(m for m in ("typer", "rich", "pydantic", "psycopg", "click")
                       if importlib.util.find_spec(m) is not None)
print(json.dumps(out))
"""


def _run(*args: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, check=False, **kw
    )  # type: ignore[call-overload]


@pytest.mark.slow
def test_the_wheel_installs_the_library_only_and_opens_memory_and_sqlite(tmp_path: Path) -> None:
    built = _run(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", ROOT
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("coachcore-*.whl")
    assert wheel.name.startswith(f"coachcore-{coachcore.__version__}-")
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python, script = venv / "bin" / "python", venv / "bin" / "coachcore"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    installed = _run(python, "-m", "pip", "install", "-q", wheel, env=env)
    assert installed.returncode == 0, installed.stderr

    used = _run(
        python, "-c", IN_A_BARE_INSTALL, f"sqlite:///{tmp_path / 'bare.db'}", env=env, cwd=tmp_path
    )
    assert used.returncode == 0, used.stderr
    import json

    out = json.loads(used.stdout)
    assert out["version"] == coachcore.__version__
    assert out["memory"] == "Cleo" and out["sqlite"] == ["Max"]
    assert out["postgresql"]["error"] == "Missing Dependency"
    assert 'pip install "coachcore[postgresql]"' in out["postgresql"]["message"]
    assert out["absent"] == []  # no CLI, no driver: the library only

    command = _run(script, "demo", env=env, cwd=tmp_path)
    assert command.returncode == 1
    assert 'pip install "coachcore[cli]"' in command.stderr
    assert "Traceback" not in command.stderr and command.stdout == ""
    assert not (tmp_path / "coachcore-demo.db").exists()


def test_core_dependencies_are_the_library_and_its_sql_store_only() -> None:
    names = {d.split(">")[0].split("[")[0].lower() for d in PYPROJECT["project"]["dependencies"]}
    assert names == {
        "attrs",
        "cattrs",
        "pendulum",
        "pluggy",
        "sqlalchemy",
        "alembic",
        "cryptography",
    }
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {d.split(">")[0] for d in extras["cli"]} == {"typer", "rich"}
    assert any(d.startswith("psycopg") for d in extras["postgresql"])


def test_metadata_has_one_version_a_license_and_the_typed_classifier() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "src/coachcore/__init__.py"
    assert project["license"] == "MIT" and (ROOT / "LICENSE").read_text().startswith("MIT")
    assert "Typing :: Typed" in project["classifiers"]
    assert {"Homepage", "Source", "Changelog"} <= set(project["urls"])
    assert (ROOT / "src" / "coachcore" / "py.typed").exists()
    from importlib.metadata import version

    assert version("coachcore") == coachcore.__version__


def test_a_postgresql_url_without_its_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    with pytest.raises(MissingDependency) as caught:
        coachcore.open("postgresql+psycopg://nobody@localhost/none")
    assert caught.value.details == {"extra": "postgresql", "module": "psycopg"}
    assert isinstance(caught.value, ImportError)  # older `except ImportError` still works


def test_the_script_without_typer_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from coachcore import console

    monkeypatch.delitem(sys.modules, "coachcore.cli", raising=False)
    monkeypatch.setitem(sys.modules, "typer", None)
    with pytest.raises(SystemExit) as stopped:
        console.main()
    assert stopped.value.code == 1
    assert 'pip install "coachcore[cli]"' in capsys.readouterr().err
