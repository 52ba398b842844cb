"""The REST routes of the FastAPI example, as Django views (same paths, same error format)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import coachcore
from coachcore.errors import ValidationFailed

from .accounts import scope
from .core import get_core

Json = dict[str, Any]


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(coachcore.to_dict(data), status=status, safe=False)


def _payload(request: HttpRequest) -> Json:
    if not request.body:
        return {}
    body = json.loads(request.body)
    if not isinstance(body, dict):
        raise ValidationFailed("The request body must be a JSON object")
    return body


def _instant(name: str, value: Any) -> datetime:
    """An ISO 8601 string from JSON -> datetime (coachcore rejects naive ones)."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"{name}: must be an ISO 8601 datetime", details={"field": name}
        ) from None


def _date(request: HttpRequest, name: str) -> date | None:
    value = request.GET.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{name}: must be a date (YYYY-MM-DD)", details={"field": name}
        ) from None


def _int(request: HttpRequest, name: str, default: int) -> int:
    try:
        return int(request.GET.get(name, default))
    except ValueError:
        raise ValidationFailed(f"{name}: must be an integer", details={"field": name}) from None


@require_GET
def me(request: HttpRequest) -> JsonResponse:
    actor = scope(request)
    return _json(actor.users.get(actor.actor_id))


@require_GET
def slots(request: HttpRequest, coach_id: str) -> JsonResponse:
    """Bookable slots; the dates default to the next 14 days on the core's clock.
    ``you_have_a_seat`` marks those where the caller already has a seat."""
    actor = scope(request)
    first = _date(request, "start_date") or get_core().clock.now().date()
    last = _date(request, "end_date") or first + timedelta(days=13)
    duration = _int(request, "duration", 60)
    found = actor.availability.available_slots(
        coach_id, start_date=first, end_date=last, duration=duration
    )
    return _json(
        {
            "coach_id": coach_id,
            "start_date": first.isoformat(),
            "end_date": last.isoformat(),
            "duration": duration,
            "slots": coachcore.to_dict(found),
        }
    )


@csrf_exempt  # an API for token-carrying clients; keep CSRF on for cookie-only browsers
@require_http_methods(["GET", "POST"])
def bookings(request: HttpRequest) -> JsonResponse:
    """GET: my bookings (``?status=``). POST ``{coach_id, start, duration?, ...}``:
    book; a full slot answers 409 "This slot is now full, please choose another"."""
    actor = scope(request)
    if request.method == "GET":
        return _json(actor.bookings.list(status=request.GET.get("status")))
    payload = _payload(request)
    booking = actor.bookings.create(
        coach_id=payload.get("coach_id"),
        start=_instant("start", payload.get("start")),
        duration=payload.get("duration", 60),
        member_id=payload.get("member_id"),
        member_notes=payload.get("member_notes"),
        idempotency_key=payload.get("idempotency_key"),
    )
    return _json(booking, status=201)


@csrf_exempt
@require_http_methods(["DELETE"])
def booking(request: HttpRequest, booking_id: str) -> JsonResponse:
    actor = scope(request)
    return _json(actor.bookings.cancel(booking_id, reason=request.GET.get("reason")))


@require_GET
def sessions(request: HttpRequest) -> JsonResponse:
    actor = scope(request)
    found = actor.sessions.list(
        status=request.GET.get("status"),
        offset=_int(request, "offset", 0),
        limit=_int(request, "limit", 100),
    )
    return _json(found)


@require_GET
def upcoming(request: HttpRequest) -> JsonResponse:
    return _json(scope(request).sessions.upcoming())


@require_GET
def session(request: HttpRequest, session_id: str) -> JsonResponse:
    return _json(scope(request).sessions.get(session_id))


@csrf_exempt
@require_POST
def complete(request: HttpRequest, session_id: str) -> JsonResponse:
    payload = _payload(request)
    done = scope(request).sessions.complete(
        session_id, coach_notes=payload.get("coach_notes"), outcomes=payload.get("outcomes")
    )
    return _json(done)


@csrf_exempt
@require_POST
def cancel_session(request: HttpRequest, session_id: str) -> JsonResponse:
    payload = _payload(request)
    return _json(scope(request).sessions.cancel(session_id, reason=payload.get("reason")))


@csrf_exempt
@require_POST
def rate(request: HttpRequest, session_id: str) -> JsonResponse:
    payload = _payload(request)
    rated = scope(request).sessions.rate(
        session_id, rating=payload.get("rating"), feedback=payload.get("feedback")
    )
    return _json(rated)


@require_GET
def member_dashboard(request: HttpRequest) -> JsonResponse:
    return _json(scope(request).dashboards.member(request.GET.get("member_id")))


@require_GET
def coach_dashboard(request: HttpRequest) -> JsonResponse:
    return _json(scope(request).dashboards.coach(request.GET.get("coach_id")))
