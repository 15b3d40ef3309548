"""Errors the use cases raise on purpose; the API maps each class to one HTTP status.

Every error carries a stable machine-readable ``code``, a human ``message`` and optionally the
``field`` of the request at fault. Nothing here knows about HTTP.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "ConflictError",
    "Forbidden",
    "InvalidInput",
    "NotFoundError",
    "RateLimited",
    "ServiceError",
]


class ServiceError(Exception):
    """Base class: ``code`` (stable), ``message`` (for people), ``field`` (input at fault, or None)."""

    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.default_code
        """Stable, machine-readable code."""
        self.message = message
        """Human explanation."""
        self.field = field
        """The request field at fault, when there is one."""


class BadRequest(ServiceError):
    """The request cannot be carried out as asked (400)."""

    default_code = "bad_request"


class InvalidInput(ServiceError):
    """A value breaks a rule (422); ``field`` names it."""

    default_code = "invalid_input"


class AuthenticationFailed(ServiceError):
    """Missing, wrong or expired credentials (401)."""

    default_code = "unauthenticated"


class Forbidden(ServiceError):
    """Authenticated, but not allowed (403); ``code`` is the permission module's reason."""

    default_code = "forbidden"


class NotFoundError(ServiceError):
    """No such thing, or nothing the caller may see (404)."""

    default_code = "not_found"


class ConflictError(ServiceError):
    """The request conflicts with the current state (409)."""

    default_code = "conflict"


class RateLimited(ServiceError):
    """Too many attempts (429); ``retry_after_s`` says when to try again."""

    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s
        """Seconds until an attempt may succeed."""
