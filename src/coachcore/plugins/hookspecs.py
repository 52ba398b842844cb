"""Hook specifications of the ``coachcore`` pluggy project.

Providers (``firstresult``): the first plugin returning non-None wins, and
plugins registered later are asked first, so a host's plugin overrides an
entry-point plugin, which overrides the built-ins.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "coachcore"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def coachcore_store(url: str, cipher: Any, blobs: Any) -> Any:
    """Return a store (``coachcore.ports.storage.Store``) for ``url``, or None.

    :param url: the URL given to ``coachcore.open``; decide by its scheme
        (``memory://``, ``sqlite:///...``, ``postgresql+psycopg://...``).
    :param cipher: the ``coachcore.ports.cipher.Cipher`` the host configured
        (``coachcore.open(url, keys=...)`` or ``cipher=...``), or None. A store
        that keeps data at rest must encrypt the sensitive fields with it and
        expose it as ``store.cipher``; implementations may omit the parameter
        if they keep nothing at rest.
    :param blobs: ``coachcore.open(url, blobs=...)``: a
        ``coachcore.ports.blobs.BlobStore``, a directory's path, an
        ``s3://bucket/prefix`` URL, or None (the store's default); where the
        store keeps document bytes (``store.blobs``).
    """


@hookspec(firstresult=True)
def coachcore_calendar() -> Any:
    """Return the calendar adapter (``CalendarPort``) to use, or None."""


@hookspec(firstresult=True)
def coachcore_messaging() -> Any:
    """Return the messaging adapter (``MessagingPort``) to use, or None."""


@hookspec(firstresult=True)
def coachcore_notifier() -> Any:
    """Return the notifier adapter (``NotifierPort``) to use, or None."""


@hookspec(firstresult=True)
def coachcore_text_extractor() -> Any:
    """Return the extractor (``coachcore.ports.documents.TextExtractor``) that
    finds an uploaded document's text, or None."""


@hookspec
def coachcore_broadcast(event: dict[str, Any]) -> None:
    """Receive a committed domain event (e.g. a slot's availability changed).

    Called by the outbox dispatcher after commit, once per event and plugin.

    :param event: JSON-ready data with at least ``type``, ``coach_id`` and
        ``event_id`` (the same on a re-delivery: the idempotency key);
        ``slot_changed`` events also carry ``start``, ``duration`` and
        ``change`` ("booked" or "cancelled").
    """


@hookspec
def coachcore_opened(core: Any) -> None:
    """Called once with the core ``coachcore.open`` has just built.

    :param core: the new ``coachcore.Core``; a plugin may hand it to its
        adapters (e.g. an address book reading ``core.system.users``).
    """
