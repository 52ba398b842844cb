"""The Django example host: REST views over coachcore, its error format, the jobs command.

Driven with Django's test client (the host's own tables in an in-memory SQLite
database) over coachcore on SQLite and on the test PostgreSQL server.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import coachcore
from backends import T0, BackendPool, BackendUnavailable, SqlBackend
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.errors import SLOT_FULL_MESSAGE

django = pytest.importorskip("django", reason="Django is in the test extra")

APP = Path(__file__).resolve().parent.parent / "examples" / "django_app"
sys.path.insert(0, str(APP))
os.environ["DJANGO_SETTINGS_MODULE"] = "coachsite.settings"
os.environ["DJANGO_DATABASE"] = ":memory:"  # the host's tables, never a file in the repo
django.setup()
for _name in ("DJANGO_SETTINGS_MODULE", "DJANGO_DATABASE"):  # read once; keep them from
    os.environ.pop(_name)  # the subprocesses other tests start

from coaching.accounts import link  # noqa: E402
from coaching.core import close_all, get_core  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import CommandError, call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

call_command("migrate", verbosity=0)
MONDAY = date(2030, 1, 7)


class Host:
    """The Django host over one coachcore store, with people to log in as."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.core = get_core()
        system = self.core.system
        self.coach = system.users.create(
            name="Cleo", email="cleo@example.com", role=Role.COACH, timezone="Europe/Berlin"
        )
        for day in range(7):
            self.core.acting_as(self.coach.id).availability.create(
                day_of_week=day, start_time="00:00", end_time="24:00", max_sessions_per_slot=2
            )
        self.members = [
            system.signup_member(name=n, email=f"{n.lower()}@example.com", coach_id=self.coach.id)
            for n in ("Ada", "Ben", "Cy")
        ]

    def client(self, who: coachcore.User | None, login: str | None = None) -> Client:
        """A test client logged in as the host user mapped to ``who`` (None: no mapping)."""
        client = Client()
        user = User.objects.create_user(login or (who.email if who else "nobody"))
        if who is not None:
            link(user, who.id)
        client.force_login(user)
        return client


@pytest.fixture(params=["sqlite", "postgresql"])
def host(request: pytest.FixtureRequest, backend_pool: BackendPool) -> Iterator[Host]:
    try:
        backend = backend_pool.get(request.param)
    except BackendUnavailable as why:
        pytest.skip(str(why))
    assert isinstance(backend, SqlBackend)
    backend.release()
    backend.reset()
    clock = FixedClock(T0)
    with override_settings(COACHCORE_URL=backend.url(), COACHCORE_OPTIONS={"clock": clock}):
        try:
            yield Host(clock)
        finally:
            close_all()
            User.objects.all().delete()


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == {"statusCode", "message", "error", "details"}
    assert body["statusCode"] == status
    return body


