"""Message use cases: send, edit, delete — permission, commit, then the committed event.

The caller (the WebSocket dispatcher) passes the actor's current access to each room (from the
hub's membership cache, kept current by membership events) so that the common path — a member
posting — costs no read before the append. Each durable change is published through the
:class:`~chatterbox.service.notifier.Notifier` **after** its commit and before the method returns
(or, for :meth:`Messaging.send_nowait`, before its callback runs), so the caller's ``ack`` follows
both the commit and the broadcast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from chatterbox.domain import permissions
from chatterbox.domain.permissions import Action
from chatterbox.service.directory import UserDirectory
from chatterbox.service.notifier import Notifier
from chatterbox.service.views import message_view
from chatterbox.store.base import Store
from chatterbox.store.errors import MessageDeleted, MessageNotFound, RoomNotFound
from chatterbox.store.records import MessageRecord, Role, RoomKind, UserRecord

__all__ = ["Access", "AccessLookup", "CommandError", "ErrorCode", "Messaging", "SendReply"]

JSON = dict[str, Any]

ErrorCode = Literal[
    "invalid_json",
    "invalid_frame",
    "unknown_type",
    "frame_too_large",
    "binary_frame",
    "duplicate_id",
    "forbidden",
    "not_found",
    "conflict",
    "message_deleted",
    "invalid_receipt",
    "rate_limited",
    "internal_error",
    "unavailable",
]
"""``schema/common/error_code.json``."""


class CommandError(Exception):
    """A command failed with a protocol error ``code`` (answered with an ``error`` frame)."""

    def __init__(self, code: ErrorCode, message: str, *, pointer: str | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        """The protocol error code."""
        self.message = message
        """Human explanation."""
        self.pointer = pointer
        """JSON pointer of the offending field (``invalid_frame`` only)."""


@dataclass(frozen=True, slots=True)
class Access:
    """The actor's membership of one room, as the caller currently knows it."""

    role: Role
    """The actor's role."""
    kind: RoomKind | None
    """The room's kind (None: not known yet)."""


AccessLookup = Callable[[str], Access | None]
"""Room id → the actor's access, or None when not a member."""

SendReply = Callable[[tuple[JSON, bool] | BaseException], None]
"""The callback of :meth:`Messaging.send_nowait`: ``(message view, created)`` or the error."""


