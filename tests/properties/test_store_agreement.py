"""The memory store and the SQL stores agree: same operations, same outcomes, same views.

The state machine is :mod:`coachcore.testing.conformance.agreement` (what
third-party stores run too); here it runs against the session's SQLite and
PostgreSQL stores (``TestStoreAgreement_sqlite``,
``TestStoreAgreement_postgresql``), each opened empty per example through the
shared ``backend_pool``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import settings

import coachcore
from backends import BackendPool, BackendUnavailable, backend_names
from coachcore.testing.conformance.agreement import machine_for

_pool: BackendPool | None = None


@pytest.fixture(autouse=True)
def _session_backends(request: pytest.FixtureRequest, backend_pool: BackendPool) -> Iterator[None]:
    """Hand the session's backends to the machines (fixtures cannot reach them);
    skip, with the reason, where the case's SQL store cannot run."""
    global _pool
    name = getattr(request.cls, "sql_backend", None)
    if name is not None:
        try:
            backend_pool.get(name)
        except BackendUnavailable as why:
            pytest.skip(str(why))
    _pool = backend_pool
    yield
    _pool = None


def _opener(name: str) -> Any:
    """Open a core over the named SQL backend, emptied."""

    def open_core(clock: Any, *, plugins: Sequence[object] = ()) -> coachcore.Core:
        assert _pool is not None, "the backend_pool fixture did not run"
        return _pool.get(name).open(clock, plugins=list(plugins))

    return open_core


#: (examples, steps) per SQL store. A step (one operation, then every view read
#: on both stores) costs ~45 ms with SQLite and ~85 ms with PostgreSQL, so the
#: file takes ~40 s under HYPOTHESIS_PROFILE=ci on two cores (~19 s + ~17 s).
BUDGET = {"sqlite": (16, 25), "postgresql": (8, 25)}

for _name in backend_names():
    if _name == "memory":
        continue
    _case = machine_for(_opener(_name), _name).TestCase
    _examples, _steps = BUDGET[_name]
    _case.settings = settings(max_examples=_examples, stateful_step_count=_steps)
    _case.sql_backend = _name  # type: ignore[attr-defined]
    globals()[f"TestStoreAgreement_{_name}"] = _case
del _name, _case, _examples, _steps
