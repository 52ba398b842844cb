"""Round trips through every repository the port describes.

Driven by :func:`coachcore.ports.storage.repositories`: for each described
repository, two items built from the entity's fields (:func:`sample`) go
through ``add`` -> ``get`` -> ``find`` by each unique key -> ``list`` by each
filter -> ``update`` -> ``delete``, in one unit of work that is then left
without commit (so references to rows that do not exist are never checked),
and nothing of it may remain. Free text is drawn with hypothesis
(:func:`coachcore.testing.strategies.notes`).
"""

from __future__ import annotations

import enum
import types
import typing
from datetime import date, datetime, timedelta
from typing import Any

import attrs
from hypothesis import given, settings

from coachcore.ports.storage import Described, repositories
from coachcore.testing.conformance.contract import opened, user
from coachcore.testing.conformance.side import T0, OpenCore
from coachcore.testing.strategies import names, notes

#: Field values a generic string will not do for.
_TEXT = {"email": "{n}@example.com", "timezone": "UTC", "start_time": "09:00", "end_time": "10:00"}


def _value(name: str, hint: Any, n: int) -> Any:
    """A value of the field's type, different for each ``n``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    origin = typing.get_origin(hint) or hint
    if isinstance(origin, type) and issubclass(origin, enum.Enum):
        members = list(origin)
        return members[n % len(members)]
    if origin is bool:
        return n % 2 == 0
    if origin is int:
        return n
    if origin is float:
        return n + 0.25
    if origin is datetime:
        return T0 + timedelta(minutes=n)
    if origin is date:
        return T0.date() + timedelta(days=n)
    if origin is bytes:
        return bytes([0, 255, n % 256])
    if origin is tuple:
        return (f"{name}-a{n}", f"{name}-b{n}")
    if origin is dict:
        return {"n": n, "tags": ["a"], "nested": {"k": None}}
    if origin is str:
        if name.endswith("_time"):
            return f"{8 + n:02d}:00"
        return _TEXT.get(name, f"{name}-{n}").format(n=n)
    raise TypeError(f"no sample value for {name}: {hint!r}")


def sample(described: Described, n: int, **fields: Any) -> Any:
    """An entity of ``described``: its described fields and those without a
    default set, the others left at their (valid) defaults."""
    hints = typing.get_type_hints(described.entity)
    named = {described.key, *described.filters, *described.order}
    named.update(f for group in described.unique for f in group)
    values = {
        f.name: _value(f.name, hints[f.name], n)
        for f in attrs.fields(described.entity)
        if f.init and (f.default is attrs.NOTHING or f.name in named or _when(hints[f.name]))
    }
    values.update(fields)
    return described.entity(**values)


def _when(hint: Any) -> bool:
    """Datetimes are always set (a store may keep them NOT NULL)."""
    return hint in (datetime, datetime | None)


def _changed(described: Described, item: Any) -> Any:
    """The item with a field that is no key, filter or unique key changed."""
    fixed = {described.key, *described.filters, *(f for u in described.unique for f in u)}
    hints = typing.get_type_hints(described.entity)
    for field in attrs.fields(described.entity):
        plain = field.name not in _TEXT and not field.name.endswith("_time")
        if field.name not in fixed and field.init and plain and hints[field.name] in (str, bytes):
            old = getattr(item, field.name)
            new = old + (" changed" if isinstance(old, str) else b"!")
            return attrs.evolve(item, **{field.name: new})
    for field in attrs.fields(described.entity):
        if field.name not in fixed and field.init and _when(hints[field.name]):
            later = getattr(item, field.name) + timedelta(hours=1)
            return attrs.evolve(item, **{field.name: later})
    for field in attrs.fields(described.entity):
        if field.name not in fixed and field.init and hints[field.name] is bool:
            return attrs.evolve(item, **{field.name: not getattr(item, field.name)})
    raise AssertionError(f"{described.table}: nothing to update")


def check_repository(open_core: OpenCore, name: str) -> None:
    """One repository's plain operations (see the module docstring)."""
    described, _ = repositories()[name]
    key = described.key
    fields = {f.name for f in attrs.fields(described.entity)}
    listable = set(described.order) <= fields  # else ``list`` has no order to keep
    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            repo = getattr(uow, name)
            first, second = sample(described, 1), sample(described, 2)
            repo.add(first)
            repo.add(second)
            for item in (first, second):
                got = repo.get(getattr(item, key))
                assert got == item, f"{name}.get: {got!r} != {item!r}"
            assert repo.get("no such key") is None, f"{name}.get of an unknown key"
            for group in described.unique:
                found = repo.find(**{f: getattr(first, f) for f in group})
                assert found == first, f"{name}.find({', '.join(group)})"
            if listable:
                every = [getattr(i, key) for i in repo.list()]
                assert sorted(every) == sorted([getattr(first, key), getattr(second, key)]), name
            for field in described.filters:
                listed = repo.list(**{field: getattr(first, field)})
                assert listed == [first], f"{name}.list({field}=...): {listed!r}"
                assert len(repo.list(**{field: None})) == 2, f"{name}.list({field}=None)"
            changed = _changed(described, first)
            repo.update(changed)
            assert repo.get(getattr(first, key)) == changed, f"{name}.update"
            repo.delete(getattr(first, key))
            assert repo.get(getattr(first, key)) is None, f"{name}.delete"
            if listable:
                assert repo.list() == [second], f"{name}.list after delete"
            repo.delete("no such key")  # nothing happens
        with store.unit_of_work(write=False) as uow:
            for item in (first, second):
                left = getattr(uow, name).get(getattr(item, key))
                assert left is None, f"{name}: a row outlived a unit of work left uncommitted"


def check_every_repository(open_core: OpenCore) -> None:
    """:func:`check_repository` for each repository of the port."""
    for name in repositories():
        check_repository(open_core, name)


def check_text_round_trips(open_core: OpenCore, *, examples: int = 20) -> None:
    """Any text (hostile strings, any Unicode but NUL) comes back as written."""
    with opened(open_core) as store:

        @settings(max_examples=examples, deadline=None, database=None)
        @given(name=names(max_size=40), text=notes(max_size=200))
        def round_trip(name: str, text: str) -> None:
            with store.unit_of_work(write=True) as uow:
                written = attrs.evolve(user("text", "text@example.com"), name=name)
                uow.users.add(written)
                uow.users.update(attrs.evolve(written, external_id=text))
                back = uow.users.get("text")
                assert back == attrs.evolve(written, external_id=text), "text changed"

        round_trip()
