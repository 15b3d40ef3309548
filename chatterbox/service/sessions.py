"""Turning a presented token (cookie or bearer) into an authenticated principal.

Tokens are 256-bit random strings; only ``HMAC-SHA256(secret_key, token)`` is stored, so neither
a database leak nor a log of hashes lets anyone present a valid token.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from chatterbox.auth.tokens import session_validity
from chatterbox.config import Settings
from chatterbox.domain import clock
from chatterbox.store.base import Store
from chatterbox.store.records import SessionRecord, UserRecord

__all__ = ["Principal", "SessionAuthenticator", "hash_token"]

_TOUCH_EVERY_MS = 60_000  # refresh last_used_at at most once a minute per session


def hash_token(settings: Settings, token: str) -> str:
    """The stored form of a session or refresh token."""
    return hmac.new(settings.secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request: the user and the login session it came with."""

    user: UserRecord
    session: SessionRecord

    @property
    def user_id(self) -> str:
        """The user's id."""
        return self.user.id

    @property
    def session_id(self) -> str:
        """The session's id (``s_…``)."""
        return self.session.id


class SessionAuthenticator:
    """Validates session tokens: revoked, idle-expired and expired sessions are refused."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings

    async def authenticate(self, token: str | None, now: int | None = None) -> Principal | None:
        """The principal for ``token``, or None when it is missing, unknown or no longer valid."""
        if not token or len(token) > 256:
            return None
        now = clock.now_ms() if now is None else now
        session = await self._store.get_session_by_token_hash(hash_token(self._settings, token))
        if session is None:
            return None
        validity = session_validity(
            created_at_ms=session.created_at,
            last_used_at_ms=session.last_used_at,
            revoked_at_ms=session.revoked_at,
            now_ms=now,
            idle_timeout_ms=self._settings.session_idle_timeout_s * 1000,
            absolute_lifetime_ms=self._settings.session_lifetime_s * 1000,
        )
        if not validity.valid:
            return None
        user = await self._store.get_user(session.user_id)
        if user is None:
            return None
        if now - session.last_used_at >= _TOUCH_EVERY_MS:
            await self._store.touch_session(session.id, now)
        return Principal(user=user, session=session)
