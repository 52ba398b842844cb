"""Work done in short transactions, one batch each (the retention purges)."""

from __future__ import annotations

from collections.abc import Callable


def in_batches(
    batch: Callable[[], int], size: int, progress: Callable[[int], None] | None = None
) -> int:
    """Run ``batch`` (one transaction, returning how many items it did) until
    one does fewer than ``size``; the total. ``progress`` hears each batch's count."""
    total = 0
    while True:
        done = batch()
        total += done
        if progress is not None:
            progress(done)
        if done < size:
            return total
