"""Rooms, memberships, DMs and history: the use cases behind ``/api/rooms`` and ``/api/dm``.

Every decision is :mod:`chatterbox.domain.permissions`'s, asked with the actor's *current* role.
What this module adds is presentation of refusals:

- A room the actor cannot read and that is not public (a private room or a DM they are not in) is
  reported as **not found** (404), so its existence is not confirmed; public rooms are listed
  anyway, so a non-member gets the permission module's reason (403 ``not_member``).
- Joining is the exception, as specified: a private room answers 403 ``invite_required`` (its id is
  103 random bits, so knowing it already means someone shared it); a DM still answers 404.
- ``already_member`` is a conflict (409), ``target_not_member`` a missing member (404); every other
  refusal is a 403 whose ``code`` is the permission module's reason.

Committed membership changes are announced through the :class:`~chatterbox.service.notifier.Notifier`:
on a join, ``membership_changed`` first (so the newcomer's connections subscribe and receive their
own ``member.joined``), then ``room_event``; on a leave or removal, ``room_event`` first (the leaver
still sees it), then ``membership_changed``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Final, Literal

from chatterbox.domain.days import UnknownTimeZone, resolve_zone
from chatterbox.domain.permissions import (
    Action,
    PermissionDenied,
    Reason,
    Target,
    decide,
    require,
)
from chatterbox.service.directory import UserDirectory
from chatterbox.service.errors import (
    ConflictError,
    Forbidden,
    InvalidInput,
    NotFoundError,
)
from chatterbox.service.notifier import Notifier
from chatterbox.service.views import (
    UNREAD_CAP,
    InvalidCursor,
    decode_cursor,
    history_page_view,
    member_view,
    membership_frame,
    room_view,
)
from chatterbox.store.base import Store
from chatterbox.store.errors import AlreadyMember, NotMember
from chatterbox.store.records import (
    MemberRecord,
    MembershipRecord,
    Role,
    RoomEventRecord,
    RoomRecord,
    UserRecord,
)

__all__ = [
    "HISTORY_DEFAULT_LIMIT",
    "HISTORY_MAX_LIMIT",
    "ROOM_NAME_MAX",
    "TOPIC_MAX",
    "RoomService",
    "check_room_name",
    "check_topic",
]

JSON = dict[str, Any]

ROOM_NAME_MAX: Final = 80
"""Longest room name, in code points (``schema/common/room.json``)."""
TOPIC_MAX: Final = 250
"""Longest topic, in code points."""
HISTORY_MAX_LIMIT: Final = 100
"""Most messages per history page."""
HISTORY_DEFAULT_LIMIT: Final = 50
"""Messages per history page when the client does not say."""

_MESSAGES: Final[dict[Reason, str]] = {
    "not_member": "You are not a member of this room.",
    "not_author": "Only the author may do this.",
    "requires_admin": "Only the room's owners and admins may do this.",
    "requires_owner": "Only the room's owners may do this.",
    "invite_required": "This room is private: you need an invitation.",
    "already_member": "Already a member of this room.",
    "dm_membership_fixed": "The members of a direct conversation cannot change.",
    "last_owner": "You are the last owner: make someone else an owner before leaving.",
    "target_not_member": "That user is not a member of this room.",
    "target_is_self": "You cannot do this to yourself (use leave).",
    "target_outranks": "Admins may only remove plain members.",
}

_ROOM_NOT_FOUND: Final = "No such room."


def _clean_text(value: str, field: str, label: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInput(f"{label} cannot contain control characters.", field=field)
    return unicodedata.normalize("NFC", value).strip()


def check_room_name(name: str) -> str:
    """A room name to store: NFC, stripped, 1–80 code points, no control characters."""
    cleaned = _clean_text(name, "name", "Room names")
    if not cleaned or all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in cleaned):
        raise InvalidInput("Room names cannot be blank.", field="name")
    if len(cleaned) > ROOM_NAME_MAX:
        raise InvalidInput(f"Room names are at most {ROOM_NAME_MAX} characters.", field="name")
    return cleaned


def check_topic(topic: str | None) -> str | None:
    """A topic to store (None or empty → None): NFC, stripped, at most 250 code points."""
    if topic is None:
        return None
    cleaned = _clean_text(topic, "topic", "Topics")
    if len(cleaned) > TOPIC_MAX:
        raise InvalidInput(f"Topics are at most {TOPIC_MAX} characters.", field="topic")
    return cleaned or None


def _denied(exc: PermissionDenied) -> Exception:
    message = _MESSAGES.get(exc.reason, "Not allowed.")
    if exc.reason == "already_member":
        return ConflictError(message, code="already_member")
    if exc.reason == "target_not_member":
        return NotFoundError(message, code="member_not_found")
    return Forbidden(message, code=exc.reason)


def _require(action: Action, room: RoomRecord, role: Role | None, **context: Any) -> None:
    try:
        require(action, room_kind=room.kind, role=role, **context)
    except PermissionDenied as exc:
        raise _denied(exc) from exc


@dataclass(frozen=True, slots=True)
class _Access:
    room: RoomRecord
    role: Role | None


class RoomService:
    """Room use cases for one actor at a time (stateless; cheap to build per request)."""

    def __init__(self, *, store: Store, users: UserDirectory, notifier: Notifier) -> None:
        self._store = store
        self._users = users
        self._notifier = notifier

    # -- helpers --------------------------------------------------------------------------------------

    async def _access(self, user_id: str, room_id: str) -> _Access:
        """The room and the actor's role; 404 unless the room is readable by them or public."""
        room = await self._store.get_room(room_id)
        if room is None:
            raise NotFoundError(_ROOM_NOT_FOUND, code="room_not_found")
        membership = await self._store.get_membership(room_id, user_id)
        role = None if membership is None else membership.role
        if (
            not decide(Action.READ, room_kind=room.kind, role=role).allowed
            and room.kind != "public"
        ):
            raise NotFoundError(_ROOM_NOT_FOUND, code="room_not_found")
        return _Access(room, role)

    async def _view(self, room: RoomRecord, role: Role, user_id: str) -> JSON:
        seen = await self._store.get_receipt(room.id, user_id, "seen")
        unread = await self._store.unread_count(
            room.id, user_id, 0 if seen is None else seen.seq, cap=UNREAD_CAP
        )
        dm_user = None
        if room.kind == "dm":
            peer = room.dm_peer(user_id)
            dm_user = None if peer is None else await self._users.get(peer)
        return room_view(room, role=role, unread_count=unread, dm_user=dm_user)

    async def _announce_join(self, event: RoomEventRecord, user: UserRecord) -> None:
        await self._notifier.membership_changed(event.room_id, user.id, joined=True)
        self._notifier.room_event(event.room_id, membership_frame(event, user))

    async def _announce_leave(self, event: RoomEventRecord, user: UserRecord) -> None:
        self._notifier.room_event(event.room_id, membership_frame(event, user))
        await self._notifier.membership_changed(event.room_id, user.id, joined=False)

    async def _user(self, user_id: str) -> UserRecord:
        user = await self._users.get(user_id)
        if user is None:
            raise NotFoundError("No such user.", code="user_not_found")
        return user

    async def _fresh_room(self, room_id: str) -> RoomRecord:
        room = await self._store.get_room(room_id)
        if room is None:
            raise NotFoundError(_ROOM_NOT_FOUND, code="room_not_found")
        return room

    # -- listing --------------------------------------------------------------------------------------

    async def my_rooms(self, user: UserRecord) -> list[JSON]:
        """The user's rooms, each with role, ``last_seq``, ``unread_count`` and ``dm_user``."""
        return [
            await self._view(r.room, r.role, user.id)
            for r in await self._store.list_user_rooms(user.id)
        ]

    async def public_rooms(self, user: UserRecord) -> list[JSON]:
        """Every public room with its member count and whether the user is in it / may join it."""
        mine = {r.room.id for r in await self._store.list_user_rooms(user.id)}
        out: list[JSON] = []
        for listed in await self._store.list_public_rooms():  # counts included: no query per room
            room = listed.room
            role: Role | None = "member" if room.id in mine else None
            out.append(
                {
                    "id": room.id,
                    "name": room.name,
                    "topic": room.topic,
                    "member_count": listed.member_count,
                    "is_member": room.id in mine,
                    "joinable": decide(Action.JOIN, room_kind=room.kind, role=role).allowed,
                }
            )
        return out

    async def get_room(self, user: UserRecord, room_id: str) -> JSON:
        """One room as the user sees it (members only; others: 404, or 403 for public rooms)."""
        access = await self._access(user.id, room_id)
        _require(Action.READ, access.room, access.role)
        assert access.role is not None
        return await self._view(access.room, access.role, user.id)

    # -- creating, joining, leaving -------------------------------------------------------------------

    async def create_room(
        self, user: UserRecord, kind: Literal["public", "private"], name: str, topic: str | None
    ) -> JSON:
        """Create a public or private room owned by ``user``."""
        room = await self._store.create_room(
            kind, check_room_name(name), check_topic(topic), created_by=user.id, owner_id=user.id
        )
        for event in await self._store.events_since(room.id, 0, limit=10):
            if event.kind == "member.joined" and event.user_id == user.id:
                await self._announce_join(event, user)
        return await self._view(room, "owner", user.id)

    async def join(self, user: UserRecord, room_id: str) -> JSON:
        """Join a public room (``invite_required`` for a private one)."""
        room = await self._store.get_room(room_id)
        membership = None if room is None else await self._store.get_membership(room_id, user.id)
        if room is None or (room.kind == "dm" and membership is None):
            raise NotFoundError(_ROOM_NOT_FOUND, code="room_not_found")
        role = None if membership is None else membership.role
        _require(Action.JOIN, room, role)
        try:
            event = await self._store.add_member(room_id, user.id)
        except AlreadyMember as exc:
            raise ConflictError(_MESSAGES["already_member"], code="already_member") from exc
        await self._announce_join(event, user)
        return await self._view(await self._fresh_room(room_id), "member", user.id)

    async def leave(self, user: UserRecord, room_id: str) -> None:
        """Leave a room (the last owner must hand over first while others remain)."""
        access = await self._access(user.id, room_id)
        members = await self._store.list_members(room_id)
        owners = sum(1 for m in members if m.membership.role == "owner")
        _require(
            Action.LEAVE,
            access.room,
            access.role,
            owner_count=owners,
            member_count=len(members),
        )
        try:
            event = await self._store.remove_member(room_id, user.id, reason="left", by=None)
        except NotMember as exc:
            raise Forbidden(_MESSAGES["not_member"], code="not_member") from exc
        await self._announce_leave(event, user)

    # -- members --------------------------------------------------------------------------------------

    async def members(self, user: UserRecord, room_id: str) -> list[JSON]:
        """The room's members with their roles."""
        access = await self._access(user.id, room_id)
        _require(Action.SEE_MEMBERS, access.room, access.role)
        return [member_view(m) for m in await self._store.list_members(room_id)]

    async def invite(self, user: UserRecord, room_id: str, username: str) -> JSON:
        """Add ``username`` to the room as a member (owners and admins)."""
        access = await self._access(user.id, room_id)
        if access.role is None:
            _require(Action.INVITE, access.room, access.role)
        target = await self._store.get_user_by_username(username)
        if target is None:
            raise NotFoundError("No such user.", code="user_not_found")
        current = await self._store.get_membership(room_id, target.id)
        _require(
            Action.INVITE,
            access.room,
            access.role,
            target=Target(None if current is None else current.role, is_self=target.id == user.id),
        )
        try:
            event = await self._store.add_member(room_id, target.id, "member", by=user.id)
        except AlreadyMember as exc:
            raise ConflictError(_MESSAGES["already_member"], code="already_member") from exc
        await self._announce_join(event, target)
        membership = MembershipRecord(room_id, target.id, "member", event.created_at)
        return member_view(MemberRecord(membership, target))

    async def remove(self, user: UserRecord, room_id: str, target_id: str) -> None:
        """Remove a member (owners: anyone but themselves; admins: plain members)."""
        access = await self._access(user.id, room_id)
        current = await self._store.get_membership(room_id, target_id)
        target_role = None if current is None else current.role
        _require(
            Action.REMOVE_MEMBER,
            access.room,
            access.role,
            target=Target(target_role, is_self=target_id == user.id),
        )
        target = await self._user(target_id)
        try:
            event = await self._store.remove_member(
                room_id, target_id, reason="removed", by=user.id
            )
        except NotMember as exc:
            raise NotFoundError(_MESSAGES["target_not_member"], code="member_not_found") from exc
        await self._announce_leave(event, target)

    async def set_role(self, user: UserRecord, room_id: str, target_id: str, role: Role) -> JSON:
        """Change a member's role (owners only, never their own)."""
        access = await self._access(user.id, room_id)
        current = await self._store.get_membership(room_id, target_id)
        _require(
            Action.CHANGE_ROLE,
            access.room,
            access.role,
            target=Target(None if current is None else current.role, is_self=target_id == user.id),
        )
        target = await self._user(target_id)
        try:
            membership = await self._store.set_role(room_id, target_id, role)
        except NotMember as exc:
            raise NotFoundError(_MESSAGES["target_not_member"], code="member_not_found") from exc
        return member_view(MemberRecord(membership, target))

    # -- history --------------------------------------------------------------------------------------

    async def history(
        self, user: UserRecord, room_id: str, *, before: str | None, limit: int, tz: str
    ) -> JSON:
        """A ``HistoryPage``: up to ``limit`` messages before the cursor, grouped by day in ``tz``."""
        try:
            zone = resolve_zone(tz)
        except UnknownTimeZone as exc:
            raise InvalidInput(str(exc), code="invalid_time_zone", field="tz") from exc
        try:
            before_seq = None if before is None else decode_cursor(before)
        except InvalidCursor as exc:
            raise InvalidInput(
                "This cursor was not issued by this server.", code="invalid_cursor", field="before"
            ) from exc
        if not 1 <= limit <= HISTORY_MAX_LIMIT:
            raise InvalidInput(f"limit is 1 to {HISTORY_MAX_LIMIT}.", field="limit")
        access = await self._access(user.id, room_id)
        _require(Action.READ, access.room, access.role)
        messages, has_more = await self._store.history_page(room_id, before_seq, limit)
        authors = await self._users.get_many({m.author_id for m in messages})
        return history_page_view(room_id, messages, authors, has_more=has_more, zone=zone)

    # -- direct messages ------------------------------------------------------------------------------

    async def open_dm(self, user: UserRecord, username: str) -> tuple[JSON, bool]:
        """The DM room of ``user`` and ``username``, created on first use; ``(room, created)``."""
        peer = await self._store.get_user_by_username(username)
        if peer is None:
            raise NotFoundError("No such user.", code="user_not_found")
        if peer.id == user.id:
            raise InvalidInput(
                "You cannot open a conversation with yourself.", code="dm_self", field="username"
            )
        room, created = await self._store.get_or_create_dm(user.id, peer.id)
        if created:
            people = {user.id: user, peer.id: peer}
            for event in await self._store.events_since(room.id, 0, limit=10):
                member = people.get(event.user_id or "")
                if event.kind == "member.joined" and member is not None:
                    await self._announce_join(event, member)
        membership = await self._store.get_membership(room.id, user.id)
        role: Role = "member" if membership is None else membership.role
        return await self._view(await self._fresh_room(room.id), role, user.id), created
