"""Shared fixtures: hypothesis profiles, the backend-parametrized ``backend``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from backends import T0, Backend, BackendPool, BackendUnavailable, backend_names
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
