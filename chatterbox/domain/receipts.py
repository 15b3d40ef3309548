"""Read receipts: validating a ``receipt`` command, coalescing marker broadcasts, message status.

A marker says "delivered up to" / "seen up to" a message, by the ``seq`` of that message; it
covers that message and every earlier one, and only ever moves forward. Seen implies delivered,
so the stored invariant is ``delivered_seq >= seen_seq``.

Decisions (:func:`validate_receipt`):

- Checks run in this order and the first failure wins: ``not_member`` (the sender cannot read the
  room — the same ``read`` rule as history and fan-out), ``unknown_message``, ``other_room``,
  ``deleted``, ``own_message``, ``backwards``. All map to the ``invalid_receipt`` error code.
- A receipt *equal* to the current marker is an idempotent no-op (acked, nothing stored, nothing
  broadcast: a client may resend after a reconnect). One strictly *below* the current marker is
  the ``backwards`` error; clients with several tabs can hit it in a benign race and may ignore it.
- ``seen`` also moves ``delivered`` up to the same message when it is behind; ``delivered`` never
  touches ``seen``.

:class:`ReceiptCoalescer` sends at most one ``receipt`` frame per room per interval: the first
change after a quiet interval is due at once (low latency for the common case), later ones wait
until one interval after the previous flush. Per (user, state) only the furthest marker is kept.

:func:`message_status` answers, for an author's message, "delivered to / seen by all other
members?". With no other member both are false (there is nobody to see it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Literal

__all__ = [
    "ERROR_CODE",
    "CurrentMarkers",
    "Marker",
    "MarkerMove",
    "MessageStatus",
    "ReceiptCoalescer",
    "ReceiptError",
    "ReceiptReason",
    "ReceiptState",
    "TargetMessage",
    "message_status",
    "validate_receipt",
]

ReceiptState = Literal["delivered", "seen"]
"""The ``ReceiptState`` schema enum."""

ReceiptReason = Literal[
    "not_member", "unknown_message", "other_room", "own_message", "deleted", "backwards"
]
"""Why a receipt was refused (reported with the ``invalid_receipt`` error code)."""

ERROR_CODE: Final = "invalid_receipt"
"""The protocol error code for every refused receipt."""


@dataclass(frozen=True, slots=True)
class TargetMessage:
    """The message a receipt names, as found in the store."""

    id: str
    """Message id."""
    room_id: str
    """The room it belongs to."""
    author_id: str
    """Its author."""
    seq: int
    """The seq of its creation event."""
    deleted: bool = False
    """Whether it has been deleted."""


@dataclass(frozen=True, slots=True)
class CurrentMarkers:
    """A user's stored markers in a room (0 = nothing yet)."""

    delivered_seq: int = 0
    """Delivered up to this seq."""
    seen_seq: int = 0
    """Seen up to this seq."""


@dataclass(frozen=True, slots=True)
class MarkerMove:
    """A marker to store: ``state`` moves up to message ``message_id`` at ``seq``."""

    state: ReceiptState
    """Which marker."""
    message_id: str
    """The message it now points at."""
    seq: int
    """That message's seq."""
    prev_seq: int = 0
    """Where the marker was (it newly covers the messages after this seq, up to ``seq``)."""


@dataclass(frozen=True, slots=True)
class ReceiptError:
    """A refused receipt."""

    reason: ReceiptReason
    """Precise reason."""
    code: str = ERROR_CODE
    """The protocol error code (always ``invalid_receipt``)."""


def validate_receipt(
    *,
    sender_id: str,
    room_id: str,
    state: ReceiptState,
    can_read: bool,
    message: TargetMessage | None,
    current: CurrentMarkers,
) -> ReceiptError | list[MarkerMove]:
    """Validate a ``receipt`` command; returns the error or the marker moves (maybe none).

    ``room_id`` is the room the command names, ``message`` the message it names (``None`` when no
    such message exists), ``can_read`` the permission ``read`` decision for the sender.
    """
    if not can_read:
        return ReceiptError("not_member")
    if message is None:
        return ReceiptError("unknown_message")
    if message.room_id != room_id:
        return ReceiptError("other_room")
    if message.deleted:
        return ReceiptError("deleted")
    if message.author_id == sender_id:
        return ReceiptError("own_message")
    delivered = max(current.delivered_seq, current.seen_seq)
    mine = current.seen_seq if state == "seen" else delivered
    if message.seq < mine:
        return ReceiptError("backwards")
    moves: list[MarkerMove] = []
    if message.seq > delivered:
        moves.append(MarkerMove("delivered", message.id, message.seq, delivered))
    if state == "seen" and message.seq > current.seen_seq:
        moves.append(MarkerMove("seen", message.id, message.seq, current.seen_seq))
    return moves