def test_members_book_until_the_slot_is_full_and_see_it_on_their_dashboards(host: Host) -> None:
    ada, ben, cy = (host.client(m) for m in host.members)
    listed = ada.get(f"/api/coaches/{host.coach.id}/slots?start_date={MONDAY}&end_date={MONDAY}")
    assert listed.status_code == 200
    first = listed.json()["slots"][0]
    assert first["available_capacity"] == 2 and listed.json()["duration"] == 60

    booking = {"coach_id": host.coach.id, "start": first["start"], "duration": 60}
    made = ada.post("/api/bookings", booking, content_type="application/json")
    assert made.status_code == 201 and made.json()["status"] == "confirmed"
    assert first["you_have_a_seat"] is False
    for client, yours in ((ada, True), (ben, False)):  # one seat left: listed for both
        again = client.get(f"/api/coaches/{host.coach.id}/slots?start_date={MONDAY}")
        same = next(s for s in again.json()["slots"] if s["start"] == first["start"])
        assert (same["available_capacity"], same["you_have_a_seat"]) == (1, yours)
    assert ben.post("/api/bookings", booking, content_type="application/json").status_code == 201
    full = _error(cy.post("/api/bookings", booking, content_type="application/json"), 409)
    assert full["message"] == SLOT_FULL_MESSAGE

    mine = ada.get("/api/bookings").json()
    assert [b["id"] for b in mine] == [made.json()["id"]]
    dashboard = ada.get("/api/dashboards/member").json()
    assert dashboard["next_session"]["id"] == made.json()["session_id"]
    coach = host.client(host.coach)
    week = coach.get("/api/dashboards/coach")
    assert week.status_code == 200 and week.json()["active_member_count"] == 3
    # the dashboard of someone else is the policies' business, not the view's
    _error(ada.get(f"/api/dashboards/member?member_id={host.members[1].id}"), 403)

    cancelled = ada.delete(f"/api/bookings/{made.json()['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = cy.post("/api/bookings", booking, content_type="application/json")
    assert again.status_code == 201  # the freed seat is bookable again


def test_a_coach_completes_and_a_member_rates_a_session(host: Host) -> None:
    ada, coach = host.client(host.members[0]), host.client(host.coach)
    slot = host.core.acting_as(host.members[0].id).availability.available_slots(
        host.coach.id, start_date=MONDAY, end_date=MONDAY, duration=60
    )[0]
    made = ada.post(
        "/api/bookings",
        {"coach_id": host.coach.id, "start": slot.start.isoformat()},
        content_type="application/json",
    ).json()
    (session,) = coach.get("/api/sessions").json()
    assert session["id"] == made["session_id"]
    sid = session["id"]
    done = coach.post(
        f"/api/sessions/{sid}/complete",
        {"coach_notes": "good start"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "completed"
    _error(
        coach.post(f"/api/sessions/{sid}/rate", {"rating": 5}, content_type="application/json"), 403
    )  # only the member rates
    rated = ada.post(f"/api/sessions/{sid}/rate", {"rating": 5}, content_type="application/json")
    assert rated.status_code == 200 and rated.json()["rating"] == 5
    assert ada.get(f"/api/sessions/{sid}").json()["coach_notes"] is None  # redacted for members


def test_every_error_has_the_same_format(host: Host) -> None:
    anonymous = Client()
    assert "Log in" in _error(anonymous.get("/api/me"), 401)["message"]
    stranger = host.client(None, login="stranger")
    assert _error(stranger.get("/api/bookings"), 401)["message"] == (
        "This login has no coaching account"
    )
    ada = host.client(host.members[0])
    assert ada.get("/api/me").json()["id"] == host.members[0].id
    _error(ada.post("/api/bookings", "{not json", content_type="application/json"), 400)
    bad = ada.post(
        "/api/bookings",
        {"coach_id": host.coach.id, "start": "tomorrow"},
        content_type="application/json",
    )
    assert _error(bad, 400)["details"] == {"field": "start"}
    naive = ada.post(
        "/api/bookings",
        {"coach_id": host.coach.id, "start": "2030-01-07T09:00"},
        content_type="application/json",
    )
    _error(naive, 400)  # coachcore rejects naive datetimes
    _error(ada.get("/api/sessions/no-such-session"), 404)
    _error(ada.get("/api/coaches/x/slots?start_date=2030-13-01"), 400)
    assert "No route" in _error(ada.get("/api/nowhere"), 404)["message"]
    assert ada.put("/api/bookings").status_code == 405


def test_the_jobs_command_sends_each_due_reminder_once(host: Host) -> None:
    ada = host.client(host.members[0])
    listed = ada.get(f"/api/coaches/{host.coach.id}/slots?start_date={MONDAY}&end_date={MONDAY}")
    start = datetime.fromisoformat(listed.json()["slots"][0]["start"])
    made = ada.post(
        "/api/bookings",
        {"coach_id": host.coach.id, "start": start.isoformat()},
        content_type="application/json",
    )
    assert made.status_code == 201

    def jobs(*names: str) -> str:
        out = io.StringIO()
        call_command("coachcore_jobs", *names, stdout=out)
        return out.getvalue()

    assert jobs() == (
        "reminders sent: 0\nwaitlist holds released: 0\noutbox messages delivered: 0\n"
    )
    host.clock.set(start - timedelta(hours=23))  # the 24 h reminder is due, the 1 h one not
    assert jobs("reminders") == "reminders sent: 1\n"
    assert jobs("reminders") == "reminders sent: 0\n"  # once each
    kinds = [n.kind for n in host.core.acting_as(host.members[0].id).notifications.list()]
    assert "reminder_24h" in [str(k) for k in kinds]
    assert host.core.system.outbox.pending() == []
    with pytest.raises(CommandError, match="unknown job"):
        jobs("coffee")
