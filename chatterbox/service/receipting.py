"""The ``receipt`` use case: validate against the stored state, move markers forward, report.

Validation is :func:`chatterbox.domain.receipts.validate_receipt` (member who can read, message in
that room, not own, not deleted, never backwards); nothing is stored or broadcast for a refused
receipt. The caller hands the moved markers to the hub's coalescer.
"""

from __future__ import annotations

from typing import Any

from chatterbox.domain import clock
from chatterbox.domain.receipts import (
    CurrentMarkers,
    Marker,
    ReceiptError,
    ReceiptState,
    TargetMessage,
    validate_receipt,
)
from chatterbox.service.messaging import Access, CommandError
from chatterbox.service.views import marker_view
from chatterbox.store.base import Store
from chatterbox.store.records import ReceiptContext, ReceiptRecord

__all__ = ["Receipts", "marker_json"]

JSON = dict[str, Any]

_REASONS = {
    "not_member": "You cannot read this room",
    "unknown_message": "No such message",
    "other_room": "The message is not in this room",
    "own_message": "Receipts are for other people's messages",
    "deleted": "The message is deleted",
    "backwards": "Your marker is already past this message",
}


_NOTHING = ReceiptContext(message=None, delivered=None, seen=None)
"""What a sender who cannot read the room is told of it."""


def marker_json(marker: Marker) -> JSON:
    """``ReceiptMarker`` of a domain marker."""
    return {
        "user_id": marker.user_id,
        "room_id": marker.room_id,
        "state": marker.state,
        "message_id": marker.message_id,
        "seq": marker.seq,
        "at": clock.format_ms(marker.at_ms),
    }


class Receipts:
    """Validates and stores receipt markers."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def apply(
        self,
        user_id: str,
        access: Access | None,
        room_id: str,
        message_id: str,
        state: ReceiptState,
    ) -> tuple[JSON, list[Marker]]:
        """Returns ``(the marker now in force for state, the markers that moved)``."""
        can_read = access is not None
        # Only a reader learns anything about the message (not_member is checked first).
        context = (
            await self._store.receipt_context(room_id, user_id, message_id)
            if can_read
            else _NOTHING
        )
        message, delivered, seen = context.message, context.delivered, context.seen
        target = (
            None
            if message is None
            else TargetMessage(
                id=message.id,
                room_id=message.room_id,
                author_id=message.author_id,
                seq=message.seq,
                deleted=message.deleted_at is not None,
            )
        )
        current = CurrentMarkers(
            delivered_seq=0 if delivered is None else delivered.seq,
            seen_seq=0 if seen is None else seen.seq,
        )
        result = validate_receipt(
            sender_id=user_id,
            room_id=room_id,
            state=state,
            can_read=can_read,
            message=target,
            current=current,
        )
        if isinstance(result, ReceiptError):
            raise CommandError("invalid_receipt", _REASONS[result.reason])
        now = clock.now_ms()
        moved: list[Marker] = []
        for move in result:
            if await self._store.upsert_receipt(
                room_id, user_id, move.state, move.message_id, move.seq, now
            ):
                moved.append(
                    Marker(
                        user_id, room_id, move.state, move.message_id, move.seq, now, move.prev_seq
                    )
                )
        for marker in moved:
            if marker.state == state:
                return marker_json(marker), moved
        stored: ReceiptRecord | None = await self._store.get_receipt(room_id, user_id, state)
        if stored is None:  # pragma: no cover - validated above, so a marker exists
            raise CommandError("internal_error", "Marker not found after update")
        return marker_view(stored), moved
