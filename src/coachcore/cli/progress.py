"""Progress bars with counts for the long commands (rich)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Protocol

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from coachcore.cli.common import console


@contextmanager
def counting(what: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A progress bar for ``what``; yields ``advance(n)``, to call as work is done.
    Without a ``total`` the bar pulses and counts what was done so far."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if total is not None else TextColumn("{task.completed:.0f} done"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(what, total=total)

        def advance(count: int) -> None:
            bar.advance(task, count)

        yield advance


CountOnlyOption = Annotated[
    bool, typer.Option("--dry-run", help="Count what would be deleted; change nothing")
]


class Purging(Protocol):
    """A scope with a retention purge (``outbox``, ``audit``)."""

    def purge(self, *, days: Any, progress: Callable[[int], None] | None = None) -> int: ...

    def purgeable(self, *, days: Any) -> int: ...


def purge(scope: Purging, days: int, dry_run: bool, what: str) -> None:
    """Run ``scope``'s purge with a progress bar and its count, or (``dry_run``)
    say how many ``what`` it would delete."""
    if dry_run:
        console.print(f"would delete: {scope.purgeable(days=days)}")
        return
    with counting(f"{what} purged") as advance:
        purged = scope.purge(days=days, progress=advance)
    console.print(f"{what} purged: {purged}")
