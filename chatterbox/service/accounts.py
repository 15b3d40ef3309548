"""Accounts and sessions: register, log in, refresh, log out, list/end sessions, change password.

The rules (OWASP ASVS V6/V7; ``docs/security.md``):

- Passwords are checked by :mod:`chatterbox.auth.policy` and hashed with Argon2id in a worker
  thread (a hash costs ~50 ms of CPU; the event loop keeps serving meanwhile). A login whose hash
  was made with older parameters is rehashed.
- Failed logins go through the :class:`~chatterbox.auth.login_limiter.LoginLimiter`, checked
  *before* any hash is computed; an unknown user costs the same dummy verification as a wrong
  password and gets the same generic error, so the answer does not reveal whether the name exists.
- Registrations go through the :class:`~chatterbox.auth.register_limiter.RegistrationLimiter` (a
  token bucket per client address), checked first: a refused attempt looks nothing up and hashes
  nothing. Accounts created by the operator (``chatterbox create-user``) are not throttled.
- Every login (and every refresh) creates a new session with a fresh 256-bit token; only
  ``HMAC(secret_key, token)`` is stored (:func:`~chatterbox.service.sessions.hash_token`).
- Refresh tokens rotate on every use within one *family*, whose absolute lifetime
  (``refresh_lifetime_s``) runs from the password login. The old session is revoked when it is
  rotated. Presenting a refresh token that was already used revokes the whole family and every
  session it produced (RFC 9700 §4.14.2), and closes their WebSockets.
- Logout, ending a session and a password change (which ends every *other* session) close the
  ended sessions' WebSocket connections through the :class:`~chatterbox.service.notifier.Notifier`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from chatterbox.auth.login_limiter import LoginLimiter
from chatterbox.auth.passwords import hash_password, needs_rehash, verify_dummy, verify_password
from chatterbox.auth.policy import (
    PolicyError,
    check_display_name,
    check_password,
    check_username,
    username_key,
)
from chatterbox.auth.register_limiter import RegistrationLimiter
from chatterbox.auth.tokens import new_token, refresh_decision, session_validity
from chatterbox.config import Settings
from chatterbox.domain.clock import now_ms
from chatterbox.domain.ids import new_id
from chatterbox.service.directory import UserDirectory
from chatterbox.service.errors import (
    AuthenticationFailed,
    ConflictError,
    Forbidden,
    InvalidInput,
    NotFoundError,
    RateLimited,
)
from chatterbox.service.notifier import Notifier
from chatterbox.service.sessions import Principal, hash_token
from chatterbox.service.views import membership_frame
from chatterbox.store.base import Store
from chatterbox.store.errors import AlreadyMember, StoreError, UsernameTaken
from chatterbox.store.records import SessionRecord, UserRecord

__all__ = [
    "DEFAULT_ROOM_ID",
    "INVALID_LOGIN",
    "SESSION_ENDED_CODE",
    "AccountService",
    "IssuedSession",
]

DEFAULT_ROOM_ID = "r_general"
"""The public room every new account joins."""
INVALID_LOGIN = "invalid username or password"
"""The one message of every failed login, whatever failed."""
SESSION_ENDED_CODE = 4001
"""WebSocket close code for connections whose session ended (logout, revocation)."""

log = logging.getLogger("chatterbox.accounts")


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A new login session and the secrets handed to the client (shown once, stored hashed)."""

    user: UserRecord
    session: SessionRecord
    token: str
    """The session token (cookie value or bearer token)."""
    refresh_token: str
    """The single-use refresh token."""
    refresh_expires_at: int
    """When the refresh family ends (ms)."""

    @property
    def expires_at(self) -> int:
        """The session's absolute expiry (ms)."""
        return self.session.expires_at


def _policy(fn: Callable[[], object], field: str | None = None) -> None:
    """Run a policy check; a refusal becomes :class:`InvalidInput` (``field`` renames the input)."""
    try:
        fn()
    except PolicyError as exc:
        name = field or exc.field
        raise InvalidInput(exc.message, code="invalid_" + exc.field, field=name) from exc


