"""Checks of blob keys shared by the adapters."""

from __future__ import annotations

import re

from coachcore.errors import ValidationFailed

_KEY = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


def checked(key: str) -> str:
    """``key`` if it is a safe relative key (no ``..`` part, no leading ``/``)."""
    if not isinstance(key, str) or not _KEY.fullmatch(key) or ".." in key.split("/"):
        raise ValidationFailed("blob key: must be a relative path of plain names")
    return key
