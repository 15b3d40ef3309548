"""One WebSocket connection as the hub sees it: state machine, subscriptions, cursor, sender.

The per-delivery path is :meth:`Connection.deliver_event` (durable room events: dropped when at or
below the connection's per-room cursor, held while the room is being replayed) and
:meth:`Connection.deliver` (ephemeral frames). Both end in :meth:`Sender.push`, which writes
directly to the socket when it is writable. Nothing on that path awaits.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from chatterbox.domain.ratelimit import TokenBucket
from chatterbox.realtime.frames import outgoing
from chatterbox.realtime.outbox import Message
from chatterbox.realtime.sender import AsgiSend, Sender
from chatterbox.realtime.state import ConnState, StateMachine
from chatterbox.realtime.wire import DirectWire
from chatterbox.service.messaging import Access
from chatterbox.store.records import UserRecord

__all__ = ["CLOSE_TIMEOUT_S", "EARLY_MAX", "Connection"]

EARLY_MAX = 512
"""Ephemeral frames kept for a connecting connection (beyond: dropped; ``hello`` covers them)."""

CLOSE_TIMEOUT_S = 5.0
"""How long a server-initiated close waits for a paused socket to take the close frame."""

_ids = itertools.count(1)
_log = logging.getLogger(__name__)

Held = list[tuple[int, Message, int]]


class Connection:
    """Everything the hub keeps about one open WebSocket."""

    def __init__(
        self,
        *,
        send: AsgiSend,
        user: UserRecord,
        session_id: str,
        zone: ZoneInfo,
        zone_name: str,
        requested_room: str | None,
        rate_per_second: float,
        rate_burst: int,
        max_frames: int,
        max_bytes: int,
        on_closing: Callable[[Connection], None] | None = None,
        wire: DirectWire | None = None,
    ) -> None:
        self.id = f"c{next(_ids)}"
        """Process-unique connection id."""
        self.user = user
        """The authenticated user."""
        self.session_id = session_id
        """The login session the upgrade was authenticated with."""
        self.zone = zone
        """The client's time zone (day grouping)."""
        self.zone_name = zone_name
        """Its IANA name, echoed in ``hello``."""
        self.requested_room = requested_room
        """The ``room`` query parameter."""
        self.sm = StateMachine()
        """The connection state machine."""
        self.sender = Sender(
            send,
            max_frames=max_frames,
            max_bytes=max_bytes,
            on_overflow=self._overflow,
            on_error=self._socket_error,
            wire=wire,
        )
        """Writes frames to the socket."""
        self.rooms: dict[str, Access] = {}
        """Rooms this connection receives events of (the user's readable rooms)."""
        self.cursor: dict[str, int] = {}
        """Per room, the last durable ``seq`` written to this connection."""
        self.held: dict[str, Held] = {}
        """Rooms whose live events wait (during ``hello`` and replays)."""
        self.hold_all = True
        """Hold every room's events (until ``hello`` is out)."""
        self.early: list[tuple[Message, int]] = []
        """Ephemeral frames received while connecting."""
        self.bucket = TokenBucket(rate_per_second, rate_burst)
        """Inbound rate limit."""
        self.refused_in_a_row = 0
        """Frames refused by the rate limit since the last accepted one."""
        self.inflight: set[str] = set()
        """Ids of commands still running."""
        self.tasks: set[asyncio.Task[Any]] = set()
        """Running command tasks."""
        self.queued_sends = 0
        """``message.send`` commands waiting for their commit without a task (the hot path)."""
        self.slow_sends = 0
        """``message.send`` commands running as tasks (later sends queue behind them)."""
        self._sends_settled: asyncio.Future[None] | None = None
        self.replay_lock = asyncio.Lock()
        """One replay (resume / post-hello catch-up) at a time."""
        self.close_code: int | None = None
        """The close code the server chose, once it decided to close."""
        self.reader: asyncio.Task[Any] | None = None
        """The task reading this connection's frames."""
        self._on_closing = on_closing
        self._close_task: asyncio.Task[None] | None = None

    @property
    def state(self) -> ConnState:
        """Current state."""
        return self.sm.state

    def __repr__(self) -> str:
        return f"<Connection {self.id} {self.user.username} {self.state.value}>"

    # -- the delivery path -------------------------------------------------------------------------

    def deliver_event(self, room_id: str, seq: int, message: Message, size: int) -> None:
        """A durable event of ``room_id``: written once, in ``seq`` order, never at or below the
        cursor; held while the room is held."""
        if self.hold_all or room_id in self.held:
            self.held.setdefault(room_id, []).append((seq, message, size))
            return
        if seq <= self.cursor.get(room_id, 0):
            return
        self.cursor[room_id] = seq
        if self.sm.state is ConnState.OPEN:
            self.sender.push(message, size)

    def deliver(self, message: Message, size: int) -> None:
        """An ephemeral frame (typing, presence, receipts, resync): written while open, kept
        (up to :data:`EARLY_MAX`) while connecting and written right after ``hello``. Each of these
        frames carries a whole state, so one that ``hello`` already reflects changes nothing."""
        state = self.sm.state
        if state is ConnState.OPEN:
            self.sender.push(message, size)
        elif state is ConnState.CONNECTING and len(self.early) < EARLY_MAX:
            self.early.append((message, size))

    def flush_early(self) -> None:
        """Write the ephemeral frames kept while connecting (call right after ``hello``)."""
        early, self.early = self.early, []
        for message, size in early:
            self.deliver(message, size)

    def send_frame(self, frame: dict[str, Any]) -> None:
        """Serialize and write a frame meant for this connection only (hello, answers, replay)."""
        if self.sm.state in (ConnState.CONNECTING, ConnState.OPEN):
            message, size = outgoing(frame)
            self.sender.push(message, size)

    def hold(self, room_id: str) -> None:
        """Start holding the room's live events (a replay is about to run)."""
        self.held.setdefault(room_id, [])

    def release(self, room_id: str) -> None:
        """Stop holding: write the held events above the cursor, in order."""
        held = self.held.pop(room_id, None) or []
        for seq, message, size in held:
            self.deliver_event(room_id, seq, message, size)

    # -- commands in flight ---------------------------------------------------------------------

    def send_queued(self) -> None:
        """A ``message.send`` was queued for commit without a task."""
        self.queued_sends += 1

    def send_answered(self) -> None:
        """A queued ``message.send`` was answered (or not queued after all)."""
        self.queued_sends -= 1
        if not self.queued_sends and self._sends_settled is not None:
            settled, self._sends_settled = self._sends_settled, None
            if not settled.done():
                settled.set_result(None)

    def in_flight(self) -> list[asyncio.Future[Any]]:
        """What to wait for so that every command received so far is answered: the command tasks,
        and a future resolved once no queued send is left."""
        waits: list[asyncio.Future[Any]] = list(self.tasks)
        if self.queued_sends:
            if self._sends_settled is None:
                self._sends_settled = asyncio.get_running_loop().create_future()
            waits.append(self._sends_settled)
        return waits

    # -- closing -----------------------------------------------------------------------------------

    def request_close(self, code: int, reason: str) -> None:
        """Close from the server side (never awaits; safe from the delivery path)."""
        if not self.sm.begin_close():
            return
        self.close_code = code
        self.sender.stop()
        if self._on_closing is not None:
            self._on_closing(self)
        self._close_task = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        if not await self.sender.close(code, reason, CLOSE_TIMEOUT_S):
            self._stop_reader()  # no close frame went out, so no disconnect will be received

    def _stop_reader(self) -> None:
        if self.reader is not None and not self.reader.done():
            self.reader.cancel()

    def _overflow(self) -> None:
        _log.warning("%r: send buffer full, closing 4008 (slow consumer)", self)
        self.request_close(4008, "slow consumer")

    def _socket_error(self, exc: BaseException) -> None:
        _log.debug("%r: socket error %r", self, exc)
        if self.sm.begin_close():
            self.close_code = 1006
            if self._on_closing is not None:
                self._on_closing(self)
            self._stop_reader()

    def mark_closing(self) -> None:
        """The peer closed: stop delivering (idempotent)."""
        if self.sm.begin_close():
            self.sender.stop()
            if self._on_closing is not None:
                self._on_closing(self)

    def mark_closed(self) -> None:
        """The hub forgot the connection."""
        self.mark_closing()
        if self.sm.state is ConnState.CLOSING:
            self.sm.to(ConnState.CLOSED)

    async def wait_closed(self) -> None:
        """Wait for a server-initiated close to finish sending."""
        if self._close_task is not None:
            await asyncio.shield(self._close_task)
