"""Seed a demo coach with two members and serve the app.

cd examples && python -m fastapi_app                 # memory store, port 8000
cd examples && python -m fastapi_app --url sqlite:///coaching.db --port 8080
cd examples && uvicorn --factory fastapi_app.demo:demo_app
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from fastapi import FastAPI

import coachcore
from coachcore import Role

from .app import create_app
from .hub import SlotHub


def seed(core: coachcore.Core) -> dict[str, str]:
    """A coach (Mon-Fri 09-17 Berlin, 2 seats per hour) and two members; reuses them."""
    system = core.system
    found = system.users.list(email="cleo@example.com")
    if found:
        coach = found[0]
    else:
        coach = system.users.create(
            name="Cleo Coach", email="cleo@example.com", role=Role.COACH, timezone="Europe/Berlin"
        )
        for day in range(1, 6):
            core.acting_as(coach.id).availability.create(
                day_of_week=day,
                start_time="09:00",
                end_time="17:00",
                max_sessions_per_slot=2,
                buffer_minutes=0,
            )
    ids = {"coach": coach.id}
    for key, name in (("member_a", "Ada"), ("member_b", "Ben")):
        email = f"{name.lower()}@example.com"
        existing = system.users.list(email=email)
        member = (
            existing[0]
            if existing
            else system.signup_member(name=name, email=email, coach_id=coach.id)
        )
        ids[key] = member.id
    return ids


def build(url: str = "memory://", **open_options: Any) -> tuple[FastAPI, dict[str, str]]:
    """The app over a seeded core, and the seeded ids.

    On PostgreSQL (several app servers may share the database) the hub is fed
    by a ``LiveListener`` and the core announces its events with a
    ``LiveRelay``, so every server's sockets see every server's bookings.
    """
    hub = SlotHub()
    if not url.startswith("postgresql"):
        core = coachcore.open(url, plugins=[hub], **open_options)
        return create_app(core, hub), seed(core)
    from coachcore.adapters.pglive import LiveListener, LiveRelay

    plugins = (*open_options.pop("plugins", ()), LiveRelay(url))
    core = coachcore.open(url, plugins=plugins, **open_options)
    ids = seed(core)
    return create_app(core, hub, live=LiveListener(url, hub.coachcore_broadcast)), ids


def demo_app() -> FastAPI:
    """A uvicorn ``--factory`` target; the URL comes from ``COACHCORE_URL``."""
    app, ids = build(os.environ.get("COACHCORE_URL", "memory://"))
    print_links(ids, "http://127.0.0.1:8000")
    return app


def print_links(ids: dict[str, str], base: str) -> None:
    print(f"coach    {ids['coach']}")
    for key in ("member_a", "member_b"):
        print(f"{key} page: {base}/?user={ids[key]}")


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=os.environ.get("COACHCORE_URL", "memory://"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    app, ids = build(args.url)
    print_links(ids, f"http://{args.host}:{args.port}")
    uvicorn.run(app, host=args.host, port=args.port)
