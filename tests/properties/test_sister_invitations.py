"""Properties of invitations (issue 8.2), on every store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.errors import BusinessRuleViolation, NotFound

ACTIONS = st.lists(
    st.sampled_from(["accept", "decline", "revoke", "wait", "guess"]), min_size=1, max_size=6
)


# Feature: sister-systems, Property S3: An invitation is answered at most once, before it expires
@given(actions=ACTIONS, ttl_hours=st.integers(1, 48), waits=st.integers(1, 30))
def test_an_invitation_is_answered_at_most_once_before_expiry(
    backend: Any, actions: list[str], ttl_hours: int, waits: int
) -> None:
    with World(backend) as w:
        coach = w.coach()
        issued = w.as_(coach).invitations.create(
            email="invitee@example.com", expires_in=timedelta(hours=ttl_hours)
        )
        expires = issued.invitation.expires_at
        answered: str | None = None
        for action in actions:
            if action == "wait":
                w.clock.advance(timedelta(hours=waits))
                continue
            if action == "guess":  # a token that is not the issued one never matches
                try:
                    w.sys.invitations.accept(
                        issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
                    )
                except NotFound:
                    continue
                raise AssertionError("a guessed token matched")  # pragma: no cover
            usable = answered is None and w.now < expires
            try:
                if action == "accept":
                    w.sys.invitations.accept(issued.token)
                elif action == "decline":
                    w.sys.invitations.decline(issued.token)
                else:
                    w.as_(coach).invitations.revoke(issued.invitation.id)
            except BusinessRuleViolation as exc:
                assert not usable
                expected = answered or "expired"
                assert exc.details["reason"] == {
                    "accept": "accepted",
                    "decline": "declined",
                    "revoke": "revoked",
                }.get(expected, expected)
            else:
                assert usable
                answered = action
        stored = w.sys.invitations.get(issued.invitation.id)
        members = [u for u in w.sys.users.list() if u.role == "member"]
        if answered == "accept":
            assert stored.status == "accepted" and [m.id for m in members] == [stored.member_id]
            rels = w.sys.relationships.list(member_id=stored.member_id)
            assert [(r.coach_id, r.status) for r in rels] == [(coach.id, "active")]
        else:
            assert members == []
            assert w.sys.relationships.list() == []
            assert (
                stored.status
                == {"decline": "declined", "revoke": "revoked", None: "pending"}[answered]
            )
