"""Login sessions and rotating refresh tokens (SQLAlchemy implementation).

Only hashes of bearer secrets are stored (sha256 hex, computed by the auth layer).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.domain.ids import new_id, new_session_id
from chatterbox.store import tables as t
from chatterbox.store.errors import NotFound, UserNotFound
from chatterbox.store.records import RefreshTokenRecord, SessionRecord
from chatterbox.store.sql_base import SqlBase, exists, row_to_refresh_token, row_to_session

__all__ = ["SessionsMixin"]


class SessionsMixin(SqlBase):
    """Sessions (bearer/cookie tokens) and refresh-token families."""

    async def create_session(
        self,
        user_id: str,
        token_hash: str,
        expires_at: int,
        user_agent: str | None = None,
        ip: str | None = None,
    ) -> SessionRecord:
        """Create a session ('s_…' id); raises :class:`UserNotFound`."""

        async def job(conn: AsyncConnection) -> SessionRecord:
            if not await exists(conn, t.users, id=user_id):
                raise UserNotFound(user_id)
            at = self._clock()
            record = SessionRecord(
                id=new_session_id(),
                user_id=user_id,
                token_hash=token_hash,
                created_at=at,
                last_used_at=at,
                expires_at=expires_at,
                revoked_at=None,
                user_agent=user_agent,
                ip=ip,
            )
            await conn.execute(
                insert(t.sessions).values(
                    id=record.id,
                    user_id=user_id,
                    token_hash=token_hash,
                    created_at=at,
                    last_used_at=at,
                    expires_at=expires_at,
                    user_agent=user_agent,
                    ip=ip,
                )
            )
            return record

        return await self._write(job)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        """The session with this id (revoked or expired ones included), or None."""

        async def q(conn: AsyncConnection) -> SessionRecord | None:
            stmt = select(t.sessions).where(t.sessions.c.id == session_id)
            row = (await conn.execute(stmt)).mappings().first()
            return None if row is None else row_to_session(row)

        return await self._read(q)

    async def get_session_by_token_hash(self, token_hash: str) -> SessionRecord | None:
        """The session whose token hashes to ``token_hash`` (revoked/expired included), or None."""

        async def q(conn: AsyncConnection) -> SessionRecord | None:
            stmt = select(t.sessions).where(t.sessions.c.token_hash == token_hash)
            row = (await conn.execute(stmt)).mappings().first()
            return None if row is None else row_to_session(row)

        return await self._read(q)

    async def touch_session(self, session_id: str, now: int) -> None:
        """Record use of the session at ``now`` (never moves ``last_used_at`` backwards)."""

        async def job(conn: AsyncConnection) -> None:
            await conn.execute(
                update(t.sessions)
                .where(t.sessions.c.id == session_id, t.sessions.c.last_used_at < now)
                .values(last_used_at=now)
            )

        await self._write(job)

    async def revoke_session(self, session_id: str) -> bool:
        """Revoke the session and its refresh tokens; False if it was already revoked or unknown."""
        ids = await self._revoke_sessions(t.sessions.c.id == session_id)
        return bool(ids)

    async def revoke_user_sessions(
        self, user_id: str, except_session_id: str | None = None
    ) -> list[str]:
        """Revoke every active session of the user but ``except_session_id``; returns the revoked ids."""
        condition = t.sessions.c.user_id == user_id
        if except_session_id is not None:
            condition = condition & (t.sessions.c.id != except_session_id)
        return await self._revoke_sessions(condition)

    async def _revoke_sessions(self, condition: ColumnElement[bool]) -> list[str]:
        async def job(conn: AsyncConnection) -> list[str]:
            stmt = (
                select(t.sessions.c.id)
                .where(condition, t.sessions.c.revoked_at.is_(None))
                .order_by(t.sessions.c.id)
            )
            ids = [str(i) for i in (await conn.execute(stmt)).scalars()]
            if not ids:
                return []
            at = self._clock()
            await conn.execute(
                update(t.sessions).where(t.sessions.c.id.in_(ids)).values(revoked_at=at)
            )
            await conn.execute(
                update(t.refresh_tokens)
                .where(
                    t.refresh_tokens.c.session_id.in_(ids), t.refresh_tokens.c.revoked_at.is_(None)
                )
                .values(revoked_at=at)
            )
            return ids

        return await self._write(job)

    async def list_sessions(
        self, user_id: str, *, include_revoked: bool = False
    ) -> list[SessionRecord]:
        """The user's sessions, most recently used first (revoked ones only if asked)."""

        async def q(conn: AsyncConnection) -> list[SessionRecord]:
            stmt = select(t.sessions).where(t.sessions.c.user_id == user_id)
            if not include_revoked:
                stmt = stmt.where(t.sessions.c.revoked_at.is_(None))
            stmt = stmt.order_by(t.sessions.c.last_used_at.desc(), t.sessions.c.id)
            return [row_to_session(r) for r in (await conn.execute(stmt)).mappings()]

        return await self._read(q)

    async def purge_expired_sessions(self, now: int) -> int:
        """Delete sessions and refresh tokens whose absolute expiry is before ``now``; returns sessions deleted."""

        async def job(conn: AsyncConnection) -> int:
            await conn.execute(delete(t.refresh_tokens).where(t.refresh_tokens.c.expires_at < now))
            expired = select(t.sessions.c.id).where(t.sessions.c.expires_at < now)
            await conn.execute(
                delete(t.refresh_tokens).where(t.refresh_tokens.c.session_id.in_(expired))
            )
            result = await conn.execute(delete(t.sessions).where(t.sessions.c.expires_at < now))
            return int(result.rowcount)

        return await self._write(job)

    # -- refresh tokens ------------------------------------------------------------------------------

    async def create_refresh_token(
        self, session_id: str, family_id: str, token_hash: str, expires_at: int
    ) -> RefreshTokenRecord:
        """Store a new refresh token of ``family_id`` for the session; raises :class:`NotFound`."""

        async def job(conn: AsyncConnection) -> RefreshTokenRecord:
            if not await exists(conn, t.sessions, id=session_id):
                raise NotFound(f"session {session_id}")
            record = RefreshTokenRecord(
                id=new_id("rt"),
                family_id=family_id,
                session_id=session_id,
                token_hash=token_hash,
                created_at=self._clock(),
                expires_at=expires_at,
                used_at=None,
                revoked_at=None,
            )
            await conn.execute(
                insert(t.refresh_tokens).values(
                    id=record.id,
                    family_id=family_id,
                    session_id=session_id,
                    token_hash=token_hash,
                    created_at=record.created_at,
                    expires_at=expires_at,
                )
            )
            return record

        return await self._write(job)

    async def get_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        """The refresh token with this hash (used/revoked/expired included), or None."""

        async def q(conn: AsyncConnection) -> RefreshTokenRecord | None:
            stmt = select(t.refresh_tokens).where(t.refresh_tokens.c.token_hash == token_hash)
            row = (await conn.execute(stmt)).mappings().first()
            return None if row is None else row_to_refresh_token(row)

        return await self._read(q)

    async def mark_refresh_used(self, token_id: str) -> bool:
        """Consume the token, atomically: True exactly once; False if already used, revoked or unknown.

        On False the caller should treat the token as stolen and :meth:`revoke_refresh_family`.
        """

        async def job(conn: AsyncConnection) -> bool:
            result = await conn.execute(
                update(t.refresh_tokens)
                .where(
                    t.refresh_tokens.c.id == token_id,
                    t.refresh_tokens.c.used_at.is_(None),
                    t.refresh_tokens.c.revoked_at.is_(None),
                )
                .values(used_at=self._clock())
            )
            return bool(result.rowcount == 1)

        return await self._write(job)

    async def revoke_refresh_family(self, family_id: str) -> int:
        """Revoke every not-yet-revoked token of the family; returns how many."""

        async def job(conn: AsyncConnection) -> int:
            result = await conn.execute(
                update(t.refresh_tokens)
                .where(
                    t.refresh_tokens.c.family_id == family_id,
                    t.refresh_tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=self._clock())
            )
            return int(result.rowcount)

        return await self._write(job)

    async def revoke_refresh_family_sessions(self, family_id: str) -> list[str]:
        """Revoke every token of the family and every active session that holds one of them.

        Used on refresh-token reuse (RFC 9700): the whole chain is presumed stolen. Returns the ids
        of the sessions revoked now (already revoked ones are left out).
        """

        async def job(conn: AsyncConnection) -> list[str]:
            rt = t.refresh_tokens
            at = self._clock()
            holders = select(rt.c.session_id).where(rt.c.family_id == family_id)
            stmt = (
                select(t.sessions.c.id)
                .where(t.sessions.c.id.in_(holders), t.sessions.c.revoked_at.is_(None))
                .order_by(t.sessions.c.id)
            )
            ids = [str(i) for i in (await conn.execute(stmt)).scalars()]
            if ids:
                await conn.execute(
                    update(t.sessions).where(t.sessions.c.id.in_(ids)).values(revoked_at=at)
                )
                await conn.execute(
                    update(rt)
                    .where(rt.c.session_id.in_(ids), rt.c.revoked_at.is_(None))
                    .values(revoked_at=at)
                )
            await conn.execute(
                update(rt)
                .where(rt.c.family_id == family_id, rt.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            return ids

        return await self._write(job)
