"""Users and password credentials (SQLAlchemy implementation)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.domain.ids import new_user_id
from chatterbox.store import tables as t
from chatterbox.store.errors import UsernameTaken, UserNotFound
from chatterbox.store.records import UserRecord
from chatterbox.store.sql_base import SqlBase, exists, row_to_user

__all__ = ["UsersMixin", "username_key"]


def username_key(username: str) -> str:
    """The case-insensitive form of a username used for uniqueness and lookups."""
    return username.casefold()


class UsersMixin(SqlBase):
    """User accounts and their password hashes."""

    async def create_user(
        self, username: str, display_name: str, password_hash: str | None = None
    ) -> UserRecord:
        """Create a user; raises :class:`UsernameTaken` if the name exists in any case."""
        key = username_key(username)

        async def job(conn: AsyncConnection) -> UserRecord:
            if await exists(conn, t.users, username_key=key):
                raise UsernameTaken(username)
            at = self._clock()
            user = UserRecord(new_user_id(), username, display_name, at)
            await conn.execute(
                insert(t.users).values(
                    id=user.id,
                    username=username,
                    username_key=key,
                    display_name=display_name,
                    created_at=at,
                )
            )
            if password_hash is not None:
                await conn.execute(
                    insert(t.credentials).values(
                        user_id=user.id, password_hash=password_hash, updated_at=at
                    )
                )
            return user

        try:
            return await self._write(job)
        except IntegrityError as exc:  # another process created the same name concurrently
            if await self.get_user_by_username(username) is not None:
                raise UsernameTaken(username) from exc
            raise

    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id, or None."""

        async def q(conn: AsyncConnection) -> UserRecord | None:
            row = (
                (await conn.execute(select(t.users).where(t.users.c.id == user_id)))
                .mappings()
                .first()
            )
            return None if row is None else row_to_user(row)

        return await self._read(q)

    async def get_users(self, user_ids: Iterable[str]) -> dict[str, UserRecord]:
        """The users with these ids, by id (unknown ids are left out)."""
        ids = sorted(set(user_ids))
        if not ids:
            return {}

        async def q(conn: AsyncConnection) -> dict[str, UserRecord]:
            found: dict[str, UserRecord] = {}
            for start in range(0, len(ids), 500):  # stay below bind-parameter limits
                chunk = ids[start : start + 500]
                rows = await conn.execute(select(t.users).where(t.users.c.id.in_(chunk)))
                for row in rows.mappings():
                    found[row["id"]] = row_to_user(row)
            return found

        return await self._read(q)

    async def get_user_by_username(self, username: str) -> UserRecord | None:
        """The user with this username, compared without regard to case; or None."""

        async def q(conn: AsyncConnection) -> UserRecord | None:
            stmt = select(t.users).where(t.users.c.username_key == username_key(username))
            row = (await conn.execute(stmt)).mappings().first()
            return None if row is None else row_to_user(row)

        return await self._read(q)

    async def search_users(self, prefix: str, limit: int = 20) -> list[UserRecord]:
        """Users whose username starts with ``prefix`` (case-insensitive), by username."""
        if limit < 1:
            return []

        async def q(conn: AsyncConnection) -> list[UserRecord]:
            stmt = (
                select(t.users)
                .where(t.users.c.username_key.startswith(username_key(prefix), autoescape=True))
                .order_by(t.users.c.username_key)
                .limit(limit)
            )
            return [row_to_user(r) for r in (await conn.execute(stmt)).mappings()]

        return await self._read(q)

    async def get_password_hash(self, user_id: str) -> str | None:
        """The user's password hash, or None (no such user, or no password)."""

        async def q(conn: AsyncConnection) -> str | None:
            stmt = select(t.credentials.c.password_hash).where(t.credentials.c.user_id == user_id)
            value = (await conn.execute(stmt)).scalar_one_or_none()
            return None if value is None else str(value)

        return await self._read(q)

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Set (or replace) the user's password hash; raises :class:`UserNotFound`."""

        async def job(conn: AsyncConnection) -> None:
            if not await exists(conn, t.users, id=user_id):
                raise UserNotFound(user_id)
            at = self._clock()
            result = await conn.execute(
                update(t.credentials)
                .where(t.credentials.c.user_id == user_id)
                .values(password_hash=password_hash, updated_at=at)
            )
            if result.rowcount == 0:
                await conn.execute(
                    insert(t.credentials).values(
                        user_id=user_id, password_hash=password_hash, updated_at=at
                    )
                )

        await self._write(job)

    async def set_display_name(self, user_id: str, display_name: str) -> UserRecord:
        """Change the user's display name; returns the updated user; raises :class:`UserNotFound`."""

        async def job(conn: AsyncConnection) -> UserRecord:
            result = await conn.execute(
                update(t.users).where(t.users.c.id == user_id).values(display_name=display_name)
            )
            if result.rowcount == 0:
                raise UserNotFound(user_id)
            row = (await conn.execute(select(t.users).where(t.users.c.id == user_id))).mappings()
            return row_to_user(row.one())

        return await self._write(job)
