"""The connection hub: who is connected, who reads which room, and the fan-out.

Fan-out path (see ``docs/architecture.md``): a use case commits, then publishes the frame, serialized
once, through the :class:`~chatterbox.broker.base.Broker`; every process's hub receives it in
:meth:`Hub.on_envelope`, restores per-room ``seq`` order (:class:`~.sequencer.Sequencer`) and hands
the same message object to each subscribed connection, without awaiting. Membership events change
subscriptions at their exact place in the room's ``seq`` order: a joiner receives their own
``member.joined`` and everything after it; a leaver receives their ``member.left``, then ``resync``,
then nothing more from that room.

Also here: typing (:class:`TypingTracker`), presence (:class:`PresenceTracker`, with its grace
period), receipt coalescing (:class:`ReceiptCoalescer`), all driven by one loop timer; and the
:class:`~chatterbox.service.notifier.Notifier` methods the REST API calls.

With several processes (:class:`~chatterbox.broker.redis.RedisBroker`), membership changes and
session closes also go to the other processes through the broker; presence and the per-user
connection cap go through :class:`~chatterbox.broker.cluster.RedisCluster` (global status, dead
processes reaped); after the broker lost its subscription the hub catches up every room it serves
from the store (:meth:`Hub.catch_up`). See ``docs/architecture.md`` ("Scale-out").
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine, Iterable
from dataclasses import replace
from typing import Any

import orjson

from chatterbox.broker import Broker, Envelope, InProcessBroker
from chatterbox.broker.cluster import LocalState, PresenceUpdate, RedisCluster
from chatterbox.config import Settings
from chatterbox.domain import clock, permissions
from chatterbox.domain.presence import PresenceChange, PresenceTracker
from chatterbox.domain.receipt_audience import Delivery, RecentAuthors, receipt_deliveries
from chatterbox.domain.receipts import Marker, ReceiptCoalescer
from chatterbox.domain.typing_state import TypingTracker
from chatterbox.metrics import Metrics
from chatterbox.realtime import frames
from chatterbox.realtime.connection import Connection
from chatterbox.realtime.sequencer import Sequencer
from chatterbox.realtime.state import ConnState
from chatterbox.service.directory import UserDirectory
from chatterbox.service.messaging import Access, Messaging
from chatterbox.service.receipting import Receipts, marker_json
from chatterbox.service.timeline import Timeline
from chatterbox.service.views import user_view
from chatterbox.store.base import Store

__all__ = ["CATCH_UP_PAGE", "GAP_TIMEOUT_MS", "Hub"]

GAP_TIMEOUT_MS = 500
"""Default of ``Settings.gap_timeout_ms``: how long an out-of-order event waits for the missing
ones before they are read from the store."""
CATCH_UP_PAGE = 500
"""Events read per query when catching up a room after the broker reconnected."""

_log = logging.getLogger(__name__)
JSON = dict[str, Any]


class Hub:
    """Registry of live connections; implements :class:`chatterbox.service.notifier.Notifier`."""

    def __init__(
        self,
        *,
        store: Store,
        settings: Settings,
        metrics: Metrics,
        users: UserDirectory,
        broker: Broker | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.users = users
        self.broker: Broker = broker or InProcessBroker()
        """Fan-out between processes."""
        self.messaging = Messaging(store=store, users=users, notifier=self)
        """Message use cases."""
        self.receipts = Receipts(store)
        """Receipt use case."""
        self.timeline = Timeline(store=store, users=users)
        """History, hello snapshot, replay."""
        self.sequencer: Sequencer[Envelope] = Sequencer(settings.gap_timeout_ms)
        """Per-room order of durable events."""
        self.typing = TypingTracker(settings.typing_timeout_ms)
        """Who is typing where."""
        self.presence = PresenceTracker(settings.presence_grace_ms)
        """Presence of this process's users."""
        self.coalescer = ReceiptCoalescer(settings.receipt_coalesce_ms)
        """Receipt marker batches per room."""
        self.authors = RecentAuthors()
        """Who wrote the recent messages of the rooms read here (receipt recipients)."""
        self._token_prefix = f"{secrets.token_hex(6)}:"
        """Makes connection ids unique across processes (:meth:`conn_token`)."""
        self.connections: set[Connection] = set()
        """Every registered connection."""
        self.hello_slots = asyncio.Semaphore(settings.hello_concurrency)
        """Connections building their ``hello`` at the same time (``hello_concurrency``)."""
        self.by_user: dict[str, set[Connection]] = {}
        """Connections per user id."""
        self.room_conns: dict[str, set[Connection]] = {}
        """Subscribed connections per room id."""
        self._slots: dict[str, int] = {}
        self._typing_users: dict[str, JSON] = {}
        self._last_rooms: dict[str, frozenset[str]] = {}
        self._seen_users: set[str] = set()
        self._filling: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self.cluster: RedisCluster | None = None
        """Shared presence and connection slots (with the Redis broker), else None."""
        self._global: dict[str, tuple[JSON, tuple[str, ...]]] = {}
        """With a cluster: the last announced presence of each user, and their rooms."""
        self._room_users: dict[str, set[str]] = {}
        """Per room, users who may share it: seen here in it, or announced with it (a superset,
        so that ``hello`` looks at the room's users, never at every user ever seen)."""

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the broker (and, with Redis, join the cluster)."""
        self.broker.subscribe(self.on_envelope)
        self.broker.on_reconnect(self.catch_up)
        await self.broker.start()
        from chatterbox.broker.redis import RedisBroker

        if isinstance(self.broker, RedisBroker):
            self.cluster = RedisCluster(
                self.broker.client,
                origin=self.broker.origin,
                prefix=self.settings.redis_prefix,
                ttl_ms=self.settings.process_ttl_ms,
                cap=self.settings.max_connections_per_user,
                announce=self._emit_presence,
                local_state=self._local_state,
                now_ms=clock.now_ms,
            )
            await self.cluster.start()
            await self._load_presence()

    def begin_drain(self) -> None:
        """Refuse new upgrades (503) from now on."""
        self._stopping = True

    async def drain(self) -> None:
        """Stop admitting (503), close every connection with 1001 so that clients reconnect to
        another process and resume, and let in-flight commands finish (``drain_timeout_s``)."""
        self._stopping = True
        conns = list(self.connections)
        waits: list[asyncio.Future[Any]] = [w for c in conns for w in c.in_flight()]
        for conn in conns:
            conn.request_close(1001, "server draining: reconnect")
        waits.extend(asyncio.ensure_future(c.wait_closed()) for c in conns)
        if waits:
            await asyncio.wait(waits, timeout=self.settings.drain_timeout_s)

    async def stop(self) -> None:
        """Drain, wait for the connection handlers, stop timers, leave the cluster, disconnect."""
        await self.drain()
        readers = [c.reader for c in self.connections if c.reader is not None]
        if readers:
            await asyncio.wait(readers, timeout=5)
        if self._timer is not None:
            self._timer.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self.cluster is not None:
            await self.cluster.close()
        await self.broker.close()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` has begun."""
        return self._stopping

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a background coroutine, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- admission and registry ------------------------------------------------------------------

    def admit(self, user_id: str) -> bool:
        """Reserve a connection slot for the user on this process; False when at the per-user cap
        (HTTP 429). With a cluster, also call :meth:`admit_cluster`."""
        used = self._slots.get(user_id, 0)
        if used >= self.settings.max_connections_per_user or self._stopping:
            return False
        self._slots[user_id] = used + 1
        return True

    async def admit_cluster(self, user_id: str) -> bool | None:
        """With a cluster: take a slot of the deployment-wide cap (True), refuse (False), or
        None (no cluster, or Redis failed: the local cap alone applies, nothing to give back)."""
        if self.cluster is None:
            return None
        return await self.cluster.admit(user_id)

    def release_slot(self, user_id: str, *, cluster: bool = False) -> None:
        """Give back a slot taken by :meth:`admit` (and one of :meth:`admit_cluster` if True)."""
        used = self._slots.get(user_id, 0) - 1
        if used > 0:
            self._slots[user_id] = used
        else:
            self._slots.pop(user_id, None)
        if cluster and self.cluster is not None:
            self.spawn(self.cluster.release(user_id))

    def register(self, conn: Connection) -> None:
        """Add a connecting connection (it receives membership changes about its user)."""
        self.connections.add(conn)
        self.by_user.setdefault(conn.user.id, set()).add(conn)
        self._seen_users.add(conn.user.id)
        self.metrics.connections.inc()

    def subscribe(
        self,
        conn: Connection,
        room_id: str,
        access: Access,
        last_seq: int,
        *,
        snapshot: bool = False,
    ) -> None:
        """Deliver ``room_id``'s events to ``conn`` (it may read the room: checked here).

        ``snapshot``: ``conn`` already has everything up to ``last_seq`` (``hello``); if nobody
        else here reads the room, the sequencer may skip to it (events the live stream missed
        while nobody here read the room would otherwise wait for a gap fill)."""
        if not permissions.can_read(access.kind or "private", access.role):
            return
        conn.rooms[room_id] = access
        self._room_users.setdefault(room_id, set()).add(conn.user.id)
        conns = self.room_conns.setdefault(room_id, set())
        alone = not conns
        if alone:  # events may have gone by while nobody here read the room
            self.authors.forget(room_id)
        conns.add(conn)
        self.sequencer.seed(room_id, last_seq)
        if snapshot and alone:
            for env in self.sequencer.skip_to(room_id, last_seq + 1, clock.now_ms()):
                self._fanout_event(env)

    def note_history(self, room_id: str, page: dict[str, Any], upto: int) -> None:
        """A newest ``HistoryPage`` of ``room_id`` read after subscribing at ``upto``: its authors
        (receipt recipients) are known from there on, if the room is still read here."""
        if room_id not in self.room_conns:
            return
        seen = [
            (int(m["seq"]), str(m["author"]["id"])) for day in page["days"] for m in day["messages"]
        ]
        after = min((seq for seq, _ in seen), default=upto + 1) - 1 if page["has_more"] else 0
        self.authors.seed(room_id, after, upto, seen)

    def _unsubscribe(self, conn: Connection, room_id: str) -> bool:
        if conn.rooms.pop(room_id, None) is None:
            return False
        conns = self.room_conns.get(room_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.room_conns[room_id]
                self.authors.forget(room_id)
        conn.cursor.pop(room_id, None)
        conn.held.pop(room_id, None)
        return True

    def on_closing(self, conn: Connection) -> None:
        """A connection stopped receiving: forget it everywhere (idempotent)."""
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        user_id = conn.user.id
        conns = self.by_user.get(user_id)
        rooms = frozenset(conn.rooms)
        for room_id in list(conn.rooms):
            self._unsubscribe(conn, room_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.by_user[user_id]
        self.metrics.connections.dec()
        now = clock.now_ms()
        self._last_rooms[user_id] = rooms | self._rooms_of(user_id)
        self.presence.connection_closed(user_id, conn.id, now)

        for room_id, typer in self.typing.clear_user(user_id):
            self._emit_typing(room_id, typer, "stop")
        self._schedule()

    def unregister(self, conn: Connection) -> None:
        """The connection's handler ended."""
        conn.mark_closing()
        self.on_closing(conn)
        if conn.state is ConnState.CLOSING:
            conn.mark_closed()

    def _rooms_of(self, user_id: str) -> frozenset[str]:
        conns = self.by_user.get(user_id)
        if conns:
            return frozenset(r for c in conns for r in c.rooms)
        return self._last_rooms.get(user_id, frozenset())

    # -- publishing ------------------------------------------------------------------------------

    def emit(self, envelope: Envelope) -> None:
        """Publish from synchronous code (delivered here at once, elsewhere soon)."""
        self.broker.publish_nowait(envelope)

    def room_event(self, room_id: str, frame: dict[str, Any]) -> None:
        """Notifier: a committed durable event; serialize once and publish (never waits)."""
        self.broker.publish_nowait(self._event_envelope(room_id, frame))

    @staticmethod
    def _event_envelope(room_id: str, frame: dict[str, Any]) -> Envelope:
        kind = str(frame["type"])
        user_id = None
        detail = kind
        if kind == "message.created":
            user_id = str(frame["message"]["author"]["id"])
        elif kind in ("member.joined", "member.left"):
            user_id = str(frame["user"]["id"])
            if kind == "member.joined":
                detail = f"{kind}:{frame.get('role', 'member')}"
        # positional: a named tuple's keyword arguments cost ~0.3 µs more, once per message
        text = orjson.dumps(frame).decode()
        return Envelope("event", text, room_id, int(frame["seq"]), user_id, detail)

    async def membership_changed(self, room_id: str, user_id: str, *, joined: bool) -> None:
        """Notifier: (un)subscribe the user's connections, on every process; a leaver's get
        ``resync``."""
        self.broker.publish_remote(
            Envelope(
                kind="membership",
                text="",
                room_id=room_id,
                user_id=user_id,
                detail="joined" if joined else "left",
            )
        )
        await self._membership_changed(room_id, user_id, joined=joined)

    async def _membership_changed(self, room_id: str, user_id: str, *, joined: bool) -> None:
        conns = self.by_user.get(user_id)
        if not conns:
            return
        if not joined:
            self._leave(room_id, user_id)
            return
        room = await self.store.get_room(room_id)
        membership = await self.store.get_membership(room_id, user_id)
        if room is None or membership is None:
            return
        access = Access(membership.role, room.kind)
        for conn in list(self.by_user.get(user_id, ())):
            if room_id in conn.rooms:
                conn.rooms[room_id] = access
            else:
                self.subscribe(conn, room_id, access, room.last_seq)

    async def close_sessions(self, session_ids: Iterable[str], *, code: int, reason: str) -> None:
        """Notifier: close the connections of these sessions (logout: 4001), on every process."""
        ids = tuple(session_ids)
        self.broker.publish_remote(Envelope(kind="close", text=reason, seq=code, rooms=ids))
        self._close_sessions(set(ids), code, reason)

    def _close_sessions(self, ids: set[str], code: int, reason: str) -> None:
        for conn in list(self.connections):
            if conn.session_id in ids:
                conn.request_close(code, reason)

    # -- receiving from the broker ---------------------------------------------------------------

    def on_envelope(self, envelope: Envelope) -> None:
        """Broker handler: route one envelope to this process's connections."""
        if envelope.kind == "event":
            room_id = envelope.room_id or ""
            released = self.sequencer.offer(room_id, envelope.seq, envelope, clock.now_ms())
            for env in released:
                self._fanout_event(env)
            if not released:
                self._schedule()
        elif envelope.kind == "room":
            self._fanout_room(envelope)
        elif envelope.kind == "presence":
            self._fanout_presence(envelope)
        elif envelope.kind == "membership":
            if envelope.room_id and envelope.user_id and envelope.user_id in self.by_user:
                self.spawn(
                    self._membership_changed(
                        envelope.room_id, envelope.user_id, joined=envelope.detail == "joined"
                    )
                )
        elif envelope.kind == "close":
            self._close_sessions(set(envelope.rooms), envelope.seq, envelope.text)

    def _fanout_event(self, env: Envelope) -> None:
        room_id = env.room_id or ""
        detail = env.detail or ""
        if env.user_id is not None and detail.startswith("member.joined"):
            role = detail.partition(":")[2] or "member"
            self._join(room_id, env.user_id, role)
        message, size = frames.outgoing_text(env.text)
        conns = self.room_conns.get(room_id)
        if conns:
            if env.user_id is not None and detail == "message.created":
                self.authors.message(room_id, env.seq, env.user_id)
            for conn in tuple(conns):
                conn.deliver_event(room_id, env.seq, message, size)
            self._count_out(detail.partition(":")[0], len(conns))
        if env.user_id is not None and detail == "member.left":
            self._leave(room_id, env.user_id)

    def _join(self, room_id: str, user_id: str, role: str) -> None:
        if role not in permissions.ROLES:
            return
        current = next(iter(self.room_conns.get(room_id, ())), None)
        kind = None if current is None else current.rooms[room_id].kind
        access = Access(role, kind)
        for conn in list(self.by_user.get(user_id, ())):
            if room_id not in conn.rooms:
                self.subscribe(conn, room_id, access, 0)

    def _leave(self, room_id: str, user_id: str) -> None:
        message, size = frames.outgoing(frames.resync(room_id, "access_lost"))
        for conn in list(self.by_user.get(user_id, ())):
            if self._unsubscribe(conn, room_id):
                conn.deliver(message, size)

    def _fanout_room(self, env: Envelope) -> None:
        room_id = env.room_id or ""
        conns = self.room_conns.get(room_id)
        if not conns:
            return
        if env.users:  # only these users' connections (receipts: see domain.receipt_audience)
            skip = env.detail  # a connection's token (conn_token): it has the frame's content
            targets = [
                c
                for user_id in env.users
                for c in self.by_user.get(user_id, ())
                if room_id in c.rooms
                and c.user.id != env.user_id
                and (skip is None or skip != self.conn_token(c))
            ]
            if not targets:
                return
        else:
            targets = [c for c in conns if c.user.id != env.user_id]
        message, size = frames.outgoing_text(env.text)
        for conn in targets:
            conn.deliver(message, size)
        self._count_out(_frame_type(env.text), len(targets))

    def _fanout_presence(self, env: Envelope) -> None:
        if self.cluster is not None and env.user_id is not None:
            state = orjson.loads(env.text)
            del state["type"]
            self._set_global(env.user_id, state, env.rooms)
        targets: set[Connection] = set()
        for room_id in env.rooms:
            targets.update(self.room_conns.get(room_id, ()))
        if not targets:
            return
        message, size = frames.outgoing_text(env.text)
        for conn in targets:
            conn.deliver(message, size)
        self._count_out("presence", len(targets))

    def _count_out(self, frame_type: str, n: int) -> None:
        """Count ``n`` deliveries of a fanned-out frame."""
        if n:
            self.metrics.loop.frames_out[frame_type] += n

    # -- typing, presence, receipts ----------------------------------------------------------------

    def set_typing(self, conn: Connection, room_id: str, state: str) -> int:
        """Apply a ``typing`` command; returns ``expires_in_ms`` for the ack."""
        user_id = conn.user.id
        if state == "start":
            self._typing_users[user_id] = user_view(conn.user)
            if self.typing.start(room_id, user_id, clock.now_ms()):
                self._emit_typing(room_id, user_id, "start")
            self._schedule()
            return self.typing.interval_ms
        self.clear_typing(room_id, user_id)
        return 0

    def clear_typing(self, room_id: str, user_id: str) -> None:
        """End the user's indicator in the room (stop, or they sent a message)."""
        if self.typing.stop(room_id, user_id):
            self._emit_typing(room_id, user_id, "stop")

    def _emit_typing(self, room_id: str, user_id: str, state: str) -> None:
        user = self._typing_users.get(user_id)
        if user is None:
            return
        expires = self.typing.interval_ms if state == "start" else 0
        text = orjson.dumps(frames.typing(room_id, user, state, expires)).decode()
        self.emit(Envelope(kind="room", text=text, room_id=room_id, user_id=user_id))

    def presence_opened(self, conn: Connection) -> None:
        """The connection is open: the user may come online."""
        change = self.presence.connection_opened(conn.user.id, conn.id, clock.now_ms())
        if change is not None:
            self._presence_changed(change, self._rooms_of(conn.user.id))

    def set_presence(self, conn: Connection, status: str) -> str:
        """Apply ``presence.set``; returns the status now in force."""
        user_id = conn.user.id
        change = (
            self.presence.set_away(user_id)
            if status == "away"
            else self.presence.set_online(user_id)
        )
        if change is not None:
            self._presence_changed(change, self._rooms_of(user_id))
        return self.presence.status(user_id)

    def _presence_changed(self, change: PresenceChange, rooms: Iterable[str]) -> None:
        """This process's view of a user changed: announce it (one process), or let the cluster
        merge it with the other processes' views and announce the global change, if any."""
        if self.cluster is None:
            self._emit_presence(change, rooms)
            return
        status = None if change.status == "offline" else change.status
        self.cluster.submit(
            PresenceUpdate(change.user_id, status, change.last_seen_ms, tuple(sorted(rooms)))
        )

    @staticmethod
    def _presence_envelope(change: PresenceChange, rooms: Iterable[str]) -> Envelope:
        text = orjson.dumps(frames.presence(change)).decode()
        return Envelope(kind="presence", text=text, user_id=change.user_id, rooms=tuple(rooms))

    def _emit_presence(self, change: PresenceChange, rooms: Iterable[str]) -> None:
        self.emit(self._presence_envelope(change, rooms))

    def _local_state(self) -> LocalState:
        """This process's users and slots (for the cluster to register again)."""
        updates = [
            PresenceUpdate(u, self.presence.status(u), None, tuple(sorted(self._rooms_of(u))))
            for u in self.by_user
            if self.presence.status(u) != "offline"
        ]
        return LocalState(updates, dict(self._slots))

    async def _load_presence(self, *, announce: bool = False) -> None:
        """With a cluster: read every user's announced presence (at start and after a loss).

        ``announce`` (after a lost subscription): presence frames published while this process was
        not subscribed never reached it, so each user whose announced status differs from what
        this process last knew is sent to the local connections sharing a room with them. Users
        missing from the snapshot (Redis restarted empty) keep their last known state: their
        processes register them again and announce the result."""
        if self.cluster is None:
            return
        try:
            snapshot = await self.cluster.snapshot()
        except Exception as exc:
            _log.warning("could not read the cluster's presence: %r", exc)
            return
        for user_id, (change, rooms) in snapshot.items():
            known = self._global.get(user_id)
            before = known[0]["status"] if known is not None else "offline"
            if announce and before != change.status:
                self._fanout_presence(self._presence_envelope(change, rooms))  # also records it
                continue
            state = frames.presence(change)
            del state["type"]
            self._set_global(user_id, state, rooms)

    def presence_states(self, user_ids: Iterable[str]) -> list[JSON]:
        """``PresenceState`` of those users this process (or, with a cluster, the deployment)
        knows; others are offline, unknown."""
        out: list[JSON] = []
        for user_id in user_ids:
            known = self._global.get(user_id)
            local = self.presence.connection_count(user_id) > 0
            if known is not None and not (local and known[0]["status"] == "offline"):
                out.append(dict(known[0]))
                continue
            if user_id not in self._seen_users:
                continue
            state = frames.presence(self.presence.snapshot(user_id))
            del state["type"]
            out.append(state)
        return out

    def _set_global(self, user_id: str, state: JSON, rooms: tuple[str, ...]) -> None:
        self._global[user_id] = (state, rooms)
        for room_id in rooms:
            self._room_users.setdefault(room_id, set()).add(user_id)

    def presence_for(self, rooms: frozenset[str]) -> list[JSON]:
        """Presence of the known users sharing at least one of ``rooms`` (for ``hello``): the
        rooms' candidate users (:attr:`_room_users`), each checked against their current rooms."""
        candidates: set[str] = set()
        for room_id in rooms:
            candidates.update(self._room_users.get(room_id, ()))
        users: set[str] = set()
        for user_id in candidates:
            known = self._global.get(user_id)
            if (user_id in self._seen_users and self._rooms_of(user_id) & rooms) or (
                known is not None and rooms.intersection(known[1])
            ):
                users.add(user_id)
        return self.presence_states(sorted(users))

    def conn_token(self, conn: Connection) -> str:
        """``conn``'s id, unique across the processes of a deployment."""
        return self._token_prefix + conn.id

    def add_markers(self, markers: Iterable[Marker], origin: Connection | None = None) -> None:
        """Queue moved markers for the coalesced ``receipt`` frames (``origin``: the connection
        that moved them, which has them from its ``ack``)."""
        now = clock.now_ms()
        token = None if origin is None else self.conn_token(origin)
        for marker in markers:
            if token is not None:
                marker = replace(marker, origin=token)
            self.coalescer.add(marker.room_id, marker, now)
        self._on_timer()

    # -- the timer -------------------------------------------------------------------------------

    def _schedule(self) -> None:
        dues = [
            d
            for d in (
                self.typing.next_expiry_ms(),
                self.presence.next_due_ms(),
                self.coalescer.next_due_ms(),
                self.sequencer.next_deadline_ms(),
            )
            if d is not None
        ]
        if not dues:
            return
        due = min(dues)
        if self._timer is not None and self._timer_due is not None and self._timer_due <= due:
            return
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, (due - clock.now_ms()) / 1000)
        self._timer_due = due
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_due = None
        now = clock.now_ms()
        for room_id, user_id in self.typing.expire(now):
            self._emit_typing(room_id, user_id, "stop")
        for change in self.presence.due(now):
            self._presence_changed(change, self._last_rooms.get(change.user_id, frozenset()))
        for room_id, markers in self.coalescer.due(now):
            self._emit_markers(room_id, markers)
        for room_id, after, first in self.sequencer.overdue(now):
            if room_id not in self._filling:
                self._filling.add(room_id)
                self.spawn(self._fill_gap(room_id, after, first))
        self._schedule()

    def _emit_markers(self, room_id: str, markers: list[Marker]) -> None:
        """Publish a batch of moved markers to the users they concern (or to every reader)."""
        views = {m: marker_json(m) for m in markers}  # a marker may go in two frames
        for delivery in receipt_deliveries(self.authors, room_id, markers):
            if self._reaches_nobody(delivery):
                continue
            frame = {
                "type": "receipt",
                "room_id": room_id,
                "markers": [views[m] for m in delivery.markers],
            }
            self.emit(
                Envelope(
                    kind="room",
                    text=orjson.dumps(frame).decode(),
                    room_id=room_id,
                    users=tuple(sorted(delivery.users)),
                    detail=delivery.skip,
                )
            )

    def _reaches_nobody(self, delivery: Delivery) -> bool:
        """A frame for one user whose only connection, in a single process, is the one to skip
        (the common case of an owner's own markers: not even worth publishing)."""
        if delivery.skip is None or len(delivery.users) != 1 or self.cluster is not None:
            return False
        conns = self.by_user.get(next(iter(delivery.users)), ())
        return all(self.conn_token(c) == delivery.skip for c in conns)

    async def _fill_gap(self, room_id: str, after: int, first: int) -> None:
        """Read events the live stream missed (a publisher that never published) from the store."""
        try:
            events = await self.store.events_since(room_id, after, max(1, first - after - 1))
            missing = [e for e in events if e.seq < first]
            for _seq, frame in await self.timeline.event_frames(missing):
                self.on_envelope(self._event_envelope(room_id, frame))
        except Exception:
            _log.exception("filling a gap in %s after %d", room_id, after)
        finally:
            self._filling.discard(room_id)
            if self.sequencer.released(room_id) < first - 1:  # events never found
                self.authors.gap(room_id, first)
            for env in self.sequencer.skip_to(room_id, first, clock.now_ms()):
                self._fanout_event(env)
            self._schedule()

    async def catch_up(self) -> None:
        """Read from the store every event the live stream may have missed in the rooms this
        process serves (the broker lost its subscription), and the cluster's presence."""
        for room_id in list(self.room_conns):
            after = self.sequencer.released(room_id)
            try:
                while True:
                    events = await self.store.events_since(room_id, after, CATCH_UP_PAGE)
                    if not events:
                        break
                    for _seq, frame in await self.timeline.event_frames(events):
                        self.on_envelope(self._event_envelope(room_id, frame))
                    after = max(after, events[-1].seq)
                    if len(events) < CATCH_UP_PAGE:
                        break
            except Exception:
                _log.exception("catching up %s after %d", room_id, after)
        await self._load_presence(announce=True)


def _frame_type(text: str) -> str:
    """The ``type`` of a serialized frame (our builders always put ``type`` first)."""
    if text.startswith('{"type":"'):
        end = text.find('"', 9)
        if end > 9:
            return text[9:end]
    return "other"
