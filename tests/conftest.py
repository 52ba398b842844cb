"""Shared fixtures: hypothesis profiles, the backend-parametrized ``backend``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from backends import T0, Backend, BackendPool, BackendUnavailable, SqlBackend, backend_names
from coachcore.adapters.clock import FixedClock
from world import World

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# The properties hold on the memory store with the profile's full example
# count; on the SQL stores the same tests run as a conformance check with a
# quarter of the examples, so the whole suite stays well inside CI's budget.
SQL_BACKENDS = {"sqlite", "postgresql"}
SQL_EXAMPLE_SHARE = 4


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Run hypothesis tests on the SQL backends with fewer examples (see above)."""
    test = getattr(item, "obj", None)
    params = getattr(getattr(item, "callspec", None), "params", {})
    chosen = getattr(test, "_hypothesis_internal_use_settings", None)
    if chosen is None or params.get("backend") not in SQL_BACKENDS:
        yield
        return
    fewer = max(10, chosen.max_examples // SQL_EXAMPLE_SHARE)
    test._hypothesis_internal_use_settings = settings(chosen, max_examples=fewer)  # type: ignore[union-attr]
    try:
        yield
    finally:
        test._hypothesis_internal_use_settings = chosen  # type: ignore[union-attr]


@pytest.fixture(scope="session")
def backend_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendPool]:
    """The session's backends: one SQLite file and one PostgreSQL server, migrated once."""
    pool = BackendPool(tmp_path_factory.mktemp("backends"))
    yield pool
    pool.close()


@pytest.fixture(params=backend_names())
def backend(request: pytest.FixtureRequest, backend_pool: BackendPool) -> Iterator[Backend]:
    """Every store the suite runs on; ``backend.open()`` gives a core over an empty store."""
    try:
        chosen = backend_pool.get(request.param)
    except BackendUnavailable as why:
        pytest.skip(str(why))
    yield chosen
    chosen.release()


@pytest.fixture
def world(backend: Backend) -> Iterator[World]:
    """A fresh core on each backend with a FixedClock at 2030-01-01 08:00 UTC."""
    clock = FixedClock(T0)
    core = backend.open(clock)
    yield World(core, clock)
    core.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_backend(request: pytest.FixtureRequest, backend_pool: BackendPool) -> Iterator[SqlBackend]:
    """The session's SQLite file or PostgreSQL database, whose URL worker processes open."""
    try:
        chosen = backend_pool.get(request.param)
    except BackendUnavailable as why:
        pytest.skip(str(why))
    assert isinstance(chosen, SqlBackend)
    yield chosen
    chosen.release()
