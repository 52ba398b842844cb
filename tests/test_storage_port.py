"""The storage port's descriptions agree with the entities and the SQL tables."""

from __future__ import annotations

import attrs
import pytest

from coachcore.adapters.sqlalchemy.tables import build_tables
from coachcore.ports.storage import Described, repositories

DESCRIBED = repositories()


@pytest.mark.parametrize("name", sorted(DESCRIBED))
def test_every_described_field_is_a_field_and_a_column(name: str) -> None:
    described, _ = DESCRIBED[name]
    fields = {f.name for f in attrs.fields(described.entity)}
    named = {
        described.key,
        *described.filters,
        *described.order,
        *(n for key in described.unique for n in key),
    }
    assert named <= fields, f"{name}: not fields of {described.entity.__name__}: {named - fields}"
    table = getattr(build_tables(), described.table)
    assert named <= set(table.c.keys()), f"{name}: not columns of {table.name}"
    assert "version" in table.c, f"{name}: {table.name} has no version column"


def test_the_repositories_are_listed_once_with_distinct_tables() -> None:
    tables = [described.table for described, _ in DESCRIBED.values()]
    assert len(DESCRIBED) == 29 and len(set(tables)) == len(tables)
    assert all(isinstance(d, Described) for d, _ in DESCRIBED.values())