class Messaging:
    """``message.send`` / ``message.edit`` / ``message.delete``."""

    def __init__(self, *, store: Store, users: UserDirectory, notifier: Notifier) -> None:
        self._store = store
        self._users = users
        self._notifier = notifier

    async def _refuse_room(self, room_id: str) -> CommandError:
        room = await self._store.get_room(room_id)
        if room is None or room.kind != "public":
            return CommandError("not_found", "No such room")
        return CommandError("forbidden", "Join the room before posting in it")

    def _may_post(self, access: Access | None) -> bool:
        return (
            access is not None
            and permissions.decide(
                Action.POST, room_kind=access.kind or "public", role=access.role
            ).allowed
        )

    async def send(
        self,
        actor: UserRecord,
        access: Access | None,
        room_id: str,
        body: str,
        client_msg_id: str,
    ) -> tuple[JSON, bool]:
        """Store and publish a message; returns ``(message view, created)``.

        A resend (same author and ``client_msg_id``, same room and body) returns the original and
        publishes nothing; the same key for another room or body is a ``conflict``.
        """
        if not self._may_post(access):
            raise await self._refuse_room(room_id)
        try:
            stored = await self._store.append_message(room_id, actor.id, body, client_msg_id)
        except RoomNotFound:
            raise CommandError("not_found", "No such room") from None
        return self._sent(actor, room_id, body, stored)

    def send_nowait(
        self,
        actor: UserRecord,
        access: Access | None,
        room_id: str,
        body: str,
        client_msg_id: str,
        reply: SendReply,
    ) -> bool:
        """:meth:`send` without awaiting, for the hot path: ``reply`` gets ``(view, created)`` or
        the error (a :class:`CommandError`, or any other exception) after the commit and the
        publication. Returns False, having done nothing, when only :meth:`send` can serve the
        command now (a refusal that needs a read to word it, or a busy store)."""
        if not self._may_post(access):
            return False

        def stored(result: tuple[MessageRecord, bool] | BaseException) -> None:
            if isinstance(result, BaseException):
                if isinstance(result, RoomNotFound):
                    result = CommandError("not_found", "No such room")
                reply(result)
                return
            try:
                sent = self._sent(actor, room_id, body, result)
            except CommandError as exc:
                reply(exc)
                return
            reply(sent)

        return self._store.append_message_nowait(room_id, actor.id, body, client_msg_id, stored)

    def _sent(
        self, actor: UserRecord, room_id: str, body: str, stored: tuple[MessageRecord, bool]
    ) -> tuple[JSON, bool]:
        """After the append: a resend's answer (or ``conflict``), or publish the new message."""
        message, created = stored
        if not created:
            same_body = message.deleted_at is not None or message.body == body
            if message.room_id != room_id or not same_body:
                raise CommandError("conflict", "client_msg_id already used for another message")
            return message_view(message, actor), False
        view = message_view(message, actor)
        self._notifier.room_event(
            room_id,
            {"type": "message.created", "room_id": room_id, "seq": message.seq, "message": view},
        )
        return view, True

    async def _readable(self, message_id: str, access: AccessLookup) -> MessageRecord:
        message = await self._store.get_message(message_id)
        if message is None or access(message.room_id) is None:
            raise CommandError("not_found", "No such message")
        return message

    async def _author(self, message: MessageRecord) -> UserRecord:
        author = await self._users.get(message.author_id)
        if author is None:  # pragma: no cover - authors are never deleted
            raise CommandError("internal_error", "Unknown author")
        return author

    async def edit(
        self, actor: UserRecord, access: AccessLookup, message_id: str, body: str
    ) -> JSON:
        """Replace the body of the actor's message; returns the updated message view."""
        message = await self._readable(message_id, access)
        if message.deleted_at is not None:
            raise CommandError("message_deleted", "The message is deleted")
        room_access = access(message.room_id)
        assert room_access is not None
        if not permissions.decide(
            Action.EDIT,
            room_kind=room_access.kind or "private",
            role=room_access.role,
            is_author=message.author_id == actor.id,
        ).allowed:
            raise CommandError("forbidden", "Only the author may edit a message")
        author = await self._author(message)
        if message.body == body:
            return message_view(message, author)
        try:
            updated, seq = await self._store.edit_message(message_id, body)
        except MessageDeleted:
            raise CommandError("message_deleted", "The message is deleted") from None
        except MessageNotFound:
            raise CommandError("not_found", "No such message") from None
        view = message_view(updated, author)
        self._notifier.room_event(
            updated.room_id,
            {"type": "message.updated", "room_id": updated.room_id, "seq": seq, "message": view},
        )
        return view

    async def delete(self, actor: UserRecord, access: AccessLookup, message_id: str) -> JSON:
        """Delete a message (author, or a room owner/admin); returns the placeholder view."""
        message = await self._readable(message_id, access)
        author = await self._author(message)
        if message.deleted_at is not None:
            return message_view(message, author)
        is_author = message.author_id == actor.id
        if not is_author:
            room = await self._store.get_room(message.room_id)
            membership = await self._store.get_membership(message.room_id, actor.id)
            if room is None or membership is None:
                raise CommandError("not_found", "No such message")
            if not permissions.decide(
                Action.DELETE, room_kind=room.kind, role=membership.role, is_author=False
            ).allowed:
                raise CommandError(
                    "forbidden", "Only the author or a room admin may delete a message"
                )
        try:
            deleted, seq = await self._store.delete_message(message_id, by=actor.id)
        except MessageDeleted:
            current = await self._store.get_message(message_id)
            return message_view(current or message, author)
        except MessageNotFound:
            raise CommandError("not_found", "No such message") from None
        view = message_view(deleted, author)
        self._notifier.room_event(
            deleted.room_id,
            {"type": "message.deleted", "room_id": deleted.room_id, "seq": seq, "message": view},
        )
        return view
