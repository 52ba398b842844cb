"""Rules of the domain records at their edges: every instant field of every
entity refuses a naive datetime, numeric fields refuse one past their range,
and the small value rules (file names, content types, scores, specialties,
overdue items, erasure) hold exactly at their limits."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime
from typing import Any

import attrs
import pytest

from coachcore.domain import documents, entities, hub, organizations, privacy, relations, rules
from coachcore.domain.hub import ActionItem, ActionItemStatus
from coachcore.domain.organizations import MAX_SPECIALTIES, specialties
from coachcore.errors import ValidationFailed

T = datetime(2030, 1, 1, 8, tzinfo=UTC)
NAIVE = datetime(2030, 1, 1, 8)
MODULES = [documents, entities, hub, organizations, relations, rules]


def instant_fields() -> list[tuple[str, attrs.Attribute[Any]]]:
    found = []
    for module in MODULES:
        for name, value in vars(module).items():
            if not (attrs.has(value) and value.__module__ == module.__name__):
                continue
            hints = typing.get_type_hints(value)
            for field in attrs.fields(value):
                if "datetime" in str(hints.get(field.name)) and field.validator is not None:
                    found.append((f"{name}.{field.name}", field))
    return found


@pytest.mark.parametrize(("name", "field"), instant_fields(), ids=lambda v: str(v)[:40])
def test_every_instant_of_every_record_is_aware(name: str, field: attrs.Attribute[Any]) -> None:
    assert field.validator is not None
    field.validator(None, field, T)
    with pytest.raises(ValidationFailed):
        field.validator(None, field, NAIVE)


def test_there_are_instants_in_every_module() -> None:
    modules = {name.split(".")[0] for name, _ in instant_fields()}
    assert {"Document", "ActionItem", "Organization", "CoachingRelationship", "DateOverride",
            "SchedulingRules", "Session", "SessionScore"} <= modules


@pytest.mark.parametrize("rule", sorted(rules.RULE_RANGES))
def test_each_booking_rule_accepts_exactly_its_range(rule: str) -> None:
    low, high = rules.RULE_RANGES[rule]
    for value in (None, low, high):
        rules.SchedulingRules(coach_id="c", **{rule: value})
    for value in (low - 1, high + 1):
        with pytest.raises(ValidationFailed):
            rules.SchedulingRules(coach_id="c", **{rule: value})


def test_an_override_has_one_seat_or_more() -> None:
    def override(seats: int) -> rules.DateOverride:
        return rules.DateOverride(id="o", coach_id="c", date=date(2030, 1, 2),
                                  kind=rules.OverrideKind.EXTRA, start_time="09:00",
                                  end_time="10:00", max_sessions_per_slot=seats, created_at=T)

    assert override(1).max_sessions_per_slot == 1
    with pytest.raises(ValidationFailed):
        override(0)


@pytest.mark.parametrize("value", [0, 0.0, 50.5, 100, 100.0])
def test_scores_from_zero_to_a_hundred(value: float) -> None:
    assert hub.score("s", value) == float(value)


@pytest.mark.parametrize("value", [-0.001, 100.001, float("nan"), float("inf"), True, "5"])
def test_scores_outside_the_range_are_refused(value: Any) -> None:
    with pytest.raises(ValidationFailed):
        hub.score("s", value)
    fields = {field.name: field for field in attrs.fields(hub.SessionScore)}
    with pytest.raises(ValidationFailed):
        fields["previous_score"].validator(None, fields["previous_score"], value)  # type: ignore[misc]
    fields["previous_score"].validator(None, fields["previous_score"], None)  # type: ignore[misc]


def test_an_item_is_overdue_only_when_open_and_due_before_today() -> None:
    today = date(2030, 1, 10)

    def item(due: date | None, status: ActionItemStatus) -> ActionItem:
        return ActionItem(id="i", plan_id="p", member_id="m", coach_id="c", owner_id="m",
                          title="t", due_date=due, status=status, created_at=T, updated_at=T)

    assert item(date(2030, 1, 9), ActionItemStatus.OPEN).is_overdue(today)
    assert not item(today, ActionItemStatus.OPEN).is_overdue(today)
    assert not item(None, ActionItemStatus.OPEN).is_overdue(today)
    for status in ActionItemStatus:
        if status != ActionItemStatus.OPEN:
            assert not item(date(2030, 1, 9), status).is_overdue(today)


@pytest.mark.parametrize("name", ["a/b.txt", "a\\b.txt", ".", "..", "a\x1fb.txt", "x\t.txt"])
def test_file_names_are_plain(name: str) -> None:
    with pytest.raises(ValidationFailed):
        documents.filename(name)


@pytest.mark.parametrize("name", ["notes.txt", "a b.pdf", "..hidden", "x" * 255, "é.docx", "a~b"])
def test_plain_file_names_are_kept(name: str) -> None:
    assert documents.filename(name) == name


def test_content_types_from_the_name_or_given() -> None:
    assert documents.content_type(None, "plan.PDF") == documents.PDF
    assert documents.content_type(None, "x.docx") == documents.DOCX
    assert documents.content_type(None, ".pdf") == documents.PDF  # a name that is all extension
    for name in ("README", "photo.png", "pdf"):
        with pytest.raises(ValidationFailed):
            documents.content_type(None, name)
    assert documents.content_type("Application/PDF; x=1", "whatever") == documents.PDF
    with pytest.raises(ValidationFailed):
        documents.content_type("image/png", "x.pdf")


def test_specialties_up_to_their_limit() -> None:
    names = [f"s{i}" for i in range(MAX_SPECIALTIES)]
    assert specialties(names) == tuple(names)
    assert specialties(None) == ()
    with pytest.raises(ValidationFailed):
        specialties([*names, "one more"])
    for bad in ("yoga", {"yoga"}, 7):
        with pytest.raises(ValidationFailed):
            specialties(bad)


def test_mentions_look_inside_lists_and_mappings() -> None:
    assert privacy.mentions(["a", {"k": ("x", "Ann Lee")}], "Ann")
    assert privacy.mentions(["a", "b", "Ann"], "Ann")
    assert not privacy.mentions(["a", {"k": ("x", 3)}], "Ann")
    assert not privacy.mentions([], "Ann")


def test_a_user_is_erased_once_erased_at_is_set() -> None:
    user = entities.User(id="u", name="Ann", email="ann@example.com", role="member",
                         created_at=T, updated_at=T)
    assert not privacy.is_erased(user)
    assert privacy.is_erased(attrs.evolve(user, erased_at=T))
