"""``coachcore outbox``: deliver, watch and retry the side effects waiting to
leave, and purge the delivered ones."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated

import typer

import coachcore
from coachcore.cli.common import (
    ConfigOption,
    DryRunOption,
    UrlOption,
    console,
    errors,
    open_core,
    refuse_recorders,
    table,
)
from coachcore.cli.progress import CountOnlyOption, counting, purge
from coachcore.domain.entities import OutboxMessage
from coachcore.errors import CoachCoreError
from coachcore.services.delivery.outbox import purge_period

app = typer.Typer(help="Side effects waiting for delivery.", no_args_is_help=True)
ListOption = Annotated[bool, typer.Option("--list", help="Also list every message")]
DaysOption = Annotated[
    int,
    typer.Option("--days", help="Delete messages delivered more than DAYS days ago (at least 1)"),
]


@app.command("dispatch")
def outbox_dispatch(
    url: UrlOption, config: ConfigOption = None, dry_run: DryRunOption = False
) -> None:
    """Deliver what is due (cron, every minute); refuses without real adapters."""
    with open_core(url, deliver=not dry_run, config=config) as core:
        if dry_run:
            show_due(core)
            return
        refuse_recorders(core)
        with counting("messages delivered") as advance:
            delivered = core.system.outbox.dispatch(progress=advance)
    console.print(f"delivered: {delivered}")


@app.command("pending")
def outbox_pending(url: UrlOption, list_: ListOption = False) -> None:
    """Messages not yet delivered: counts by kind and age (alert on old ones)."""
    with open_core(url) as core:
        now = core.clock.now()
        messages = core.system.outbox.pending()
    console.print(summary("Pending", messages, now))
    if list_:
        console.print(details("Pending messages", messages))


@app.command("failed")
def outbox_failed(url: UrlOption, list_: ListOption = False) -> None:
    """Messages parked after repeated failures: counts by kind and age (alert if any)."""
    with open_core(url) as core:
        now = core.clock.now()
        messages = core.system.outbox.failed()
    console.print(summary("Failed", messages, now))
    if list_:
        console.print(details("Failed messages", messages))


@app.command("retry")
def outbox_retry(
    url: UrlOption,
    ids: Annotated[list[str] | None, typer.Argument(help="Ids of failed messages")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Retry every failed message")] = False,
) -> None:
    """Put failed messages back in the queue, due now (the next dispatch sends them)."""
    if bool(ids) == all_:
        errors.print("Give the ids of failed messages, or --all (not both).")
        raise typer.Exit(2)
    with open_core(url) as core:
        chosen = [m.id for m in core.system.outbox.failed()] if all_ else list(ids or [])
        retried, refused = 0, []
        for message_id in chosen:
            try:
                core.system.outbox.retry(message_id)
                retried += 1
            except CoachCoreError as error:
                refused.append(f"{message_id}: {error.message}")
    console.print(f"back in the queue: {retried}")
    for line in refused:
        errors.print(f"not retried: {line}", highlight=False, markup=False)
    if refused:
        raise typer.Exit(1)


@app.command("purge")
def outbox_purge(url: UrlOption, days: DaysOption, dry_run: CountOnlyOption = False) -> None:
    """Delete messages delivered more than DAYS ago (pending and failed ones stay; for cron)."""
    purge_period(days)  # a refused period is one line on stderr, with no progress bar
    with open_core(url) as core:
        purge(core.system.outbox, days, dry_run, "delivered messages")


def kind_of(message: OutboxMessage) -> str:
    """The channel, and a notification's kind: ``notification/booking_confirmed``."""
    kind = message.payload.get("kind") if message.channel == "notification" else None
    return f"{message.channel}/{kind}" if kind else str(message.channel)


def age(span: timedelta) -> str:
    """A short age: ``45s``, ``12m``, ``3h``, ``2d``."""
    seconds = max(0, int(span.total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def summary(title: str, messages: Sequence[OutboxMessage], now: datetime) -> object:
    """One row per kind: how many, how many due now, leased, the oldest's age."""
    by_kind: dict[str, list[OutboxMessage]] = defaultdict(list)
    for message in messages:
        by_kind[kind_of(message)].append(message)
    rows = []
    for kind in sorted(by_kind):
        group = by_kind[kind]
        due = sum(1 for m in group if m.next_attempt_at <= now)
        leased = sum(1 for m in group if m.claimed_until is not None and m.claimed_until > now)
        oldest = min(m.created_at for m in group)
        rows.append([kind, len(group), due, leased, age(now - oldest)])
    rows.append(["total", len(messages), "", "", ""])
    return table(title, ["kind", "count", "due now", "leased", "oldest"], rows)


def details(title: str, messages: Sequence[OutboxMessage]) -> object:
    rows = [
        [m.id, kind_of(m), m.attempts, m.next_attempt_at.isoformat(), m.last_error or ""]
        for m in messages
    ]
    return table(title, ["id", "kind", "attempts", "next attempt", "last error"], rows)


def show_due(core: coachcore.Core) -> None:
    """``--dry-run``: what a dispatch now would deliver; nothing is changed."""
    due = core.system.outbox.due()
    console.print(details("Would be delivered (dry run)", due))
    console.print(f"would deliver: {len(due)}")
