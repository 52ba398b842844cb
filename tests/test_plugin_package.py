"""The example plugin package: pip-installed, it is found through its entry point.

It is installed with ``pip install --target`` into a temporary directory that
only the child processes see (on their PYTHONPATH), never into the shared
environment: other tests, and other test runs in the same environment at the
same time, keep the built-in notifier even if this test is interrupted.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "examples" / "plugin_package"

SCRIPT = """
import importlib.metadata, coachcore
from coachcore import Role
from coachcore.adapters.memory.recorders import RecordingNotifier

groups = importlib.metadata.entry_points(group="coachcore")
print("entry points:", sorted(ep.name for ep in groups))
core = coachcore.open("memory://")
print("notifier:", type(core.notifier).__name__)
coach = core.system.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
core.system.signup_member(name="Max", email="max@example.com", coach_id=coach.id)
print("kept:", len(getattr(core.notifier, "sent", [])))
explicit = coachcore.open("memory://", notifier=RecordingNotifier())
print("explicit:", type(explicit.notifier).__name__)
"""


def _pip_install(target: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-build-isolation")  # offline when the backend is at hand
    command += ["--target", str(target), str(PACKAGE)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    site = tmp_path_factory.mktemp("plugin_site")
    _pip_install(site)
    yield site  # the temporary directory is the whole installation


def _run(extra_path: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    result = dict(line.split(": ", 1) for line in lines if not line.startswith("[coachcore]"))
    result["printed"] = "\n".join(line for line in lines if line.startswith("[coachcore]"))
    return result


def test_installed_plugin_provides_the_notifier_without_code_changes(plugin_site: Path) -> None:
    assert (plugin_site / "coachcore_example_notifier.py").is_file()
    result = _run(plugin_site)
    assert "example_notifier" in result["entry points"]
    assert result["notifier"] == "PrintingNotifier"
    assert result["kept"] == "1"  # the coach is told a member was assigned
    assert result["printed"].count("[coachcore] member_assigned -> ") == 1
    assert result["explicit"] == "RecordingNotifier"  # an explicit adapter still wins


def test_without_the_plugin_the_builtin_notifier_is_used() -> None:
    result = _run(None)
    assert "example_notifier" not in result["entry points"]
    assert result["notifier"] == "RecordingNotifier" and result["printed"] == ""
