"""Who is told that receipt markers moved (pure: no I/O).

A marker says "delivered / seen up to ``seq``". When it moves from ``p`` to ``s`` it changes the
receipt status of the messages in ``(p, s]``, which only their authors display (the circle and
"seen by" on one's own messages), and its owner's other devices must follow it (unread counts,
the next receipt to send). Nobody else's view changes. Sending every change to every member costs
a frame per member per change: in a room of N members who all acknowledge a message, N² marker
deliveries per message, and a steady stream of other people's markers to every phone in a large
room. So a ``receipt`` frame goes to the markers' owners and to the authors of the messages the
moves newly cover.

:class:`RecentAuthors` is what makes the authors known without a query: per room, each author's
latest message ``seq`` as the hub fans messages out, and ``complete_after``, the ``seq`` after
which it has seen every message of the room (from the history page of a ``hello``, or from
the first message it fans out). :func:`receipt_deliveries` sends everything
to every member when a move covers messages from before that point: then the authors are not
known. An author whose latest message is after ``p``
is told even if that message is after ``s`` (an earlier one of theirs may be in the range; one
frame too many is harmless, one too few would leave a stale circle).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chatterbox.domain.receipts import Marker

__all__ = ["Delivery", "RecentAuthors", "receipt_deliveries"]


@dataclass(slots=True)
class _Room:
    complete_after: int
    """Every message with a greater seq has been seen."""
    latest: dict[str, int] = field(default_factory=dict)
    """Author → seq of their latest message seen."""

    def saw(self, seq: int, author_id: str) -> None:
        if seq > self.latest.get(author_id, 0):
            self.latest[author_id] = seq


class RecentAuthors:
    """Per room, each author's latest message ``seq``, complete after a known ``seq``."""

    def __init__(self) -> None:
        self._rooms: dict[str, _Room] = {}

    def message(self, room_id: str, seq: int, author_id: str) -> None:
        """A message of the room, in ``seq`` order; the first one starts the room's record."""
        room = self._rooms.get(room_id)
        if room is None:
            room = self._rooms[room_id] = _Room(complete_after=seq - 1)
        room.saw(seq, author_id)

    def seed(
        self, room_id: str, after: int, upto: int, messages: Iterable[tuple[int, str]]
    ) -> None:
        """A read of the room (``hello``'s history page) showed every message in ``(after, upto]``:
        ``messages`` as ``(seq, author)``. Joined to what is known when the two ranges meet; a
        room not yet followed starts from it (its later messages are followed live)."""
        room = self._rooms.get(room_id)
        if room is None:
            room = self._rooms[room_id] = _Room(complete_after=after)
        elif upto >= room.complete_after:
            room.complete_after = min(room.complete_after, after)
        for seq, author in messages:
            room.saw(seq, author)

    def gap(self, room_id: str, first: int) -> None:
        """Events before ``first`` may have gone by unseen: nothing is known before it."""
        room = self._rooms.get(room_id)
        if room is not None:
            room.complete_after = max(room.complete_after, first - 1)

    def forget(self, room_id: str) -> None:
        """Stop following the room (nobody here reads it any more)."""
        self._rooms.pop(room_id, None)

    def authors_after(self, room_id: str, seq: int) -> set[str] | None:
        """The authors who may have a message after ``seq``; ``None`` if that is not known."""
        room = self._rooms.get(room_id)
        if room is None or seq < room.complete_after:
            return None
        return {author for author, last in room.latest.items() if last > seq}

    def __len__(self) -> int:
        """Number of rooms followed."""
        return len(self._rooms)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One ``receipt`` frame to send."""

    users: frozenset[str]
    """Whose connections get it (empty: every reader of the room)."""
    markers: list[Marker]
    """What it carries."""
    skip: str | None = None
    """A connection that already has all of it (its ``ack`` carried the marker), or None."""


def receipt_deliveries(
    authors: RecentAuthors, room_id: str, markers: Sequence[Marker]
) -> list[Delivery]:
    """The frames that tell those concerned about ``markers`` (one coalesced batch of ``room_id``).

    The authors who may have a message in a range a marker newly covers get the whole batch; each
    owner of a marker who is not among them gets their own markers, except on the connection that
    moved them all (it has them from its ``ack``: a user with one connection gets no frame). As
    soon as one range starts before what ``authors`` knows, the whole batch goes to everyone.
    """
    told: set[str] = set()
    for marker in markers:
        found = authors.authors_after(room_id, marker.prev_seq)
        if found is None:
            return [Delivery(frozenset(), list(markers))]
        told |= found
    out: list[Delivery] = []
    if told:
        out.append(Delivery(frozenset(told), list(markers)))
    own: dict[str, list[Marker]] = {}
    for marker in markers:
        if marker.user_id not in told:
            own.setdefault(marker.user_id, []).append(marker)
    for user, mine in own.items():
        origins = {m.origin for m in mine}
        skip = origins.pop() if len(origins) == 1 else None
        out.append(Delivery(frozenset((user,)), mine, skip))
    return out
