"""Session and refresh tokens: generation, hashing, and the pure validity decisions.

A token is ``secrets.token_urlsafe(32)``: 256 random bits, 43 URL-safe characters. Only
:func:`token_hash` (SHA-256, hex) is stored, so a database leak does not leak usable tokens; a
plain hash is enough because the input has 256 bits of entropy (no salt or slow hash needed), and
lookups by hash make the comparison constant-time in effect (no secret-dependent string compare).

Decisions:

- **Sessions** (:func:`session_validity`) end when revoked, when ``absolute_lifetime_ms`` has passed
  since creation (``expired``), or when ``idle_timeout_ms`` has passed since last use
  (``idle_expired``). Checked in that order, so a revoked session always says ``revoked`` and a
  session past both limits says ``expired``. Deadlines are exclusive: at exactly
  ``created_at + absolute_lifetime`` the session is already expired.
- **Refresh tokens** rotate on every use (RFC 9700 §4.14.2). :func:`refresh_decision` checks
  ``revoked`` first (the family is already dead), then ``reuse_detected`` (the token was already
  exchanged: someone holds a copy; the caller must revoke the whole family, even if the token has
  also expired, because a legitimate client never presents a rotated token), then ``expired``
  (the token's own expiry or the family's absolute expiry), else ``rotate``. There is no reuse grace
  period: a client whose refresh response was lost must log in again, which is the price of
  detecting theft reliably.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "TOKEN_BYTES",
    "RefreshDecision",
    "SessionEndReason",
    "SessionValidity",
    "new_token",
    "refresh_decision",
    "session_validity",
    "token_hash",
]

TOKEN_BYTES: Final = 32
"""Random bytes per token (256 bits)."""

SessionEndReason = Literal["revoked", "idle_expired", "expired"]
"""Why a session is no longer valid."""

RefreshDecision = Literal["rotate", "reuse_detected", "expired", "revoked"]
"""What to do with a presented refresh token."""


def new_token() -> str:
    """A new random token: 256 bits, URL-safe base64 without padding (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest of ``token``: the only form in which tokens are stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionValidity:
    """The verdict of :func:`session_validity`."""

    valid: bool
    """Whether the session may be used now."""
    reason: SessionEndReason | None
    """Why not, when ``valid`` is false; ``None`` when valid."""


_VALID: Final = SessionValidity(valid=True, reason=None)


def session_validity(
    *,
    created_at_ms: int,
    last_used_at_ms: int | None,
    revoked_at_ms: int | None,
    now_ms: int,
    idle_timeout_ms: int,
    absolute_lifetime_ms: int,
) -> SessionValidity:
    """Whether a session is usable at ``now_ms``, and if not, why.

    ``last_used_at_ms`` ``None`` means never used since creation.
    """
    if revoked_at_ms is not None:
        return SessionValidity(valid=False, reason="revoked")
    if now_ms >= created_at_ms + absolute_lifetime_ms:
        return SessionValidity(valid=False, reason="expired")
    last = created_at_ms if last_used_at_ms is None else max(last_used_at_ms, created_at_ms)
    if now_ms >= last + idle_timeout_ms:
        return SessionValidity(valid=False, reason="idle_expired")
    return _VALID


def refresh_decision(
    *,
    used_at_ms: int | None,
    revoked_at_ms: int | None,
    expires_at_ms: int,
    now_ms: int,
    family_expires_at_ms: int | None = None,
) -> RefreshDecision:
    """Decide what to do with a presented refresh token (see the module notes for the order).

    ``used_at_ms`` is when the token was exchanged (``None``: never); ``revoked_at_ms`` when it or
    its family was revoked; ``family_expires_at_ms`` an optional absolute end of the whole chain.
    On ``reuse_detected`` the caller revokes every token of the family and its sessions.
    """
    if revoked_at_ms is not None:
        return "revoked"
    if used_at_ms is not None:
        return "reuse_detected"
    if now_ms >= expires_at_ms:
        return "expired"
    if family_expires_at_ms is not None and now_ms >= family_expires_at_ms:
        return "expired"
    return "rotate"
