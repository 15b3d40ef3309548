"""Rooms, DMs and memberships (SQLAlchemy implementation).

Joining and leaving are durable room events (``member.joined`` / ``member.left``) that take the room's
next seq in the same transaction as the membership change.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.domain.ids import new_room_id
from chatterbox.store import tables as t
from chatterbox.store.errors import AlreadyMember, NotMember, RoomNotFound, UserNotFound
from chatterbox.store.records import (
    MemberRecord,
    MembershipRecord,
    PublicRoomRecord,
    Role,
    RoomEventRecord,
    RoomKind,
    RoomRecord,
    UserRoomRecord,
    dm_key,
)
from chatterbox.store.sql_base import (
    SqlBase,
    exists,
    insert_ignore,
    next_seq,
    row_to_membership,
    row_to_room,
    row_to_user,
    write_event,
)

__all__ = ["DM_ROOM_NAME", "RoomsMixin"]

DM_ROOM_NAME = "dm"
"""Stored name of DM rooms; the layer above shows the other participant's display name instead."""

_ROLES = ("owner", "admin", "member")


async def _get_room(conn: AsyncConnection, room_id: str) -> RoomRecord | None:
    row = (await conn.execute(select(t.rooms).where(t.rooms.c.id == room_id))).mappings().first()
    return None if row is None else row_to_room(row)


async def _join(
    conn: AsyncConnection, room_id: str, user_id: str, role: Role, by: str | None, at: int
) -> RoomEventRecord:
    """Allocate a seq, insert the membership and its member.joined event (caller validated)."""
    seq = await next_seq(conn, room_id)
    await conn.execute(
        insert(t.memberships).values(room_id=room_id, user_id=user_id, role=role, joined_at=at)
    )
    return await write_event(
        conn,
        room_id=room_id,
        seq=seq,
        kind="member.joined",
        at=at,
        user_id=user_id,
        payload={"role": role, "by": by},
    )


def _check_role(role: str) -> None:
    if role not in _ROLES:
        raise ValueError(f"role must be one of {_ROLES}, not {role!r}")


