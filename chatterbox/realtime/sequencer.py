"""Per-room ordering of durable events before fan-out (pure: no I/O, time passed in).

Events reach the hub from several coroutines (message sends, REST membership changes, another
process through the broker) and can arrive out of ``seq`` order. :class:`Sequencer` releases each
room's events strictly in order: an event beyond the next expected ``seq`` waits until the gap is
filled, or until ``gap_timeout_ms`` has passed, when the hub reads the missing events from the
store (:meth:`Sequencer.overdue`) and feeds them in. An event at or below the last released
``seq`` is a duplicate and is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Sequencer"]

T = TypeVar("T")


@dataclass(slots=True)
class _Room(Generic[T]):
    released: int
    pending: dict[int, T] = field(default_factory=dict)


class Sequencer(Generic[T]):
    """In-order release of per-room items keyed by ``seq``."""

    def __init__(self, gap_timeout_ms: int) -> None:
        self.gap_timeout_ms = gap_timeout_ms
        """How long a gap may stay open before :meth:`overdue` reports it."""
        self._rooms: dict[str, _Room[T]] = {}
        self._gaps: dict[str, int] = {}
        """Since when each room with an open gap has had it (timers look at these only)."""

    def _gap(self, room_id: str, room: _Room[T], now_ms: int) -> None:
        """The room's gap state after a change: open since ``now_ms`` if events are pending."""
        if room.pending:
            self._gaps[room_id] = now_ms
        else:
            self._gaps.pop(room_id, None)

    def released(self, room_id: str) -> int:
        """The last ``seq`` released for the room (0 if none known)."""
        room = self._rooms.get(room_id)
        return 0 if room is None else room.released

    def seed(self, room_id: str, seq: int) -> None:
        """Declare that every event up to ``seq`` is already known (no-op if already tracked)."""
        if room_id not in self._rooms:
            self._rooms[room_id] = _Room(seq)

    def offer(self, room_id: str, seq: int, item: T, now_ms: int) -> list[T]:
        """Add an event; returns the items now releasable, in ``seq`` order."""
        room = self._rooms.get(room_id)
        if room is None:
            room = self._rooms[room_id] = _Room(seq - 1)
        if seq <= room.released or seq in room.pending:
            return []
        if seq != room.released + 1:
            room.pending[seq] = item
            self._gaps.setdefault(room_id, now_ms)
            return []
        out = [item]
        room.released = seq
        while room.pending:
            nxt = room.pending.pop(room.released + 1, None)
            if nxt is None:
                break
            out.append(nxt)
            room.released += 1
        self._gap(room_id, room, now_ms)
        return out

    def overdue(self, now_ms: int) -> list[tuple[str, int, int]]:
        """Rooms whose gap is older than the timeout: ``(room_id, after_seq, first_pending_seq)``."""
        out: list[tuple[str, int, int]] = []
        for room_id, since in self._gaps.items():
            room = self._rooms[room_id]
            if now_ms - since >= self.gap_timeout_ms:
                out.append((room_id, room.released, min(room.pending)))
        return out

    def skip_to(self, room_id: str, seq: int, now_ms: int) -> list[T]:
        """Give up on events up to ``seq`` - 1 (never found); returns what becomes releasable."""
        room = self._rooms.get(room_id)
        if room is None or seq - 1 <= room.released:
            return []
        room.released = seq - 1
        for old in [s for s in room.pending if s <= room.released]:
            del room.pending[old]
        first = room.pending.pop(seq, None)
        if first is None:
            self._gap(room_id, room, now_ms)
            return []
        return self.offer(room_id, seq, first, now_ms)

    def next_deadline_ms(self) -> int | None:
        """When the oldest open gap times out; None if no gap is open."""
        return min(self._gaps.values()) + self.gap_timeout_ms if self._gaps else None
