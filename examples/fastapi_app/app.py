"""A FastAPI host around coachcore: REST for members and coaches, live slots over WebSocket.

    hub = SlotHub()
    core = coachcore.open("sqlite:///coaching.db", plugins=[hub])
    app = create_app(core, hub)

AUTHENTICATION IS STUBBED. Every request names its user in the ``X-User-Id``
header (the WebSocket and the page take ``?user=``) and the app believes it.
Verifying who is calling (sessions, OAuth, JWTs, ...) is the host's job; put
your real authentication in :func:`current_user_id` and keep the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import Body, Depends, FastAPI, Header, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.websockets import WebSocketDisconnect

import coachcore
from coachcore.errors import CoachCoreError, ValidationFailed

from .hub import SlotHub

log = logging.getLogger("fastapi_app")
STATIC = Path(__file__).resolve().parent / "static"
Json = dict[str, Any]
Payload = Annotated[Json | None, Body()]


class Live(Protocol):
    """What feeds the hub from every app server (``coachcore.adapters.pglive.LiveListener``)."""

    def start(self, wait: float | None = None) -> Any: ...
    def stop(self, timeout: float | None = None) -> None: ...


class Unauthenticated(CoachCoreError):
    """No ``X-User-Id`` header: the (stubbed) authentication found nobody."""

    status_code = 401
    error = "Unauthorized"


def current_user_id(x_user_id: Annotated[str | None, Header()] = None) -> str:
    """STUB: trusts the ``X-User-Id`` header. Replace with the host's authentication."""
    if not x_user_id:
        raise Unauthenticated("Missing X-User-Id header (authentication is the host's job)")
    return x_user_id


def actor_scope(
    request: Request, user_id: Annotated[str, Depends(current_user_id)]
) -> coachcore.Scope:
    """The caller's scope: every coachcore call below is checked by its policies."""
    core: coachcore.Core = request.app.state.core
    return core.acting_as(user_id)


Actor = Annotated[coachcore.Scope, Depends(actor_scope)]


def _field(payload: Json | None, name: str, default: Any = None) -> Any:
    return default if payload is None else payload.get(name, default)


def _instant(name: str, value: Any) -> datetime:
    """An ISO 8601 string from JSON -> datetime (coachcore rejects naive ones)."""
    if not isinstance(value, str):
        raise ValidationFailed(f"{name}: must be an ISO 8601 datetime", details={"field": name})
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{name}: must be an ISO 8601 datetime", details={"field": name}
        ) from None


