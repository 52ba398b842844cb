"""Hypothesis strategies for coachcore's inputs, valid and hostile.

Shipped in the package so that third-party adapters (stores, calendars,
notifiers) can drive their own property tests with the same generators the
library's 63 correctness properties use. Requires ``hypothesis`` (the
``test`` extra); importing this module is the only thing that needs it.

Everything valid here is accepted by the public API as it stands:

* :func:`user_specs` / :func:`unique_users` -- names, e-mail addresses
  (unique per example, case-insensitively) and IANA time zones;
* :func:`coach_settings` -- keyword arguments for ``coaches.update``;
* :func:`window_specs` / :func:`weekly_schedules` -- weekly availability
  windows (``"24:00"`` included), the latter never overlapping;
* :func:`aware_datetimes` -- timezone-aware instants in zones with DST and
  with half-hour or 45-minute offsets (no imaginary local times);
* :func:`session_types`, :func:`durations`, :func:`rating_specs`.

And everything in :func:`junk` should be refused with a
``coachcore.errors.CoachCoreError`` (never a ``KeyError``, a driver error or
a crash): ``None``, wrong types, naive datetimes, unknown ids, huge numbers,
empty and hostile strings.

The strategies live in three modules by what they draw (:mod:`.people`,
:mod:`.times`, :mod:`.junk`); import them from here.
"""

from __future__ import annotations

from coachcore.testing.strategies.junk import (
    HOSTILE_STRINGS,
    hostile_strings,
    junk,
    junk_datetimes,
    junk_ids,
    junk_integers,
    junk_text,
    naive_datetimes,
    unknown_ids,
)
from coachcore.testing.strategies.people import (
    CoachSettings,
    RatingSpec,
    UserSpec,
    coach_settings,
    emails,
    feedback,
    membership_statuses,
    names,
    notes,
    rating_specs,
    ratings,
    unique_users,
    user_specs,
)
from coachcore.testing.strategies.times import (
    DST_ZONES,
    FIXED_OFFSET_ZONES,
    ZONES,
    WindowSpec,
    aware_datetimes,
    dst_edge_datetimes,
    durations,
    future_datetimes,
    hhmm,
    offset_changes,
    session_types,
    timezones,
    weekly_schedules,
    window_specs,
)

__all__ = [
    "DST_ZONES",
    "FIXED_OFFSET_ZONES",
    "HOSTILE_STRINGS",
    "ZONES",
    "CoachSettings",
    "RatingSpec",
    "UserSpec",
    "WindowSpec",
    "aware_datetimes",
    "coach_settings",
    "dst_edge_datetimes",
    "durations",
    "emails",
    "feedback",
    "future_datetimes",
    "hhmm",
    "hostile_strings",
    "junk",
    "junk_datetimes",
    "junk_ids",
    "junk_integers",
    "junk_text",
    "membership_statuses",
    "naive_datetimes",
    "names",
    "notes",
    "offset_changes",
    "rating_specs",
    "ratings",
    "session_types",
    "timezones",
    "unique_users",
    "unknown_ids",
    "user_specs",
    "weekly_schedules",
    "window_specs",
]
