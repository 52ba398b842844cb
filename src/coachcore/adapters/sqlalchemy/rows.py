"""Rows <-> entities.

Entities become rows field by field (StrEnums as their value, tuples as JSON
lists, datetimes left to :class:`~coachcore.adapters.sqlalchemy.columns.UTCDateTime`);
rows become entities through the shared cattrs converter, so the entities'
validators run on everything read back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

import attrs

from coachcore.domain.entities import CoachProfile, Conversation
from coachcore.domain.enums import ConversationKind
from coachcore.serialization import converter

E = TypeVar("E")

COMPUTED: dict[type, frozenset[str]] = {
    CoachProfile: frozenset(
        {"current_member_count", "available_capacity", "average_rating", "rating_count"}
    ),
}
"""Fields computed when read, never stored."""


_FIELDS: dict[type, tuple[str, ...]] = {}


def _stored_fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        skip = COMPUTED.get(cls, frozenset())
        names = _FIELDS[cls] = tuple(f.name for f in attrs.fields(cls) if f.name not in skip)
    return names


_AS_IS = frozenset({str, int, float, bool, bytes, type(None), datetime, date})
"""Types stored as they are (checked by exact type: StrEnums are str subclasses)."""


def plain(value: Any) -> Any:
    """A field's value as stored: StrEnums as their value, tuples as lists."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def direct_key(participant_ids: Iterable[str]) -> str:
    """The unique key of a direct conversation between these people."""
    return json.dumps(sorted(set(participant_ids)))


def to_row(entity: Any) -> dict[str, Any]:
    """The column values of an entity (the stored fields, plus derived keys)."""
    row = {}
    for name in _stored_fields(type(entity)):
        value = getattr(entity, name)
        row[name] = value if type(value) in _AS_IS else plain(value)
    if isinstance(entity, Conversation):
        direct = entity.kind == ConversationKind.DIRECT
        row["direct_key"] = direct_key(entity.participant_ids) if direct else None
    return row


def from_row(row: Mapping[Any, Any], cls: type[E]) -> E:
    """The entity stored in ``row`` (extra columns are ignored)."""
    return converter().structure({n: row[n] for n in _stored_fields(cls)}, cls)


def from_rows(rows: Iterable[Mapping[Any, Any]], cls: type[E]) -> list[E]:
    return [from_row(row, cls) for row in rows]
