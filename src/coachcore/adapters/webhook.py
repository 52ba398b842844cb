"""Signed HTTP webhooks (stdlib ``urllib.request``) for notifications and broadcasts.

``WebhookNotifier`` satisfies ``NotifierPort``: it POSTs
``coachcore.to_dict(notification)`` as JSON with the headers
``X-Coachcore-Signature: sha256=<hex HMAC-SHA256 of the body>``,
``X-Coachcore-Idempotency-Key: <notification.id>`` and
``Content-Type: application/json``. Any answer outside 2xx (redirects
included) raises ``WebhookFailed``, so the outbox dispatcher retries later.
Receivers check the signature with :func:`verify_signature` and drop
repeated idempotency keys.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from coachcore.domain.entities import Notification
from coachcore.errors import ValidationFailed
from coachcore.plugins.hookspecs import hookimpl
from coachcore.serialization import to_dict

SIGNATURE_HEADER = "X-Coachcore-Signature"
IDEMPOTENCY_HEADER = "X-Coachcore-Idempotency-Key"
EVENT_HEADER = "X-Coachcore-Event"


class WebhookFailed(RuntimeError):
    """The receiver did not answer 2xx; ``status`` is its HTTP status (0 if none)."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(f"webhook {url} answered {status} {reason}".strip())
        self.status = status


def sign(body: bytes, secret: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex digest>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: bytes) -> bool:
    """True if ``header`` is the signature of ``body`` (constant-time compare)."""
    if not header:
        return False
    expected = sign(body, secret).encode("ascii")
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def encode(data: Any) -> bytes:
    """Compact, key-sorted JSON: the exact bytes that are signed and sent."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are failures: urllib would turn the POST into a bodiless GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookClient:
    """POSTs signed JSON bodies to one URL."""

    def __init__(self, url: str, secret: bytes, *, timeout: float = 5) -> None:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise ValidationFailed("url: must be an http:// or https:// URL")
        if not isinstance(secret, bytes) or not secret:
            raise ValidationFailed("secret: must be non-empty bytes")
        self.url, self.timeout = url, timeout
        self._secret = secret
        self._opener = urllib.request.build_opener(_NoRedirect())

    def post(self, data: Any, headers: dict[str, str]) -> int:
        """Send ``data``; returns the 2xx status or raises ``WebhookFailed``."""
        body = encode(data)
        request = urllib.request.Request(self.url, data=body, method="POST")
        for name, value in {**headers, **self._headers(body)}.items():
            request.add_header(name, value)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status: int = response.status
        except urllib.error.HTTPError as exc:
            raise WebhookFailed(self.url, exc.code, str(exc.reason)) from exc
        if not 200 <= status < 300:
            raise WebhookFailed(self.url, status, "")
        return status

    def _headers(self, body: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "User-Agent": "coachcore-webhook",
            SIGNATURE_HEADER: sign(body, self._secret),
        }


class WebhookNotifier:
    """Delivers notifications as signed webhooks; a repeated id is not sent again."""

    def __init__(self, url: str, secret: bytes, timeout: float = 5) -> None:
        self.client = WebhookClient(url, secret, timeout=timeout)
        self._sent: set[str] = set()
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        """POST the notification; raises ``WebhookFailed`` or ``OSError`` on failure."""
        with self._lock:
            if notification.id in self._sent:
                return
        headers = {IDEMPOTENCY_HEADER: notification.id, EVENT_HEADER: "notification"}
        self.client.post(to_dict(notification), headers)
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
    A failure raises, so the dispatcher retries the event later.
    """

    def __init__(self, url: str, secret: bytes, timeout: float = 5) -> None:
        self.client = WebhookClient(url, secret, timeout=timeout)

    @hookimpl
    def coachcore_broadcast(self, event: dict[str, Any]) -> None:
        self.client.post(event, {EVENT_HEADER: str(event.get("type", "event"))})
