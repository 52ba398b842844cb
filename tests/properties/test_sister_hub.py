"""Properties of the coaching hub (issue 8.6), on every store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World

DUE = st.one_of(st.none(), st.dates(min_value=date(2029, 12, 1), max_value=date(2030, 1, 31)))
ITEMS = st.lists(st.tuples(DUE, st.booleans(), st.booleans()), max_size=8)


# Feature: sister-systems, Property S7: Overdue means open and due before the day asked about
@given(items=ITEMS, as_of=st.dates(min_value=date(2029, 12, 1), max_value=date(2030, 2, 1)))
def test_overdue_items_are_open_and_due_before_the_day(
    backend: Any, items: list[tuple[date | None, bool, bool]], as_of: date
) -> None:
    with World(backend) as w:
        coach = w.coach()
        members = [w.member(coach), w.member(coach)]
        made = []
        for due, done, second in items:
            member = members[1 if second else 0]
            item = w.as_(coach).action_items.create(member_id=member.id, title="t", due_date=due)
            if done:
                item = w.as_(member).action_items.complete(item.id)
            made.append(item)
        expected = sorted(
            (
                i
                for i in made
                if i.status == "open" and i.due_date is not None and i.due_date < as_of
            ),
            key=lambda i: (i.due_date, i.id),
        )
        got = w.as_(coach).action_items.overdue(as_of=as_of)
        assert [i.id for i in got] == [i.id for i in expected]
        assert all(i.is_overdue(as_of) for i in got)
        mine = w.as_(members[0]).action_items.overdue(as_of=as_of)
        assert [i.id for i in mine] == [i.id for i in expected if i.member_id == members[0].id]


SCORE = st.floats(min_value=0, max_value=100, allow_nan=False)


# Feature: sister-systems, Property S8: Progress follows session time; previous = last earlier score
@given(days=st.lists(st.integers(1, 60), min_size=1, max_size=5, unique=True), scores=st.data())
def test_progress_follows_session_time(backend: Any, days: list[int], scores: Any) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        recorded: dict[datetime, float] = {}
        previous: dict[datetime, float | None] = {}
        for day in days:
            start = datetime(2030, 1, 2, 12, tzinfo=UTC) + timedelta(days=day)
            session = w.session(coach, member, start=start)
            value = scores.draw(SCORE)
            earlier = [t for t in recorded if t < start]
            previous[start] = recorded[max(earlier)] if earlier else None
            made = w.as_(coach).scores.record(session.id, current_score=value)
            assert made.previous_score == previous[start]
            recorded[start] = value
        progress = w.as_(member).scores.progress()
        assert [s.scored_at for s in progress.scores] == sorted(recorded)
        assert [s.current_score for s in progress.scores] == [recorded[t] for t in sorted(recorded)]
        assert [s.previous_score for s in progress.scores] == [
            previous[t] for t in sorted(recorded)
        ]
        assert progress.latest == recorded[max(recorded)]
