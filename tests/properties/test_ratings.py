"""Session ratings: range, feedback, persistence, averages, duplicates (requirement 9)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.errors import Conflict, ValidationFailed
from coachcore.testing.strategies import feedback, junk_integers, rating_specs, ratings

RATING_INPUTS = st.one_of(st.integers(-3, 9), junk_integers(), st.sampled_from([1.0, 5.0, "5"]))


# Feature: coaching-platform, Property 41: Session Rating Validation
@given(value=RATING_INPUTS)
def test_only_ratings_from_one_to_five_are_accepted(backend: Any, value: Any) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        session = w.completed(coach, member)
        if type(value) is int and 1 <= value <= 5:
            assert w.as_(member).sessions.rate(session.id, rating=value).rating == value
        else:
            with pytest.raises(ValidationFailed) as caught:
                w.as_(member).sessions.rate(session.id, rating=value)
            assert caught.value.status_code == 400
            assert w.sys.sessions.get(session.id).rating is None
            assert w.sys.coaches.get(coach.id).rating_count == 0


# Feature: coaching-platform, Property 42: Session Rating Optional Feedback
@given(rating=ratings(), text=feedback(), pass_it=st.booleans())
def test_feedback_is_optional(backend: Any, rating: int, text: Any, pass_it: bool) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        session = w.completed(coach, member)
        rate = w.as_(member).sessions.rate
        rated = (
            rate(session.id, rating=rating, feedback=text)
            if pass_it
            else rate(session.id, rating=rating)
        )
        assert rated.rating == rating
        assert rated.rating_feedback == (text if pass_it else None)


# Feature: coaching-platform, Property 43: Session Rating Persistence
@given(spec=rating_specs(), later=st.integers(0, 10_000))
def test_a_rating_is_stored_with_its_session(backend: Any, spec: Any, later: int) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        admin = w.admin()
        session = w.completed(coach, member)
        w.clock.advance(timedelta(minutes=later))
        w.as_(member).sessions.rate(session.id, **spec.as_kwargs())
        for reader in (member, coach, admin):
            stored = w.as_(reader).sessions.get(session.id)
            assert (stored.rating, stored.rating_feedback) == (spec.rating, spec.feedback)
            (listed,) = w.as_(reader).sessions.list(status="completed")
            assert (listed.id, listed.rating) == (session.id, spec.rating)
        assert w.sys.coaches.get(coach.id).rating_count == 1


# Feature: coaching-platform, Property 44: Coach Average Rating Calculation
@given(
    plan=st.lists(st.tuples(st.sampled_from(["mine", "other"]), st.none() | ratings()), max_size=8)
)
def test_the_average_is_the_mean_of_the_coachs_ratings(backend: Any, plan: Any) -> None:
    with World(backend) as w:
        coach, other = w.coach(), w.coach()
        member, other_member = w.member(coach), w.member(other)
        w.session(coach, member)  # scheduled, never rated
        w.cancelled(coach, member)
        mine = []
        for owner, stars in plan:
            who, whom = (coach, member) if owner == "mine" else (other, other_member)
            session = w.completed(who, whom)
            if stars is not None:
                w.as_(whom).sessions.rate(session.id, rating=stars)
                if owner == "mine":
                    mine.append(stars)
        for reader in (w.sys, w.as_(member), w.as_(coach)):
            profile = reader.coaches.get(coach.id)
            assert profile.rating_count == len(mine)
            if mine:
                assert profile.average_rating == pytest.approx(sum(mine) / len(mine), abs=0.005)
            else:
                assert profile.average_rating is None


# Feature: coaching-platform, Property 45: Session Rating Duplicate Prevention
@given(first=rating_specs(), second=rating_specs(), tries=st.integers(1, 3))
def test_a_session_is_rated_once(backend: Any, first: Any, second: Any, tries: int) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        session = w.completed(coach, member)
        w.as_(member).sessions.rate(session.id, **first.as_kwargs())
        for _ in range(tries):
            with pytest.raises(Conflict) as caught:
                w.as_(member).sessions.rate(session.id, **second.as_kwargs())
            assert caught.value.status_code == 409
        stored = w.sys.sessions.get(session.id)
        assert (stored.rating, stored.rating_feedback) == (first.rating, first.feedback)
        profile = w.sys.coaches.get(coach.id)
        assert (profile.rating_count, profile.average_rating) == (1, first.rating)
