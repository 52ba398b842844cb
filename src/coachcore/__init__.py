"""coachcore: the domain core of a coaching platform.

core = coachcore.open("sqlite:///coaching.db")
coach = core.system.users.create(name="Cleo", email="cleo@example.com",
                                 role=Role.COACH, timezone="Europe/Berlin")
"""

from __future__ import annotations

import logging

from coachcore.domain.entities import (
    AvailabilityWindow,
    Booking,
    CalendarEvent,
    CoachProfile,
    Conversation,
    MemberProfile,
    Notification,
    OutboxMessage,
    Rating,
    Reminder,
    Session,
    User,
)
from coachcore.domain.enums import (
    BookingStatus,
    MembershipStatus,
    NotificationKind,
    OnboardingStatus,
    Role,
    SessionStatus,
    SessionType,
)
from coachcore.plugins.hookspecs import hookimpl
from coachcore.scheduling.slots import AvailableSlot
from coachcore.serialization import converter, from_dict, to_dict
from coachcore.services.bootstrap import Core
from coachcore.services.bootstrap import open_core as open
from coachcore.services.scopes import Scope, SystemScope

__version__ = "0.1.0"

logging.getLogger("coachcore").addHandler(logging.NullHandler())  # the host routes our records

__all__ = [
    "AvailabilityWindow",
    "AvailableSlot",
    "Booking",
    "BookingStatus",
    "CalendarEvent",
    "CoachProfile",
    "Conversation",
    "Core",
    "MemberProfile",
    "MembershipStatus",
    "Notification",
    "NotificationKind",
    "OnboardingStatus",
    "OutboxMessage",
    "Rating",
    "Reminder",
    "Role",
    "Scope",
    "Session",
    "SessionStatus",
    "SessionType",
    "SystemScope",
    "User",
    "converter",
    "from_dict",
    "hookimpl",
    "open",
    "to_dict",
]
