"""Email notifications over SMTP (stdlib ``smtplib`` and ``email``).

``SmtpNotifier`` satisfies ``NotifierPort``: one message per notification,
plain text with an HTML alternative, addressed through a host-supplied
address book. The notification id (the message's idempotency key) travels in
a deterministic ``Message-ID`` (``<notification-id@sender-domain>``), the same
on every re-send, so mail systems and readers that de-duplicate by
``Message-ID`` drop a repeat; one instance never sends the same id twice.
SMTP errors propagate, so the outbox dispatcher retries later. Deprecated:
``legacy_headers=True`` also sends the former ``X-Coachcore-Idempotency-Key``.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from coachcore.adapters.templates import Rendered, render
from coachcore.domain.entities import Notification
from coachcore.errors import NotFound

log = logging.getLogger("coachcore.email")

AddressBook = Callable[[str], str | None]
IDEMPOTENCY_HEADER = "X-Coachcore-Idempotency-Key"


class InFlight(RuntimeError):
    """The same notification is being sent by another thread; retry later."""


class SmtpNotifier:
    """Sends each notification as an email; a repeated id is not sent again."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        address_book: AddressBook,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10,
        renderer: Callable[[Notification], Rendered] = render,
        legacy_headers: bool = False,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.address_book = address_book
        self.starttls, self.timeout = starttls, timeout
        self._credentials = (username, password or "") if username else None
        self._render = renderer
        self.legacy_headers = legacy_headers
        self._sent: set[str] = set()
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()
        self.skipped: list[str] = []  # ids of notifications whose recipient has no address

    def send(self, notification: Notification) -> None:
        """Email the notification's recipient; raises if the SMTP server fails.

        A notification already sent by this instance is skipped; one being sent
        by another thread right now raises ``InFlight`` (the dispatcher retries).
        """
        if not self._reserve(notification.id):
            return
        try:
            self._deliver(notification)
        except BaseException:
            self._release(notification.id, sent=False)
            raise
        self._release(notification.id, sent=True)

    def compose(self, notification: Notification, address: str) -> EmailMessage:
        """The message that ``send`` would hand to the SMTP server."""
        rendered = self._render(notification)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = address
        message["Subject"] = rendered.subject
        message["Date"] = format_datetime(notification.created_at)
        message["Message-ID"] = message_id(notification, self.sender)
        if self.legacy_headers:
            message[IDEMPOTENCY_HEADER] = notification.id
        message["X-Coachcore-Kind"] = str(notification.kind)
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message

    def _deliver(self, notification: Notification) -> None:
        address = notification.recipient_email or self.address_book(notification.recipient_id)
        if not address:
            log.warning(
                "no email address for %s: notification %s skipped",
                notification.recipient_id,
                notification.id,
            )
            with self._lock:
                self.skipped.append(notification.id)
            return
        message = self.compose(notification, address)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._credentials:
                smtp.login(*self._credentials)
            smtp.send_message(message)

    def _reserve(self, notification_id: str) -> bool:
        with self._lock:
            if notification_id in self._sent:
                return False
            if notification_id in self._in_flight:
                raise InFlight(f"notification {notification_id} is being sent")
            self._in_flight.add(notification_id)
            return True

    def _release(self, notification_id: str, *, sent: bool) -> None:
        with self._lock:
            self._in_flight.discard(notification_id)
            if sent:
                self._sent.add(notification_id)


def address_book_from(core: Any) -> AddressBook:
    """An address book that reads ``core.system.users.get(user_id).email``."""

    def lookup(user_id: str) -> str | None:
        try:
            email: str = core.system.users.get(user_id).email
        except NotFound:
            return None
        return email

    return lookup


def message_id(notification: Notification, sender: str) -> str:
    """The ``Message-ID`` of a notification's email: the same on every re-send."""
    return f"<{notification.id}@{_domain_of(sender)}>"


def _domain_of(sender: str) -> str:
    _, _, domain = sender.rpartition("@")
    return domain.strip(" >") or "coachcore"
