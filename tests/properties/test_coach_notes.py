"""Coach notes belong to the session's coach (and admins): after the member is
reassigned, a later coach sees the earlier sessions but none of the earlier
coaches' private notes, on any read path; the earlier coach keeps them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.errors import Forbidden
from coachcore.testing.strategies import notes

SESSIONS = st.lists(st.tuples(notes(max_size=60), st.booleans()), min_size=1, max_size=3)
COACHES = st.lists(st.tuples(SESSIONS, notes(max_size=60)), min_size=2, max_size=3)


def _seen(call: Any) -> list[Any]:
    """The sessions a read path returns, or none where the reader is refused."""
    try:
        found = call()
    except Forbidden:
        return []
    return found if isinstance(found, list) else [found]


def _read_paths(w: World, reader: Any, member: Any, session_ids: list[str]) -> list[Any]:
    """Every way a session reaches ``reader``: get, list, upcoming, the member's dashboard."""
    scope = w.as_(reader)
    rows: list[Any] = []
    for sid in session_ids:
        rows += _seen(lambda sid=sid: scope.sessions.get(sid))
    rows += _seen(lambda: scope.sessions.list(member_id=member.id))
    rows += _seen(lambda: scope.sessions.list())
    rows += _seen(lambda: scope.sessions.upcoming())
    rows += _seen(lambda: scope.dashboards.member(member.id).upcoming)
    return rows


@given(coaches=COACHES)
def test_a_later_coach_never_reads_an_earlier_coachs_notes(backend: Any, coaches: Any) -> None:
    with World(backend) as w:
        member, admin = w.member(), w.admin()
        owners: dict[str, str] = {}
        chain = []
        for n, (sessions, profile_note) in enumerate(coaches):
            coach = w.coach()
            chain.append(coach)
            w.sys.members.assign_coach(member.id, coach.id)
            w.as_(coach).members.update(member.id, coach_notes=profile_note)
            for k, (text, done) in enumerate(sessions):
                start = w.now + timedelta(days=1 + n, hours=k)
                session = w.session(coach, member, start)
                if done:
                    w.as_(coach).sessions.complete(session.id, coach_notes=text)
                else:
                    w.as_(coach).sessions.add_coach_notes(session.id, text)
                owners[session.id] = coach.id
        truth = {s.id: s for s in w.sys.sessions.list(member_id=member.id)}
        assert set(truth) == set(owners)
        ids = sorted(owners)
        latest = chain[-1]
        for reader in [*chain, member, admin]:
            for row in _read_paths(w, reader, member, ids):
                own = reader.id == owners[row.id] or reader is admin
                expected = truth[row.id].coach_notes if own else None
                assert row.coach_notes == expected, (reader.id, row.id)
        # the latest coach sees every session of the member, earlier ones included
        assert {s.id for s in w.as_(latest).sessions.list(member_id=member.id)} == set(owners)
        # an earlier coach still reads their own notes, not their successor's
        for coach in chain[:-1]:
            for sid, owner in owners.items():
                if owner == coach.id:
                    assert w.as_(coach).sessions.get(sid).coach_notes == truth[sid].coach_notes
        # the profile notes of earlier coaches became their own quick notes
        profile = w.as_(latest).members.get(member.id)
        assert profile.coach_notes == coaches[-1][1]
        for coach, (_, profile_note) in zip(chain[:-1], coaches[:-1], strict=True):
            kept = [n.body for n in w.as_(coach).quick_notes.list(member_id=member.id)]
            assert kept == ([profile_note] if profile_note else [])
        assert w.as_(latest).quick_notes.list(member_id=member.id) == []