class AccountService:
    """The account and session use cases (one instance per request is fine: it holds no state)."""

    def __init__(
        self,
        *,
        store: Store,
        settings: Settings,
        users: UserDirectory,
        notifier: Notifier,
        limiter: LoginLimiter,
        register_limiter: RegistrationLimiter,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self._settings = settings
        self._users = users
        self._notifier = notifier
        self._limiter = limiter
        self._register_limiter = register_limiter
        self._clock = clock

    # -- accounts -------------------------------------------------------------------------------------

    async def create_account(
        self, username: str, display_name: str | None, password: str
    ) -> UserRecord:
        """Validate, hash and store a new account, and join it to the default room."""
        _policy(lambda: check_username(username))
        name = display_name if display_name is not None else username
        try:
            name = check_display_name(name)
        except PolicyError as exc:
            raise InvalidInput(exc.message, code="invalid_display_name", field=exc.field) from exc
        if await self._store.get_user_by_username(username) is not None:
            raise ConflictError("This username is taken.", code="username_taken", field="username")
        await asyncio.to_thread(
            _policy, lambda: check_password(password, username=username, display_name=name)
        )
        password_hash = await asyncio.to_thread(hash_password, password)
        try:
            user = await self._store.create_user(username, name, password_hash)
        except UsernameTaken as exc:
            raise ConflictError(
                "This username is taken.", code="username_taken", field="username"
            ) from exc
        self._users.put(user)
        await self._join_default_room(user)
        log.info("account created", extra={"user_id": user.id})
        return user

    async def _join_default_room(self, user: UserRecord) -> None:
        try:
            event = await self._store.add_member(DEFAULT_ROOM_ID, user.id)
        except AlreadyMember:
            return
        except StoreError:
            log.warning("could not join the default room", extra={"user_id": user.id})
            return
        await self._notifier.membership_changed(DEFAULT_ROOM_ID, user.id, joined=True)
        self._notifier.room_event(DEFAULT_ROOM_ID, membership_frame(event, user))

    async def register(
        self,
        username: str,
        display_name: str | None,
        password: str,
        *,
        address: str | None,
        user_agent: str | None,
    ) -> IssuedSession:
        """Create an account and log it in; throttled per client address (429 with ``retry_after_s``)."""
        decision = self._register_limiter.check(address, self._clock())
        if not decision.allowed:
            log.info("registration throttled", extra={"address": address or "unknown"})
            raise RateLimited(
                "Too many registrations from this address; try again later.",
                retry_after_s=decision.retry_after_s,
            )
        user = await self.create_account(username, display_name, password)
        return await self._issue(user, address=address, user_agent=user_agent)

    async def update_display_name(self, user: UserRecord, display_name: str) -> UserRecord:
        """Change the user's display name (policy-checked)."""
        try:
            name = check_display_name(display_name)
        except PolicyError as exc:
            raise InvalidInput(exc.message, code="invalid_display_name", field=exc.field) from exc
        updated = await self._store.set_display_name(user.id, name)
        self._users.put(updated)
        return updated

    async def search_users(self, prefix: str, limit: int) -> list[UserRecord]:
        """Users whose username starts with ``prefix`` (case-insensitive)."""
        return await self._store.search_users(prefix, limit)

    # -- login ----------------------------------------------------------------------------------------

    async def login(
        self, username: str, password: str, *, address: str | None, user_agent: str | None
    ) -> IssuedSession:
        """Check the password (throttled, generic errors) and open a new session."""
        now = self._clock()
        key = username_key(username)
        addr = address or "unknown"
        decision = self._limiter.check(key, addr, now)
        if not decision.allowed:
            raise RateLimited(
                "Too many failed logins; try again later.", retry_after_s=decision.retry_after_s
            )
        user = await self._store.get_user_by_username(username)
        stored = None if user is None else await self._store.get_password_hash(user.id)
        if user is None or stored is None:
            await asyncio.to_thread(verify_dummy, password)
            ok = False
        else:
            ok = await asyncio.to_thread(verify_password, stored, password)
        if not ok or user is None or stored is None:
            self._limiter.record_failure(key, addr, self._clock())
            log.info("login failed", extra={"address": addr})
            raise AuthenticationFailed(INVALID_LOGIN, code="invalid_credentials")
        self._limiter.record_success(key)
        if needs_rehash(stored):
            await self._store.set_password_hash(
                user.id, await asyncio.to_thread(hash_password, password)
            )
        return await self._issue(user, address=address, user_agent=user_agent)

    async def _issue(
        self,
        user: UserRecord,
        *,
        address: str | None,
        user_agent: str | None,
        family_id: str | None = None,
        refresh_expires_at: int | None = None,
    ) -> IssuedSession:
        now = self._clock()
        token = new_token()
        session = await self._store.create_session(
            user.id,
            hash_token(self._settings, token),
            now + self._settings.session_lifetime_s * 1000,
            user_agent=(user_agent or "")[:256] or None,
            ip=address,
        )
        refresh = new_token()
        family = family_id or new_id("rf")
        refresh_expires = refresh_expires_at or now + self._settings.refresh_lifetime_s * 1000
        await self._store.create_refresh_token(
            session.id, family, hash_token(self._settings, refresh), refresh_expires
        )
        return IssuedSession(user, session, token, refresh, refresh_expires)

    # -- refresh --------------------------------------------------------------------------------------

    async def refresh(
        self, refresh_token: str, *, address: str | None, user_agent: str | None
    ) -> IssuedSession:
        """Exchange a refresh token for a new session and refresh token (rotation)."""
        invalid = AuthenticationFailed(
            "The refresh token is invalid or expired.", code="invalid_refresh_token"
        )
        if not refresh_token or len(refresh_token) > 256:
            raise invalid
        record = await self._store.get_refresh_token(hash_token(self._settings, refresh_token))
        if record is None:
            raise invalid
        if record.used_at is not None:
            # Checked before "revoked": rotation revokes the old session, and with it this token.
            await self._reuse_detected(record.family_id)
        decision = refresh_decision(
            used_at_ms=None,
            revoked_at_ms=record.revoked_at,
            expires_at_ms=record.expires_at,
            now_ms=self._clock(),
        )
        if decision != "rotate":
            raise invalid
        old = await self._store.get_session(record.session_id)
        user = None if old is None else await self._store.get_user(old.user_id)
        if old is None or user is None:
            raise invalid
        if not await self._store.mark_refresh_used(record.id):
            await self._reuse_detected(record.family_id)  # lost a race with another use
        issued = await self._issue(
            user,
            address=address,
            user_agent=user_agent,
            family_id=record.family_id,
            refresh_expires_at=record.expires_at,
        )
        if await self._store.revoke_session(old.id):
            await self._notifier.close_sessions(
                [old.id], code=SESSION_ENDED_CODE, reason="session ended"
            )
        return issued

    async def _reuse_detected(self, family_id: str) -> None:
        revoked = await self._store.revoke_refresh_family_sessions(family_id)
        log.warning(
            "refresh token reuse: family revoked",
            extra={"family_id": family_id, "sessions": len(revoked)},
        )
        if revoked:
            await self._notifier.close_sessions(
                revoked, code=SESSION_ENDED_CODE, reason="session ended"
            )
        raise AuthenticationFailed(
            "This refresh token was already used; every session it produced has been ended.",
            code="refresh_token_reused",
        )

    # -- sessions -------------------------------------------------------------------------------------

    async def logout(self, principal: Principal) -> None:
        """Revoke the current session and close its connections."""
        await self._end([principal.session_id])

    async def _end(self, session_ids: list[str]) -> None:
        ended = [sid for sid in session_ids if await self._store.revoke_session(sid)]
        if ended:
            await self._notifier.close_sessions(
                ended, code=SESSION_ENDED_CODE, reason="session ended"
            )

    async def list_sessions(self, principal: Principal) -> list[SessionRecord]:
        """The user's usable sessions (not revoked, not expired, not idle), most recent first."""
        now = self._clock()
        out = []
        for session in await self._store.list_sessions(principal.user_id):
            validity = session_validity(
                created_at_ms=session.created_at,
                last_used_at_ms=session.last_used_at,
                revoked_at_ms=session.revoked_at,
                now_ms=now,
                idle_timeout_ms=self._settings.session_idle_timeout_s * 1000,
                absolute_lifetime_ms=self._settings.session_lifetime_s * 1000,
            )
            if validity.valid:
                out.append(session)
        return out

    async def end_session(self, principal: Principal, session_id: str) -> None:
        """End one of the user's own sessions (404 for anyone else's or an ended one)."""
        session = await self._store.get_session(session_id)
        if (
            session is None
            or session.user_id != principal.user_id
            or session.revoked_at is not None
        ):
            raise NotFoundError("No such session.", code="session_not_found")
        await self._end([session_id])

    async def change_password(
        self, principal: Principal, current: str, new: str, *, address: str | None
    ) -> int:
        """Check the current password, store the new one, end every other session.

        Returns how many sessions were ended. Wrong current passwords count as failed logins.
        """
        user = principal.user
        key = username_key(user.username)
        addr = address or "unknown"
        decision = self._limiter.check(key, addr, self._clock())
        if not decision.allowed:
            raise RateLimited(
                "Too many failed attempts; try again later.", retry_after_s=decision.retry_after_s
            )
        stored = await self._store.get_password_hash(user.id)
        ok = stored is not None and await asyncio.to_thread(verify_password, stored, current)
        if not ok:
            self._limiter.record_failure(key, addr, self._clock())
            raise Forbidden(
                "The current password is wrong.", code="wrong_password", field="current_password"
            )
        await asyncio.to_thread(
            _policy,
            lambda: check_password(new, username=user.username, display_name=user.display_name),
            "new_password",
        )
        await self._store.set_password_hash(user.id, await asyncio.to_thread(hash_password, new))
        ended = await self._store.revoke_user_sessions(
            user.id, except_session_id=principal.session_id
        )
        if ended:
            await self._notifier.close_sessions(
                ended, code=SESSION_ENDED_CODE, reason="session ended"
            )
        log.info("password changed", extra={"user_id": user.id, "sessions_ended": len(ended)})
        return len(ended)
