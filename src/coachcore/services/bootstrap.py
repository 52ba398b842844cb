"""The composition root: ``coachcore.open`` builds a core from its adapters."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pluggy

from coachcore.adapters.clock import SystemClock
from coachcore.domain import checks
from coachcore.errors import ValidationFailed
from coachcore.plugins.manager import get_plugin_manager
from coachcore.policies.roles import RoleDefinition, RoleRegistry
from coachcore.ports.cipher import Cipher
from coachcore.ports.clock import Clock
from coachcore.ports.documents import TextExtractor
from coachcore.ports.storage import Store
from coachcore.services import open_options as options
from coachcore.services.delivery.outbox import Deliveries, Dispatcher
from coachcore.services.runtime.transaction import SYSTEM_ID, Runtime
from coachcore.services.scopes import Scope, SystemScope

log = logging.getLogger("coachcore")


class Core:
    """One coaching core over one store. Safe to share between threads."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        deliveries: Deliveries,
        roles: RoleRegistry,
        *,
        retention_days: int | None = None,
        extractor: TextExtractor | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.calendar = deliveries.calendar
        self.messaging = deliveries.messaging
        self.notifier = deliveries.notifier
        self.roles = roles
        self._runtime = Runtime(
            store=store,
            clock=clock,
            roles=roles,
            retention_days=retention_days,
            extractor=extractor,
        )
        self.dispatcher = Dispatcher(store, self._runtime.now, deliveries)
        self._runtime.after_commit = self._dispatch_quietly
        self.system = SystemScope(self._runtime, SYSTEM_ID, self.dispatcher)

    def acting_as(self, user_id: Any) -> Scope:
        """A scope whose every call is checked for the user ``user_id``."""
        return Scope(self._runtime, checks.identifier("user_id", user_id))

    def close(self) -> None:
        """Release the store (connections the core opened itself)."""
        self.store.close()

    def __enter__(self) -> Core:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _dispatch_quietly(self) -> None:
        try:
            self.dispatcher.dispatch()
        except Exception:  # delivery trouble must never fail the committed change
            log.exception("outbox dispatch after commit failed")


def open_core(
    url: str = "memory://",
    *,
    clock: Clock | None = None,
    calendar: Any = None,
    messaging: Any = None,
    notifier: Any = None,
    plugins: Iterable[object] = (),
    roles: Mapping[str, RoleDefinition] | str | None = None,
    cipher: Cipher | None = None,
    keys: str | Sequence[str] | None = None,
    retention_days: int | None = None,
    config: bool | str | os.PathLike[str] = False,
    blobs: Any = None,
) -> Core:
    """Build a core; adapters left as None come from the plugins.

    ``config=True`` (or the path of a ``coachcore.toml``) also takes the
    delivery adapters the ``COACHCORE_*`` environment variables and that file
    configure, as the ``coachcore`` CLI does (:mod:`coachcore.plugins.configured`);
    plugins given in ``plugins`` still come first.

    ``keys`` (Fernet keys, newest first, as a list or a comma-separated string)
    or ``cipher`` (any :class:`~coachcore.ports.cipher.Cipher`) turn on
    encryption at rest of the sensitive fields in SQL stores; coachcore never
    makes a key up. ``retention_days`` is how long completed sessions keep
    their private notes (``core.system.privacy.purge()``); None keeps them.
    See ``docs/guides/privacy.md``. ``roles`` adds host roles (a mapping, see
    ``docs/guides/roles.md``) or names a preset: ``"coaching_hub"`` (manager,
    team leader, agent). ``blobs`` is where document bytes are
    kept: a directory's path, ``s3://bucket/prefix`` (boto3 configured from
    the environment) or a :class:`~coachcore.ports.blobs.BlobStore` (e.g.
    :class:`~coachcore.adapters.blobs.S3Blobs`); default ``<file>.blobs``
    beside a SQLite file (``docs/guides/documents.md``).
    """
    url = options.url(url)
    clock, calendar, messaging, notifier, cipher = (
        options.adapter(name, value)
        for name, value in (
            ("clock", clock),
            ("calendar", calendar),
            ("messaging", messaging),
            ("notifier", notifier),
            ("cipher", cipher),
        )
    )
    roles = options.roles(roles)
    chosen = _cipher(cipher, options.keys(keys))
    days = None
    if retention_days is not None:
        days = checks.integer("retention_days", retention_days, low=1, high=36_500)
    chosen_plugins = options.plugins(plugins)
    source = options.config(config)
    if source is not False:
        from coachcore.plugins.configured import Configured

        chosen_plugins = (Configured.load(None if source is True else source), *chosen_plugins)
    try:
        manager = get_plugin_manager(chosen_plugins)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise ValidationFailed(f"plugins: {exc}", details={"field": "plugins"}) from exc
    hook = manager.hook
    store = hook.coachcore_store(url=url, cipher=chosen, blobs=options.blobs(blobs))
    if store is None:
        raise ValidationFailed(f"url: no store handles {url.split(':', 1)[0]!r} URLs")
    if chosen is not None and store.cipher is not chosen:
        store.close()
        raise ValidationFailed(
            "cipher: the store for this URL was not built with the given keys "
            "(a store plugin that ignores the cipher would write plain text)"
        )
    deliveries = Deliveries(
        calendar=calendar if calendar is not None else hook.coachcore_calendar(),
        messaging=messaging if messaging is not None else hook.coachcore_messaging(),
        notifier=notifier if notifier is not None else hook.coachcore_notifier(),
        broadcast=lambda event: _broadcast(manager, event),
    )
    core = Core(
        store,
        clock or SystemClock(),
        deliveries,
        RoleRegistry(roles),
        retention_days=days,
        extractor=hook.coachcore_text_extractor(),
    )
    hook.coachcore_opened(core=core)
    return core


def _cipher(cipher: Cipher | None, keys: str | Sequence[str] | None) -> Cipher | None:
    if cipher is not None and keys is not None:
        raise ValidationFailed("keys: give either keys or a cipher, not both")
    if keys is None:
        return cipher
    if not isinstance(keys, str | list | tuple):
        raise ValidationFailed("keys: a comma-separated string or a list of keys")
    from coachcore.adapters.crypto import AesGcmCipher

    return AesGcmCipher(keys)


def _broadcast(manager: Any, event: dict[str, Any]) -> None:
    manager.hook.coachcore_broadcast(event=event)
