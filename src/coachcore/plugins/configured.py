"""Delivery adapters chosen by configuration: environment variables and ``coachcore.toml``.

The one place where jobs (the ``coachcore`` CLI) and hosts that ask for it
(``coachcore.open(url, config=True)``) find their adapters. Environment
variables win over the file; the file is ``$COACHCORE_CONFIG``, else
``./coachcore.toml`` if it exists::

    [smtp]                      # COACHCORE_SMTP_URL, COACHCORE_SMTP_SENDER
    url = "smtp+starttls://user:password@mail.example.com:587"
    sender = "Coaching <noreply@example.com>"

    [webhook]                   # COACHCORE_WEBHOOK_URL, COACHCORE_WEBHOOK_SECRET,
    url = "https://app.example.com/hooks/notifications"     # COACHCORE_BROADCAST_URL
    secret = "whsec_..."
    broadcast_url = "https://app.example.com/hooks/slots"

    [adapters]                  # COACHCORE_CALENDAR, COACHCORE_MESSAGING
    calendar = "none"           # no calendar: its messages are dropped (logged)
    messaging = "none"

Entry-point plugins (group ``coachcore``) still provide what is not
configured here. Nothing is read at import or unless asked for.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from coachcore.adapters.memory.recorders import (
    RecordingCalendar,
    RecordingMessaging,
    RecordingNotifier,
)
from coachcore.domain.entities import CalendarEvent, Conversation
from coachcore.errors import ValidationFailed
from coachcore.plugins.hookspecs import hookimpl

log = logging.getLogger("coachcore.config")

CONFIG_ENV = "COACHCORE_CONFIG"
DEFAULT_FILE = "coachcore.toml"
#: environment variable -> (section, key) in coachcore.toml, DeliveryConfig field
VARIABLES = {
    "COACHCORE_SMTP_URL": ("smtp", "url", "smtp_url"),
    "COACHCORE_SMTP_SENDER": ("smtp", "sender", "smtp_sender"),
    "COACHCORE_WEBHOOK_URL": ("webhook", "url", "webhook_url"),
    "COACHCORE_WEBHOOK_SECRET": ("webhook", "secret", "webhook_secret"),
    "COACHCORE_BROADCAST_URL": ("webhook", "broadcast_url", "broadcast_url"),
    "COACHCORE_CALENDAR": ("adapters", "calendar", "calendar"),
    "COACHCORE_MESSAGING": ("adapters", "messaging", "messaging"),
}
NOTIFIER_HINT = (
    "notifier: set COACHCORE_SMTP_URL and COACHCORE_SMTP_SENDER, or COACHCORE_WEBHOOK_URL "
    "and COACHCORE_WEBHOOK_SECRET (or [smtp]/[webhook] in coachcore.toml), or install a "
    "notifier plugin"
)
CALENDAR_HINT = (
    "calendar: install a calendar plugin, or set COACHCORE_CALENDAR=none to drop calendar events"
)
MESSAGING_HINT = (
    "messaging: install a messaging plugin, or set COACHCORE_MESSAGING=none to drop "
    "conversation openings"
)


@attrs.frozen(kw_only=True)
class DeliveryConfig:
    """What the configuration says; ``None`` where it says nothing."""

    smtp_url: str | None = None
    smtp_sender: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    broadcast_url: str | None = None
    calendar: str | None = None
    messaging: str | None = None
    source: str = "environment"

    @classmethod
    def load(
        cls, path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
    ) -> DeliveryConfig:
        """Read ``path`` (default ``$COACHCORE_CONFIG`` or ``./coachcore.toml`` if
        present), then let the ``COACHCORE_*`` variables of ``environ`` override it."""
        env = os.environ if environ is None else environ
        chosen = path or env.get(CONFIG_ENV) or None
        file = Path(chosen) if chosen else Path(DEFAULT_FILE)
        values: dict[str, Any] = {}
        source = "environment"
        if chosen or file.is_file():
            values, source = _read_toml(file), f"{file} and environment"
        fields: dict[str, str | None] = {}
        for variable, (section, key, field) in VARIABLES.items():
            value = env.get(variable) or values.get(section, {}).get(key)
            if value is not None and not isinstance(value, str):
                raise ValidationFailed(f"{file}: [{section}] {key} must be a string")
            fields[field] = value or None
        return cls(source=source, **fields)


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ValidationFailed(f"config: {file} does not exist") from exc
    except (OSError, ValueError) as exc:  # a directory, no permission, a NUL in the path
        raise ValidationFailed(f"config: {file!r} cannot be read ({type(exc).__name__})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"config: {file} is not valid TOML: {exc}") from exc


class DroppingCalendar:
    """``calendar = "none"``: there is no calendar; events are logged and dropped."""

    def upsert_event(self, event: CalendarEvent) -> None:
        log.info("no calendar configured: event %s dropped", event.id)

    def cancel_event(self, event_id: str) -> None:
        log.info("no calendar configured: cancel of %s dropped", event_id)


class DroppingMessaging:
    """``messaging = "none"``: there is no messaging; openings are logged and dropped."""

    def open_conversation(self, conversation: Conversation) -> None:
        log.info("no messaging configured: conversation %s dropped", conversation.id)


class Configured:
    """A plugin providing the adapters a :class:`DeliveryConfig` names."""

    def __init__(self, config: DeliveryConfig) -> None:
        self.config = config
        self.notifier = _notifier(config)
        self._broadcast: Any = None
        if config.broadcast_url:
            from coachcore.adapters.webhook import WebhookBroadcast

            self._broadcast = WebhookBroadcast(config.broadcast_url, _secret(config))

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Configured:
        """The plugin for the configuration in the environment (and file)."""
        return cls(DeliveryConfig.load(path))

    @hookimpl
    def coachcore_notifier(self) -> Any:
        return self.notifier

    @hookimpl
    def coachcore_calendar(self) -> Any:
        return _none_or_nothing(self.config.calendar, "calendar", DroppingCalendar)

    @hookimpl
    def coachcore_messaging(self) -> Any:
        return _none_or_nothing(self.config.messaging, "messaging", DroppingMessaging)

    @hookimpl
    def coachcore_broadcast(self, event: dict[str, Any]) -> None:
        if self._broadcast is not None:
            self._broadcast.coachcore_broadcast(event)

    @hookimpl
    def coachcore_opened(self, core: Any) -> None:
        from coachcore.adapters.email import SmtpNotifier, address_book_from

        if isinstance(self.notifier, SmtpNotifier):
            self.notifier.address_book = address_book_from(core)


def unconfigured(core: Any) -> list[str]:
    """What to configure before delivering for real: one line per adapter of
    ``core`` that is an in-memory recorder (nothing would leave the process)."""
    missing = []
    if isinstance(core.notifier, RecordingNotifier):
        missing.append(NOTIFIER_HINT)
    if isinstance(core.calendar, RecordingCalendar):
        missing.append(CALENDAR_HINT)
    if isinstance(core.messaging, RecordingMessaging):
        missing.append(MESSAGING_HINT)
    return missing


def _notifier(config: DeliveryConfig) -> Any:
    if config.smtp_url and config.webhook_url:
        raise ValidationFailed(
            "config: both SMTP and a webhook are configured as notifier; choose one"
        )
    if config.smtp_url:
        return _smtp(config.smtp_url, config.smtp_sender)
    if config.webhook_url:
        from coachcore.adapters.webhook import WebhookNotifier

        return WebhookNotifier(config.webhook_url, _secret(config))
    return None


def _secret(config: DeliveryConfig) -> str:
    if not config.webhook_secret:
        raise ValidationFailed(
            "config: a webhook needs COACHCORE_WEBHOOK_SECRET ([webhook] secret, whsec_...)"
        )
    return config.webhook_secret


def _smtp(url: str, sender: str | None) -> Any:
    """``smtp://[user[:password]@]host[:port]`` (port 25) or ``smtp+starttls://...`` (587)."""
    from coachcore.adapters.email import SmtpNotifier

    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtp+starttls") or not parts.hostname:
        raise ValidationFailed(
            "config: the SMTP URL must look like smtp://host:25 or smtp+starttls://user:pw@host:587"
        )
    if not sender:
        raise ValidationFailed("config: SMTP needs a sender: COACHCORE_SMTP_SENDER ([smtp] sender)")
    starttls = parts.scheme == "smtp+starttls"
    try:
        port = parts.port or (587 if starttls else 25)
    except ValueError as exc:
        raise ValidationFailed("config: the SMTP URL has an invalid port") from exc
    return SmtpNotifier(
        parts.hostname,
        port,
        sender,
        address_book=lambda _: None,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _none_or_nothing(value: str | None, name: str, dropping: type) -> Any:
    if value is None:
        return None
    if value.lower() != "none":
        raise ValidationFailed(
            f'config: {name} can only be "none" here; other {name}s come from plugins'
        )
    return dropping()
