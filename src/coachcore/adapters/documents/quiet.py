"""pypdf's warnings kept quiet while coachcore extracts text, and only then.

pypdf logs a warning for every robustness fix it applies to a malformed file
(the norm among uploads), each on the logger of its module (``pypdf._reader``,
``pypdf.generic._data_structures`` ...). Filters on ``pypdf`` would not see
those records (a logger's filters apply to its own records only), so the
level of ``pypdf``, which its modules' loggers inherit, is raised to ERROR
while at least one extraction runs and put back when the last one ends,
unless the host changed it meanwhile. Importing coachcore changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Quiet:
    """A count of the extractions running; the first raises the level, the
    last one puts it back."""

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(name)
        self._lock = threading.Lock()
        self._running = 0
        self._saved = logging.NOTSET
        self._set = logging.NOTSET

    def enter(self) -> None:
        with self._lock:
            self._running += 1
            if self._running == 1:
                self._saved = self._logger.level
                if self._saved < logging.ERROR:  # NOTSET (0) included
                    self._logger.setLevel(logging.ERROR)
                self._set = self._logger.level

    def leave(self) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0 and self._logger.level == self._set:
                self._logger.setLevel(self._saved)


_PYPDF = _Quiet("pypdf")


@contextmanager
def quiet_pypdf() -> Iterator[None]:
    """pypdf logs only errors inside this block (every thread's, meanwhile)."""
    _PYPDF.enter()
    try:
        yield
    finally:
        _PYPDF.leave()