@dataclass(frozen=True, slots=True)
class Marker:
    """A marker change to broadcast (the ``ReceiptMarker`` schema, time in ms)."""

    user_id: str
    """Whose marker."""
    room_id: str
    """In which room."""
    state: ReceiptState
    """Which marker."""
    message_id: str
    """Up to which message."""
    seq: int
    """That message's seq."""
    at_ms: int
    """When it moved."""
    prev_seq: int = 0
    """Where it was before (not sent): the move newly covers the messages in ``(prev_seq, seq]``,
    whose authors are told (:mod:`chatterbox.domain.receipt_audience`)."""
    origin: str | None = None
    """The connection that made the move (a token unique across processes), whose ``ack`` already
    carried the marker; ``None`` when unknown or merged from moves of several connections."""


@dataclass(slots=True)
class _RoomBuffer:
    last_flush_ms: int | None = None
    due_ms: int | None = None
    pending: dict[tuple[str, ReceiptState], Marker] = field(default_factory=dict)


class ReceiptCoalescer:
    """Collects marker changes and releases at most one batch per room per ``interval_ms``."""

    def __init__(self, interval_ms: int) -> None:
        if interval_ms < 0:
            raise ValueError("interval_ms must be >= 0")
        self.interval_ms: Final = interval_ms
        """Least time between two batches of the same room."""
        self._rooms: dict[str, _RoomBuffer] = {}

    def add(self, room_id: str, marker: Marker, now_ms: int) -> None:
        """Queue ``marker`` for ``room_id``; the furthest marker per (user, state) wins."""
        buf = self._rooms.setdefault(room_id, _RoomBuffer())
        key = (marker.user_id, marker.state)
        old = buf.pending.get(key)
        if old is None:
            buf.pending[key] = marker
        else:  # the furthest marker, covering everything both moves covered
            newest = marker if marker.seq >= old.seq else old
            prev = min(old.prev_seq, marker.prev_seq)
            origin = newest.origin if old.origin == marker.origin else None
            if (newest.prev_seq, newest.origin) != (prev, origin):
                newest = replace(newest, prev_seq=prev, origin=origin)
            buf.pending[key] = newest
        if buf.due_ms is None:
            last = buf.last_flush_ms
            if last is None or now_ms - last >= self.interval_ms:
                buf.due_ms = now_ms
            else:
                buf.due_ms = last + self.interval_ms

    def due(self, now_ms: int) -> list[tuple[str, list[Marker]]]:
        """Take every batch that is due at ``now_ms``: ``(room_id, markers)``, markers by seq."""
        out: list[tuple[str, list[Marker]]] = []
        for room_id, buf in list(self._rooms.items()):
            if buf.due_ms is not None and buf.due_ms <= now_ms:
                markers = sorted(buf.pending.values(), key=lambda m: (m.seq, m.user_id, m.state))
                out.append((room_id, markers))
                buf.pending.clear()
                buf.due_ms = None
                buf.last_flush_ms = now_ms
            elif buf.due_ms is None and (
                buf.last_flush_ms is None or now_ms - buf.last_flush_ms >= self.interval_ms
            ):
                del self._rooms[room_id]  # idle: forget it, the next add is due at once anyway
        return out

    def next_due_ms(self) -> int | None:
        """When the earliest pending batch is due (for the caller's timer); ``None`` if none."""
        dues = [b.due_ms for b in self._rooms.values() if b.due_ms is not None]
        return min(dues) if dues else None

    def __len__(self) -> int:
        """Number of rooms with a pending batch."""
        return sum(1 for b in self._rooms.values() if b.due_ms is not None)


@dataclass(frozen=True, slots=True)
class MessageStatus:
    """Receipt status of one message as its author sees it."""

    delivered_to_all: bool
    """Every other member's delivered marker covers it (false with no other member)."""
    seen_by_all: bool
    """Every other member's seen marker covers it (false with no other member)."""
    delivered_to: tuple[str, ...]
    """Other members it was delivered to, in member-list order."""
    seen_by: tuple[str, ...]
    """Other members who have seen it, in member-list order."""


def message_status(
    *,
    author_id: str,
    message_seq: int,
    member_ids: Iterable[str],
    markers: Mapping[str, CurrentMarkers],
) -> MessageStatus:
    """Who, among the room's other current members, has received and seen the message."""
    others = [m for m in dict.fromkeys(member_ids) if m != author_id]
    delivered: list[str] = []
    seen: list[str] = []
    for member in others:
        mk = markers.get(member, CurrentMarkers())
        if max(mk.delivered_seq, mk.seen_seq) >= message_seq:
            delivered.append(member)
        if mk.seen_seq >= message_seq:
            seen.append(member)
    return MessageStatus(
        delivered_to_all=bool(others) and len(delivered) == len(others),
        seen_by_all=bool(others) and len(seen) == len(others),
        delivered_to=tuple(delivered),
        seen_by=tuple(seen),
    )
