"""Webhooks signed per Standard Webhooks, for notifications and broadcasts.

``WebhookNotifier`` satisfies ``NotifierPort``: it POSTs
``coachcore.to_dict(notification)`` as JSON (stdlib ``urllib.request``) with
the headers of the Standard Webhooks specification, made by the
``standardwebhooks`` package (``pip install 'coachcore[webhooks]'``):

* ``webhook-id``: the message's idempotency key (the notification id), the
  same on every re-send, so a receiver drops repeats;
* ``webhook-timestamp``: seconds since the epoch when it was sent;
* ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``.

Receivers verify with ``standardwebhooks.Webhook(secret).verify(body, headers)``
(or any Standard Webhooks library). Any answer outside 2xx (redirects
included) raises ``WebhookFailed``, so the outbox dispatcher retries later.

Deprecated: ``legacy_headers=True`` also sends the former
``X-Coachcore-Signature`` (checked with :func:`verify_signature`) and
``X-Coachcore-Idempotency-Key`` headers, for receivers not yet moved over.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from coachcore.domain.entities import Notification
from coachcore.errors import ValidationFailed
from coachcore.plugins.hookspecs import hookimpl
from coachcore.serialization import to_dict

try:
    from standardwebhooks import Webhook
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "coachcore.adapters.webhook needs the standardwebhooks package: "
        "pip install 'coachcore[webhooks]'"
    ) from exc

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER_V1 = "webhook-signature"
EVENT_HEADER = "X-Coachcore-Event"
#: Deprecated headers, sent only with ``legacy_headers=True``.
SIGNATURE_HEADER = "X-Coachcore-Signature"
IDEMPOTENCY_HEADER = "X-Coachcore-Idempotency-Key"

Secret = str | bytes


class WebhookFailed(RuntimeError):
    """The receiver did not answer 2xx; ``status`` is its HTTP status (0 if none)."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(f"webhook {url} answered {status} {reason}".strip())
        self.status = status


def sign(body: bytes, secret: bytes) -> str:
    """Deprecated: the ``X-Coachcore-Signature`` value for ``body``: ``sha256=<hex digest>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: bytes) -> bool:
    """Deprecated: True if ``header`` is the ``X-Coachcore-Signature`` of ``body``
    (constant-time compare). New receivers use ``standardwebhooks.Webhook.verify``."""
    if not header:
        return False
    expected = sign(body, secret).encode("ascii")
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def secret_bytes(secret: Secret) -> bytes:
    """The HMAC key of a secret: raw bytes as given, or a Standard Webhooks
    ``whsec_<base64>`` string (plain base64 also accepted) decoded."""
    if isinstance(secret, str):
        try:
            text = secret.removeprefix("whsec_").rstrip("=")
            key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except ValueError as exc:
            raise ValidationFailed("secret: a whsec_<base64> string or bytes") from exc
        if not key:
            raise ValidationFailed("secret: must not be empty")
        return key
    return secret


def encode(data: Any) -> bytes:
    """Compact, key-sorted JSON: the exact bytes that are signed and sent."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are failures: urllib would turn the POST into a bodiless GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookClient:
    """POSTs JSON bodies to one URL, signed per Standard Webhooks."""

    def __init__(
        self,
        url: str,
        secret: Secret,
        *,
        timeout: float = 5,
        legacy_headers: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise ValidationFailed("url: must be an http:// or https:// URL")
        if not isinstance(secret, str | bytes) or not secret:
            raise ValidationFailed("secret: must be a non-empty whsec_ string or bytes")
        self.url, self.timeout = url, timeout
        self.legacy_headers = legacy_headers
        self._secret = secret_bytes(secret)
        self._webhook = Webhook(self._secret)
        self._clock = clock
        self._opener = urllib.request.build_opener(_NoRedirect())

    def post(self, data: Any, headers: dict[str, str], message_id: str | None = None) -> int:
        """Send ``data`` as message ``message_id`` (default: a digest of the body);
        returns the 2xx status or raises ``WebhookFailed``."""
        body = encode(data)
        request = urllib.request.Request(self.url, data=body, method="POST")
        for name, value in {**headers, **self.headers(body, message_id)}.items():
            request.add_header(name, value)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status: int = response.status
        except urllib.error.HTTPError as exc:
            raise WebhookFailed(self.url, exc.code, str(exc.reason)) from exc
        if not 200 <= status < 300:
            raise WebhookFailed(self.url, status, "")
        return status

    def headers(self, body: bytes, message_id: str | None = None) -> dict[str, str]:
        """The headers that go with ``body``: content type and the three
        Standard Webhooks headers (plus the deprecated ones if asked for)."""
        message_id = message_id or "msg_" + hashlib.sha256(body).hexdigest()[:32]
        sent_at = datetime.fromtimestamp(int(self._clock()), UTC)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "coachcore-webhook",
            ID_HEADER: message_id,
            TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
            SIGNATURE_HEADER_V1: self._webhook.sign(message_id, sent_at, body),
        }
        if self.legacy_headers:
            headers[SIGNATURE_HEADER] = sign(body, self._secret)
            headers[IDEMPOTENCY_HEADER] = message_id
        return headers


class WebhookNotifier:
    """Delivers notifications as signed webhooks; a repeated id is not sent again."""

    def __init__(
        self, url: str, secret: Secret, timeout: float = 5, *, legacy_headers: bool = False
    ) -> None:
        self.client = WebhookClient(url, secret, timeout=timeout, legacy_headers=legacy_headers)
        self._sent: set[str] = set()
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        """POST the notification; raises ``WebhookFailed`` or ``OSError`` on failure."""
        with self._lock:
            if notification.id in self._sent:
                return
        headers = {EVENT_HEADER: "notification"}
        self.client.post(to_dict(notification), headers, message_id=notification.id)
        with self._lock:
            self._sent.add(notification.id)

    def erase_person(self, user_id: str, notification_ids: list[str]) -> None:
        """POST an ``erase_person`` request (the optional ``ErasingNotifier`` port):
        the receiver deletes what it keeps of these notifications."""
        body = {"type": "erase_person", "user_id": user_id, "notification_ids": notification_ids}
        self.client.post(body, {EVENT_HEADER: "erase_person"})


class WebhookBroadcast:
    """A plugin that POSTs every committed domain event (``coachcore_broadcast``).

    Register it with ``coachcore.open(..., plugins=[WebhookBroadcast(url, secret)])``.
    The ``webhook-id`` is the event's ``event_id`` if it has one, else a digest of
    its body. A failure raises, so the dispatcher retries the event later.
    """

    def __init__(
        self, url: str, secret: Secret, timeout: float = 5, *, legacy_headers: bool = False
    ) -> None:
        self.client = WebhookClient(url, secret, timeout=timeout, legacy_headers=legacy_headers)

    @hookimpl
    def coachcore_broadcast(self, event: dict[str, Any]) -> None:
        event_id = event.get("event_id")
        self.client.post(
            event,
            {EVENT_HEADER: str(event.get("type", "event"))},
            message_id=str(event_id) if event_id else None,
        )
