"""One coachcore core per process, opened from the settings on first use.

``COACHCORE_URL`` and ``COACHCORE_KEYS`` say where and with which keys;
``COACHCORE_OPTIONS`` (optional) holds any other keyword arguments of
``coachcore.open`` (``retention_days``, ``plugins``, a ``clock`` in tests).

``coachcore.Core`` is safe to share between threads, so every request of a
worker uses the same one. Tests that change ``COACHCORE_URL`` get a core for
that URL; :func:`close_all` releases them.
"""

from __future__ import annotations

import threading

from django.conf import settings

import coachcore

_cores: dict[tuple[str, str | None, int], coachcore.Core] = {}
_lock = threading.Lock()


def get_core() -> coachcore.Core:
    """The core for the current ``COACHCORE_URL`` and ``COACHCORE_KEYS``."""
    options = getattr(settings, "COACHCORE_OPTIONS", {})
    key = (settings.COACHCORE_URL, settings.COACHCORE_KEYS, id(options))
    with _lock:
        if key not in _cores:
            _cores[key] = coachcore.open(key[0], keys=key[1], **options)
        return _cores[key]


def close_all() -> None:
    """Close every core this process opened (tests, shutdown hooks)."""
    with _lock:
        for core in _cores.values():
            core.close()
        _cores.clear()
