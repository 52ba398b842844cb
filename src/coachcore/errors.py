"""The exception hierarchy of coachcore.

Every error raised for bad input or a broken rule is a :class:`CoachCoreError`
subclass carrying an HTTP-like ``status_code``, so hosts can map them to
responses with :meth:`CoachCoreError.to_dict`.
"""

from __future__ import annotations

from typing import Any, ClassVar

SLOT_FULL_MESSAGE = "This slot is now full, please choose another"


class CoachCoreError(Exception):
    """Base class of every error coachcore raises on purpose."""

    status_code: ClassVar[int] = 500
    error: ClassVar[str] = "Internal Server Error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The error in the ``{statusCode, message, error, details}`` format."""
        return {
            "statusCode": self.status_code,
            "message": self.message,
            "error": self.error,
            "details": self.details,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, details={self.details!r})"


class ValidationFailed(CoachCoreError):
    """A field is malformed: wrong type, out of range, naive datetime, unknown zone."""

    status_code = 400
    error = "Bad Request"


class Forbidden(CoachCoreError):
    """The actor lacks the permission or does not own the resource."""

    status_code = 403
    error = "Forbidden"


class NotFound(CoachCoreError):
    """The user, member, coach, window, booking or session does not exist."""

    status_code = 404
    error = "Not Found"


class Conflict(CoachCoreError):
    """The change collides with existing data (overlap, capacity, duplicate)."""

    status_code = 409
    error = "Conflict"


class SlotFull(Conflict):
    """The slot has no seat left, or the coach's buffer forbids it."""

    def __init__(self, message: str = SLOT_FULL_MESSAGE, details: Any = None) -> None:
        super().__init__(message, details)


class BusinessRuleViolation(CoachCoreError):
    """The input is well formed but a business rule forbids the change."""

    status_code = 422
    error = "Unprocessable Entity"


class StoreError(CoachCoreError):
    """The store could not complete the operation (after bounded retries)."""

    status_code = 503
    error = "Service Unavailable"


class EncryptionKeyError(CoachCoreError):
    """Encrypted fields cannot be read or written safely with the keys given.

    Raised when a store holding ciphertext is opened without a key
    (:class:`KeyMissing`) or with keys none of which decrypts it
    (:class:`KeyMismatch`); never answered with garbage or a plain-text write.
    """

    status_code = 500
    error = "Encryption Key Error"


class KeyMissing(EncryptionKeyError):
    """The store holds encrypted fields and no key was given."""


class KeyMismatch(EncryptionKeyError):
    """None of the given keys decrypts the store's encrypted fields."""


class SchemaOutdated(CoachCoreError):
    """The database schema is older than this version of coachcore expects."""

    status_code = 500
    error = "Schema Outdated"


class MissingDependency(CoachCoreError, ImportError):
    """An optional package is not installed; the message names the extra to install.

    Also an :class:`ImportError`, so ``except ImportError`` keeps working.
    ``details`` holds ``{"extra": ..., "module": ...}``.
    """

    status_code = 500
    error = "Missing Dependency"

    def __init__(self, feature: str, *, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the '{module}' package: pip install \"coachcore[{extra}]\"",
            details={"extra": extra, "module": module},
        )


__all__ = [
    "SLOT_FULL_MESSAGE",
    "BusinessRuleViolation",
    "CoachCoreError",
    "Conflict",
    "EncryptionKeyError",
    "Forbidden",
    "KeyMismatch",
    "KeyMissing",
    "MissingDependency",
    "NotFound",
    "SchemaOutdated",
    "SlotFull",
    "StoreError",
    "ValidationFailed",
]
