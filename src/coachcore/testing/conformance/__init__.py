"""Storage conformance: check a store of your own against the memory store.

A third-party store (the port's :class:`~coachcore.ports.storage.Store`,
registered through the ``coachcore_store`` hook) checks itself from its own
pytest suite with one call, :func:`check_store`, given a function that opens a
``coachcore.Core`` over an *empty* store of its own::

    # tests/test_conformance.py of the host
    import coachcore
    from coachcore.testing.conformance import check_store

    def open_core(clock, *, plugins=()):
        empty_my_database()  # each call starts from an empty store
        return coachcore.open("mystore://test", clock=clock, plugins=[*plugins])

    def test_my_store_conforms():
        check_store(open_core, examples=10)

Or one pytest test per check (:data:`CHECKS`, by name)::

    import pytest
    from coachcore.testing.conformance import CHECKS

    @pytest.mark.parametrize("check", sorted(CHECKS))
    def test_my_store(check):
        CHECKS[check](open_core)

What runs:

- the contract checks (:mod:`.contract`, :mod:`.sisters`): ordering byte-wise
  by id, duplicates as ``Conflict`` with the unit of work still usable,
  rollback on leaving without commit and after an explicit rollback, aware
  datetimes, conversations by participant and direct pair, the outbox's
  unique key and its purge of delivered messages, relationships,
  invitations, settings, organizations, the hub, the audit log (``about``
  over many ids, and its purge of old entries) and documents;
- round trips through every repository the port describes
  (:mod:`.repositories`: add, get, find, list by each filter, update,
  delete) and free text drawn with hypothesis;
- the agreement state machine (:mod:`.agreement`): the same public-API
  operations on the memory store and on yours, with the same outcomes and
  the same views after every step.

Needs ``coachcore[test]`` (pytest and hypothesis); a plain ``import
coachcore`` never imports this package.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from coachcore.testing.conformance.agreement import check_agreement, machine_for
from coachcore.testing.conformance.contract import CONTRACT
from coachcore.testing.conformance.repositories import (
    check_every_repository,
    check_repository,
    check_text_round_trips,
)
from coachcore.testing.conformance.side import T0, OpenCore
from coachcore.testing.conformance.sisters import SISTERS

__all__ = [
    "CHECKS",
    "T0",
    "OpenCore",
    "check_agreement",
    "check_every_repository",
    "check_repository",
    "check_store",
    "check_text_round_trips",
    "machine_for",
]

#: Every check by name, each called with the host's ``open_core`` (the
#: agreement machine with its default budget, 10 runs of 25 steps).
CHECKS: dict[str, Callable[[OpenCore], Any]] = {
    **CONTRACT,
    **SISTERS,
    "every_repository": check_every_repository,
    "text_round_trips": check_text_round_trips,
    "agreement": check_agreement,
}


def check_store(
    open_core: OpenCore, *, examples: int = 10, steps: int = 25, name: str = "candidate"
) -> None:
    """Run every conformance check on the store ``open_core`` opens.

    :param open_core: ``open_core(clock, *, plugins=())`` returns a
        ``coachcore.Core`` over an empty store of the candidate, using this
        clock and passing these plugins on to ``coachcore.open``
        (:class:`OpenCore`); called once per check and per example.
    :param examples: hypothesis examples of the agreement machine (each a run
        of ``steps`` operations) and of the text round trips.
    :param steps: operations per run of the agreement machine.
    :param name: the candidate's name in failure reports.
    :raises AssertionError: naming the first promise the store breaks.
    """
    for check in CHECKS.values():
        if check in (check_agreement, check_text_round_trips):
            continue
        check(open_core)
    check_text_round_trips(open_core, examples=2 * examples)
    run = partial(check_agreement, examples=examples, steps=steps, name=name)
    run(open_core)