class RoomsMixin(SqlBase):
    """Rooms, DMs, memberships."""

    async def create_room(
        self,
        kind: RoomKind,
        name: str,
        topic: str | None,
        created_by: str | None,
        owner_id: str,
    ) -> RoomRecord:
        """Create a public or private room with ``owner_id`` as owner (member.joined, seq 1)."""
        if kind not in ("public", "private"):
            raise ValueError("create_room makes public or private rooms; use get_or_create_dm")

        async def job(conn: AsyncConnection) -> RoomRecord:
            if not await exists(conn, t.users, id=owner_id):
                raise UserNotFound(owner_id)
            at = self._clock()
            room_id = new_room_id()
            await conn.execute(
                insert(t.rooms).values(
                    id=room_id,
                    kind=kind,
                    name=name,
                    topic=topic,
                    created_by=created_by,
                    created_at=at,
                    last_seq=0,
                )
            )
            event = await _join(conn, room_id, owner_id, "owner", created_by, at)
            return RoomRecord(room_id, kind, name, topic, created_by, at, event.seq, None)

        return await self._write(job)

    async def get_room(self, room_id: str) -> RoomRecord | None:
        """The room, or None."""
        return await self._read(lambda conn: _get_room(conn, room_id))

    async def list_public_rooms(self) -> list[PublicRoomRecord]:
        """Every public room with its member count, by name: one statement for all rooms.

        The counts come from a grouped subquery over the memberships of public rooms, outer-joined
        so that a room without members is listed with 0.
        """

        async def q(conn: AsyncConnection) -> list[PublicRoomRecord]:
            r, m = t.rooms, t.memberships
            counts = (
                select(m.c.room_id, func.count().label("n"))
                .join(r, r.c.id == m.c.room_id)
                .where(r.c.kind == "public")
                .group_by(m.c.room_id)
                .subquery("member_counts")
            )
            stmt = (
                select(r, func.coalesce(counts.c.n, 0).label("member_count"))
                .outerjoin(counts, counts.c.room_id == r.c.id)
                .where(r.c.kind == "public")
                .order_by(r.c.name, r.c.id)
            )
            return [
                PublicRoomRecord(row_to_room(row), int(row["member_count"]))
                for row in (await conn.execute(stmt)).mappings()
            ]

        return await self._read(q)

    async def list_user_rooms(self, user_id: str) -> list[UserRoomRecord]:
        """The rooms the user belongs to (with role and the room's ``last_seq``), oldest membership first."""

        async def q(conn: AsyncConnection) -> list[UserRoomRecord]:
            m = t.memberships
            stmt = (
                select(t.rooms, m.c.role, m.c.joined_at)
                .join(m, m.c.room_id == t.rooms.c.id)
                .where(m.c.user_id == user_id)
                .order_by(m.c.joined_at, t.rooms.c.id)
            )
            return [
                UserRoomRecord(row_to_room(r), r["role"], r["joined_at"])
                for r in (await conn.execute(stmt)).mappings()
            ]

        return await self._read(q)

    async def get_or_create_dm(self, user_a: str, user_b: str) -> tuple[RoomRecord, bool]:
        """The one DM room of the two users, created (both as members) if needed; ``(room, created)``.

        Race-safe across processes too: the unique ``dm_key`` decides who creates it.
        """
        if user_a == user_b:
            raise ValueError("a DM needs two different users")
        key = dm_key(user_a, user_b)

        async def find(conn: AsyncConnection) -> RoomRecord | None:
            row = (
                (await conn.execute(select(t.rooms).where(t.rooms.c.dm_key == key)))
                .mappings()
                .first()
            )
            return None if row is None else row_to_room(row)

        async def job(conn: AsyncConnection) -> tuple[RoomRecord, bool]:
            found = await find(conn)
            if found is not None:
                return found, False
            for user_id in (user_a, user_b):
                if not await exists(conn, t.users, id=user_id):
                    raise UserNotFound(user_id)
            at = self._clock()
            room_id = new_room_id()
            values = {
                "id": room_id,
                "kind": "dm",
                "name": DM_ROOM_NAME,
                "topic": None,
                "created_by": user_a,
                "created_at": at,
                "last_seq": 0,
                "dm_key": key,
            }
            if not await insert_ignore(conn, t.rooms, values, ["dm_key"]):
                raced = await find(conn)  # created by another process meanwhile
                assert raced is not None
                return raced, False
            last = 0
            for user_id in sorted((user_a, user_b)):
                last = (await _join(conn, room_id, user_id, "member", user_a, at)).seq
            return RoomRecord(room_id, "dm", DM_ROOM_NAME, None, user_a, at, last, key), True

        existing = await self._read(find)
        if existing is not None:
            return existing, False
        return await self._write(job)

    async def ensure_default_room(
        self, room_id: str = "r_general", name: str = "general"
    ) -> RoomRecord:
        """Create the public default room if it does not exist (no owner, ``last_seq`` 0); return it."""

        async def job(conn: AsyncConnection) -> RoomRecord:
            values = {
                "id": room_id,
                "kind": "public",
                "name": name,
                "topic": None,
                "created_by": None,
                "created_at": self._clock(),
                "last_seq": 0,
            }
            await insert_ignore(conn, t.rooms, values, ["id"])
            room = await _get_room(conn, room_id)
            assert room is not None
            return room

        return await self._write(job)

    async def add_member(
        self, room_id: str, user_id: str, role: Role = "member", by: str | None = None
    ) -> RoomEventRecord:
        """Add the user to the room; returns its ``member.joined`` event (the room's next seq).

        Raises :class:`AlreadyMember`, :class:`RoomNotFound` or :class:`UserNotFound`.
        """
        _check_role(role)

        async def job(conn: AsyncConnection) -> RoomEventRecord:
            if await exists(conn, t.memberships, room_id=room_id, user_id=user_id):
                raise AlreadyMember(f"{user_id} in {room_id}")
            if not await exists(conn, t.users, id=user_id):
                raise UserNotFound(user_id)
            return await _join(conn, room_id, user_id, role, by, self._clock())

        return await self._write(job, rooms=(room_id,))

    async def remove_member(
        self, room_id: str, user_id: str, reason: str | None = None, by: str | None = None
    ) -> RoomEventRecord:
        """Remove the user from the room; returns its ``member.left`` event (the room's next seq).

        ``reason`` is free text such as ``'left'``, ``'kicked'``; raises :class:`NotMember`.
        """

        async def job(conn: AsyncConnection) -> RoomEventRecord:
            if not await exists(conn, t.memberships, room_id=room_id, user_id=user_id):
                raise NotMember(f"{user_id} in {room_id}")
            seq = await next_seq(conn, room_id)
            await conn.execute(
                delete(t.memberships).where(
                    t.memberships.c.room_id == room_id, t.memberships.c.user_id == user_id
                )
            )
            return await write_event(
                conn,
                room_id=room_id,
                seq=seq,
                kind="member.left",
                at=self._clock(),
                user_id=user_id,
                payload={"reason": reason, "by": by},
            )

        return await self._write(job, rooms=(room_id,))

    async def set_role(self, room_id: str, user_id: str, role: Role) -> MembershipRecord:
        """Change a member's role (not a room event); raises :class:`NotMember`."""
        _check_role(role)

        async def job(conn: AsyncConnection) -> MembershipRecord:
            m = t.memberships
            where = (m.c.room_id == room_id) & (m.c.user_id == user_id)
            result = await conn.execute(update(m).where(where).values(role=role))
            if result.rowcount == 0:
                raise NotMember(f"{user_id} in {room_id}")
            row = (await conn.execute(select(m).where(where))).mappings().one()
            return row_to_membership(row)

        return await self._write(job)

    async def get_membership(self, room_id: str, user_id: str) -> MembershipRecord | None:
        """The user's membership of the room, or None."""

        async def q(conn: AsyncConnection) -> MembershipRecord | None:
            m = t.memberships
            stmt = select(m).where(m.c.room_id == room_id, m.c.user_id == user_id)
            row = (await conn.execute(stmt)).mappings().first()
            return None if row is None else row_to_membership(row)

        return await self._read(q)

    async def list_members(self, room_id: str) -> list[MemberRecord]:
        """The room's members with their user records, in joining order; raises :class:`RoomNotFound`."""

        async def q(conn: AsyncConnection) -> list[MemberRecord]:
            m = t.memberships
            stmt = (
                select(
                    m.c.room_id,
                    m.c.user_id,
                    m.c.role,
                    m.c.joined_at,
                    t.users.c.id,
                    t.users.c.username,
                    t.users.c.display_name,
                    t.users.c.created_at,
                )
                .join(t.users, t.users.c.id == m.c.user_id)
                .where(m.c.room_id == room_id)
                .order_by(m.c.joined_at, m.c.user_id)
            )
            rows = list((await conn.execute(stmt)).mappings())
            if not rows and not await exists(conn, t.rooms, id=room_id):
                raise RoomNotFound(room_id)
            return [MemberRecord(row_to_membership(r), row_to_user(r)) for r in rows]

        return await self._read(q)
