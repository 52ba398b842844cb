"""pytest plugin of the mutation run (``-p plugin`` with tools/mutation on the path).

``COACHCORE_MUTANT=<key>``: import the module named in the key with that mutant
applied (nothing is written to disk). ``COACHCORE_MUTATION_MAP=<dir>``: record
which test executes which line (coverage contexts) and how long each test took.
Both register the hypothesis profile ``mutation`` (derandomized, no database).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))
from mutants import Mutant, mutate

settings.register_profile(
    "mutation",
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _module_name(path: str) -> str:
    parts = Path(path).with_suffix("").parts
    return ".".join(parts[parts.index("src") + 1 :])


class _MutantLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, mutant: Mutant) -> None:
        super().__init__(fullname, path)
        self.mutant = mutant

    def get_code(self, fullname: str) -> CodeType:
        source = Path(self.path).read_text()
        return compile(mutate(source, self.mutant), self.path, "exec")


class _MutantFinder(importlib.abc.MetaPathFinder):
    def __init__(self, mutant: Mutant) -> None:
        self.mutant = mutant
        self.fullname = _module_name(mutant.path)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.fullname:
            return None
        file = str(Path(self.mutant.path).resolve())
        loader = _MutantLoader(fullname, file, self.mutant)
        return importlib.util.spec_from_file_location(fullname, file, loader=loader)


def mutant_from_key(key: str) -> Mutant:
    path, scope, rest = key.split("::")
    operator, index = rest.rsplit("#", 1)
    return Mutant(path, scope, operator, int(index), 0, "")


_KEY = os.environ.get("COACHCORE_MUTANT")
if _KEY:
    sys.meta_path.insert(0, _MutantFinder(mutant_from_key(_KEY)))

_MAP_DIR = os.environ.get("COACHCORE_MUTATION_MAP")
_coverage: Any = None
_durations: dict[str, float] = {}
_failed: set[str] = set()
if _MAP_DIR:
    import coverage

    _coverage = coverage.Coverage(
        data_file=str(Path(_MAP_DIR) / "coverage"),
        include=os.environ.get("COACHCORE_MUTATION_SOURCE", "src/*").split(","),
        branch=False,
    )
    _coverage.start()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    if _coverage is None:
        yield
        return
    _coverage.switch_context(item.nodeid)
    started = time.perf_counter()
    yield
    _durations[item.nodeid] = time.perf_counter() - started
    _coverage.switch_context("")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _coverage is not None and report.failed:
        _failed.add(report.nodeid)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _coverage is None:
        return
    _coverage.stop()
    _coverage.save()
    (Path(str(_MAP_DIR)) / "durations.json").write_text(json.dumps(_durations))
    (Path(str(_MAP_DIR)) / "failed.json").write_text(json.dumps(sorted(_failed)))