def _error_response(status: int, message: str, details: Any = None) -> JSONResponse:
    body = {
        "statusCode": status,
        "message": message,
        "error": HTTPStatus(status).phrase,
        "details": details,
    }
    return JSONResponse(body, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as ``{statusCode, message, error, details}``."""

    @app.exception_handler(CoachCoreError)
    async def coachcore_error(_: Request, exc: CoachCoreError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg")}
            for e in exc.errors()
        ]
        return _error_response(400, "The request is malformed", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error_response(exc.status_code, str(exc.detail))


def create_app(
    core: coachcore.Core,
    hub: SlotHub | None = None,
    *,
    dispatch_every: float = 1.0,
    live: Live | None = None,
) -> FastAPI:
    """The app over ``core``. ``hub`` must be the :class:`SlotHub` that was passed to
    ``coachcore.open(..., plugins=[hub])``; without one the WebSocket stays silent.

    With several app servers on PostgreSQL, ``live`` is a
    :class:`~coachcore.adapters.pglive.LiveListener` feeding ``hub`` with every
    server's events (then the hub is *not* a plugin of the core, and a
    ``LiveRelay`` is); the app starts it with itself and stops it at shutdown.

    Stores that do not dispatch on commit (the SQL store in several app servers)
    get a background dispatcher here, every ``dispatch_every`` seconds.
    """
    if hub is None:
        log.warning("create_app without a SlotHub: live slot updates are disabled")
        hub = SlotHub()
    hub.attach(core)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = None
        if not getattr(core.store, "dispatch_on_commit", True):
            task = asyncio.create_task(_dispatch_forever(core, dispatch_every))
        if live is not None:  # serve once it listens: no event falls before it
            await asyncio.to_thread(live.start, 10.0)
        try:
            yield
        finally:
            if live is not None:
                await asyncio.to_thread(live.stop)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            hub.close()

    app = FastAPI(title="coachcore example host", lifespan=lifespan)
    app.state.core = core
    app.state.hub = hub
    install_error_handlers(app)
    _rest_routes(app, core)
    _live_routes(app, core, hub)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def booking_page() -> FileResponse:
        """The booking page: ``/?user=MEMBER_ID`` (``&coach=COACH_ID`` optional)."""
        return FileResponse(STATIC / "index.html")

    return app


async def _dispatch_forever(core: coachcore.Core, every: float) -> None:
    while True:
        try:
            await asyncio.to_thread(core.system.outbox.dispatch)
        except Exception:
            log.exception("outbox dispatch failed")
        await asyncio.sleep(every)


def _rest_routes(app: FastAPI, core: coachcore.Core) -> None:
    as_dict: Callable[[Any], Any] = coachcore.to_dict

    # Plain ``def`` endpoints: FastAPI runs them in worker threads, so coachcore's
    # blocking store calls never stall the event loop that serves the sockets.

    @app.get("/api/me")
    def me(actor: Actor) -> Any:
        return as_dict(actor.users.get(actor.actor_id))

    @app.get("/api/coaches/{coach_id}/slots")
    def slots(
        actor: Actor,
        coach_id: str,
        start_date: date | None = None,
        end_date: date | None = None,
        duration: Annotated[int, Query(ge=5, le=1440)] = 60,
    ) -> Any:
        """Bookable slots; the dates default to the next 14 days on the core's clock.
        ``you_have_a_seat`` marks those where the caller already has a seat."""
        first = start_date or core.clock.now().date()
        last = end_date or first + timedelta(days=13)
        found = actor.availability.available_slots(
            coach_id, start_date=first, end_date=last, duration=duration
        )
        return {
            "coach_id": coach_id,
            "start_date": first.isoformat(),
            "end_date": last.isoformat(),
            "duration": duration,
            "slots": as_dict(found),
        }

    @app.get("/api/bookings")
    def my_bookings(actor: Actor, status: str | None = None) -> Any:
        return as_dict(actor.bookings.list(status=status))

    @app.post("/api/bookings", status_code=201)
    def book(actor: Actor, payload: Payload = None) -> Any:
        """Book ``{coach_id, start, duration?, member_notes?, idempotency_key?}``;
        a full slot answers 409 "This slot is now full, please choose another"."""
        booking = actor.bookings.create(
            coach_id=_field(payload, "coach_id"),
            start=_instant("start", _field(payload, "start")),
            duration=_field(payload, "duration", 60),
            member_id=_field(payload, "member_id"),
            member_notes=_field(payload, "member_notes"),
            idempotency_key=_field(payload, "idempotency_key"),
        )
        return as_dict(booking)

    @app.delete("/api/bookings/{booking_id}")
    def cancel_booking(actor: Actor, booking_id: str, reason: str | None = None) -> Any:
        return as_dict(actor.bookings.cancel(booking_id, reason=reason))

    @app.get("/api/sessions")
    def my_sessions(
        actor: Actor,
        status: str | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> Any:
        return as_dict(actor.sessions.list(status=status, offset=offset, limit=limit))

    @app.get("/api/sessions/upcoming")
    def upcoming(actor: Actor) -> Any:
        return as_dict(actor.sessions.upcoming())

    @app.get("/api/sessions/{session_id}")
    def session(actor: Actor, session_id: str) -> Any:
        return as_dict(actor.sessions.get(session_id))

    @app.post("/api/sessions/{session_id}/complete")
    def complete(actor: Actor, session_id: str, payload: Payload = None) -> Any:
        done = actor.sessions.complete(
            session_id,
            coach_notes=_field(payload, "coach_notes"),
            outcomes=_field(payload, "outcomes"),
        )
        return as_dict(done)

    @app.post("/api/sessions/{session_id}/cancel")
    def cancel_session(actor: Actor, session_id: str, payload: Payload = None) -> Any:
        return as_dict(actor.sessions.cancel(session_id, reason=_field(payload, "reason")))

    @app.post("/api/sessions/{session_id}/rate")
    def rate(actor: Actor, session_id: str, payload: Payload = None) -> Any:
        rated = actor.sessions.rate(
            session_id,
            rating=_field(payload, "rating"),
            feedback=_field(payload, "feedback"),
        )
        return as_dict(rated)

    @app.get("/api/dashboards/member")
    def member_dashboard(actor: Actor, member_id: str | None = None) -> Any:
        return as_dict(actor.dashboards.member(member_id))

    @app.get("/api/dashboards/coach")
    def coach_dashboard(actor: Actor, coach_id: str | None = None) -> Any:
        return as_dict(actor.dashboards.coach(coach_id))


def _live_routes(app: FastAPI, core: coachcore.Core, hub: SlotHub) -> None:
    @app.websocket("/ws/coaches/{coach_id}/slots")
    async def watch_slots(websocket: WebSocket, coach_id: str, user: str | None = None) -> None:
        """Pushes ``slot_changed`` / ``availability_changed`` messages for one coach.

        STUB authentication: browsers cannot set headers on a WebSocket, so the
        user comes as ``?user=``; a host would use its session cookie or a token.
        The first message is ``{"type": "subscribed", ...}``: from then on every
        committed change of this coach's slots reaches the socket.
        """
        await websocket.accept()
        try:
            if not user:
                raise Unauthenticated("Missing ?user= (authentication is the host's job)")
            # the watcher must be allowed to see this coach's slots
            await asyncio.to_thread(core.acting_as(user).coaches.get, coach_id)
        except CoachCoreError as error:
            await websocket.send_json({"type": "error", **error.to_dict()})
            await websocket.close(code=1008)
            return
        subscription = hub.subscribe(coach_id)
        try:
            await websocket.send_json({"type": "subscribed", "coach_id": coach_id})
            await _pump(websocket, subscription.queue)
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass  # the client went away while we were sending
        finally:
            hub.unsubscribe(subscription)


async def _pump(websocket: WebSocket, queue: asyncio.Queue[Json]) -> None:
    """Send queued messages until the client goes away (its frames are ignored)."""

    async def drain_client() -> None:
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                return

    listener = asyncio.create_task(drain_client())
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, listener}, return_when=asyncio.FIRST_COMPLETED)
            if listener in done:
                getter.cancel()
                return
            await websocket.send_json(getter.result())
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await listener
