"""The project's own stores through ``coachcore.testing.conformance``: every
contract check and repository round trip on each backend (the agreement
machine runs in ``tests/properties/test_store_agreement.py``)."""

from __future__ import annotations

import pytest

from backends import Backend
from coachcore.ports.storage import repositories
from coachcore.testing.conformance import CHECKS, check_repository, check_store

STORE_CHECKS = sorted(name for name in CHECKS if name not in {"agreement", "every_repository"})


@pytest.mark.parametrize("check", STORE_CHECKS)
def test_store_check(backend: Backend, check: str) -> None:
    CHECKS[check](backend.open)


@pytest.mark.parametrize("name", sorted(repositories()))
def test_repository_round_trip(backend: Backend, name: str) -> None:
    check_repository(backend.open, name)


def test_check_store_runs_everything_on_the_memory_store() -> None:
    """The host's one call, on the reference itself (a small budget)."""
    import coachcore

    def open_core(clock: object, *, plugins: object = ()) -> coachcore.Core:
        return coachcore.open("memory://", clock=clock, plugins=plugins)  # type: ignore[arg-type]

    check_store(open_core, examples=2, steps=5, name="memory")
