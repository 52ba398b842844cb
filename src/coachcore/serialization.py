"""The one cattrs converter: entities <-> JSON-ready dicts.

Aware datetimes become ISO 8601 strings with their offset, dates ISO dates,
StrEnums their value, tuples lists. Hosts can add hooks through
:func:`converter` (it returns the shared instance).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

import cattrs

T = TypeVar("T")


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("naive datetime in serialized data")
    return parsed


def _structure_date(value: Any, _: type) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@cache
def converter() -> cattrs.Converter:
    """The shared converter used for outbox payloads, stores and ``to_dict``."""
    conv = cattrs.Converter()
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(date, lambda d: d.isoformat())
    conv.register_structure_hook(date, _structure_date)
    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, StrEnum), lambda e: e.value
    )
    return conv


def to_dict(obj: Any) -> Any:
    """Unstructure an entity (or a list of them) into JSON-ready data."""
    return converter().unstructure(obj)


def from_dict(data: Any, cls: type[T]) -> T:
    """Structure JSON-ready data back into an entity of type ``cls``."""
    return converter().structure(data, cls)
