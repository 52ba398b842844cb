"""Subject, plain-text and HTML renderings of a notification, per kind.

Shared by the delivery adapters that address people directly (email). The
domain's own ``title`` and ``body`` are kept in every rendering; the kind
adds a subject line and a lead sentence. Everything the domain wrote is
HTML-escaped in the HTML part.
"""

from __future__ import annotations

import html

import attrs

from coachcore.domain.entities import Notification
from coachcore.domain.enums import NotificationKind

#: kind -> (subject, lead sentence)
KIND_TEXT: dict[NotificationKind, tuple[str, str]] = {
    NotificationKind.SESSION_CREATED: (
        "Coaching session scheduled",
        "A coaching session has been added to your calendar.",
    ),
    NotificationKind.BOOKING_CONFIRMED: (
        "Your booking is confirmed",
        "Your booking went through and your seat is reserved.",
    ),
    NotificationKind.BOOKING_REJECTED: (
        "Your booking could not be made",
        "We could not book the slot you asked for.",
    ),
    NotificationKind.SESSION_COMPLETED: (
        "Coaching session completed",
        "Your coaching session has been marked as completed.",
    ),
    NotificationKind.WAITLIST_OFFER: (
        "A seat is free for you",
        "A seat opened in a session you were waiting for and is held for you for a while.",
    ),
    NotificationKind.SESSION_CANCELLED: (
        "Coaching session cancelled",
        "A coaching session was cancelled.",
    ),
    NotificationKind.RATE_SESSION: (
        "How was your session?",
        "Please take a moment to rate your coaching session.",
    ),
    NotificationKind.MEMBER_ASSIGNED: (
        "New coaching assignment",
        "A coach and member have been matched.",
    ),
    NotificationKind.REMINDER_24H: (
        "Reminder: coaching session tomorrow",
        "Your coaching session starts in 24 hours.",
    ),
    NotificationKind.REMINDER_1H: (
        "Reminder: coaching session in one hour",
        "Your coaching session starts in one hour.",
    ),
    NotificationKind.COACHING_INVITATION: (
        "You are invited to coaching",
        "A coach has invited you to start coaching together.",
    ),
    NotificationKind.RELATIONSHIP_DECLINED: (
        "Your coaching request was declined",
        "Your coaching request was declined; you may ask someone else or ask again later.",
    ),
    NotificationKind.RELATIONSHIP_WITHDRAWN: (
        "A coaching request was withdrawn",
        "A coaching request made to you was withdrawn.",
    ),
    NotificationKind.ORGANIZATION_INVITATION: (
        "You are invited to an organization",
        "An organization's admin has invited you to join it.",
    ),
}


@attrs.frozen
class Rendered:
    """A notification ready to send: a subject and two bodies."""

    subject: str
    text: str
    html: str


def subject_for(notification: Notification) -> str:
    """The subject line for the notification's kind (its title for unknown kinds)."""
    known = KIND_TEXT.get(notification.kind)
    return known[0] if known else notification.title


def render(notification: Notification, *, link_base: str = "coachcore://sessions/") -> Rendered:
    """Render the notification; ``link_base + session_id`` links to its session."""
    lines = [_lead(notification), notification.title]
    if notification.body:
        lines.append(notification.body)
    link = f"{link_base}{notification.session_id}" if notification.session_id else None
    text = "\n\n".join([*lines, *([f"Session: {link}"] if link else [])]) + "\n"
    return Rendered(subject_for(notification), text, _html(lines, link))


def _lead(notification: Notification) -> str:
    known = KIND_TEXT.get(notification.kind)
    return known[1] if known else notification.title


def _html(lines: list[str], link: str | None) -> str:
    paragraphs = [f"<p>{html.escape(line)}</p>" for line in lines]
    if link:
        href = html.escape(link, quote=True)
        paragraphs.append(f'<p><a href="{href}">Open the session</a></p>')
    body = "\n".join(paragraphs)
    return f"<!doctype html>\n<html><body>\n{body}\n</body></html>\n"
