"""State shared by the processes of a deployment, in Redis: liveness, presence, connection slots.

Keys (``P`` is ``redis_prefix``; ``O`` a process's origin id, see
:attr:`~chatterbox.broker.redis.RedisBroker.origin`):

* ``P:proc:O`` — the process's heartbeat: set every ``ttl/3`` with a ``ttl`` expiry. A process whose
  key expired is dead (SIGKILL, a frozen machine); ``P:procs`` lists the processes to watch.
* ``P:pres:{user}`` — hash ``O → online|away``: the user's status on each process that has a
  connection of theirs (after its grace period, a process removes its field). ``P:puser:O`` — the
  users a process has a field for (to clean up after it).
* ``P:presence`` — hash ``user → "status:last_seen_ms"``: the last *announced* global status;
  ``P:prooms`` — hash ``user → JSON list``: their rooms (the presence frame's recipients).
* ``P:conns:{user}`` — hash ``O → n``: open connections per process (the per-user cap).

The global status is computed atomically by a Lua script each time a process's view of a user
changes: ``online`` if any live process has them online, else ``away`` if any has them away, else
``offline``. The script returns the new status only when it differs from the last announced one,
so exactly one process announces each change. Every process reaps dead processes on its
heartbeat: the first to claim one (``SREM``) removes its fields and announces the resulting
changes (typically ``offline``), so a user whose process was SIGKILLed goes offline within
``ttl`` + one heartbeat. After a Redis restart (all keys lost) each process notices its heartbeat
key was gone and registers its users and slots again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from chatterbox.domain.presence import PresenceChange, PresenceStatus

__all__ = ["LocalState", "PresenceUpdate", "RedisCluster"]

_log = logging.getLogger(__name__)

_PRESENCE = """
local pres, last, puser, prooms = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, user, origin, status, seen, rooms = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if status == '' then
  redis.call('HDEL', pres, origin)
  redis.call('SREM', puser, user)
else
  redis.call('HSET', pres, origin, status)
  redis.call('SADD', puser, user)
end
if rooms ~= '' then redis.call('HSET', prooms, user, rooms) end
local fields = redis.call('HGETALL', pres)
local online, away = false, false
for i = 1, #fields, 2 do
  local p, s = fields[i], fields[i + 1]
  if p == origin or redis.call('EXISTS', prefix .. ':proc:' .. p) == 1 then
    if s == 'online' then online = true else away = true end
  else
    redis.call('HDEL', pres, p)
  end
end
local new = 'offline'
if online then new = 'online' elseif away then new = 'away' end
local prev = redis.call('HGET', last, user)
local prev_status = 'offline'
if prev then prev_status = string.match(prev, '^[a-z]+') end
if prev_status == new then return false end
local value = new .. ':'
if new == 'offline' then value = value .. seen end
redis.call('HSET', last, user, value)
return {value, redis.call('HGET', prooms, user) or '[]'}
"""

_ADMIT = """
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  local p, n = fields[i], tonumber(fields[i + 1])
  if p == ARGV[2] or redis.call('EXISTS', ARGV[1] .. ':proc:' .. p) == 1 then
    total = total + n
  else
    redis.call('HDEL', KEYS[1], p)
  end
end
if total >= tonumber(ARGV[3]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
return 1
"""

_RELEASE = """
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
"""


@dataclass(frozen=True, slots=True)
class PresenceUpdate:
    """This process's view of a user changed (``status`` None: no connection here any more)."""

    user_id: str
    status: PresenceStatus | None
    last_seen_ms: int | None
    rooms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LocalState:
    """What this process must register again after Redis lost its keys."""

    presence: list[PresenceUpdate]
    """Users with a connection here, with their local status."""
    slots: dict[str, int]
    """Connections per user."""


def parse_state(value: str) -> tuple[PresenceStatus, int | None]:
    """``"offline:1700000000000"`` → ``("offline", 1700000000000)``."""
    status, _, seen = value.partition(":")
    if status not in ("online", "away", "offline"):
        status = "offline"
    return status, int(seen) if seen.isdigit() else None  # type: ignore[return-value]


class RedisCluster:
    """Liveness, global presence and connection slots for one process (module docstring)."""

    def __init__(
        self,
        client: Redis,
        *,
        origin: str,
        prefix: str,
        ttl_ms: int,
        cap: int,
        announce: Callable[[PresenceChange, tuple[str, ...]], None],
        local_state: Callable[[], LocalState],
        now_ms: Callable[[], int],
    ) -> None:
        self.client: Any = client  # redis-py's command stubs are sync/async unions
        self.origin = origin
        self.prefix = prefix
        self.ttl_ms = ttl_ms
        self.cap = cap
        self._announce = announce
        self._local_state = local_state
        self._now_ms = now_ms
        self._presence = client.register_script(_PRESENCE)
        self._admit = client.register_script(_ADMIT)
        self._release = client.register_script(_RELEASE)
        self._queue: asyncio.Queue[PresenceUpdate] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._registered = False

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """First heartbeat (if Redis answers), then the heartbeat and presence tasks."""
        with contextlib.suppress(RedisError, OSError):
            await self.heartbeat()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._heartbeat_loop(), name="cluster-heartbeat"),
            loop.create_task(self._presence_loop(), name="cluster-presence"),
        ]

    async def close(self) -> None:
        """Stop; remove this process's keys so that its users' presence and slots go at once."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await asyncio.wait_for(self._leave(), 2.0)

    async def _leave(self) -> None:
        """Release this process's presence fields (announcing the changes) and slots."""
        await self.client.delete(self._key("proc", self.origin))
        await self._reap(self.origin)

    # -- heartbeat and reaping -------------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Refresh this process's key; register again if it was lost; reap dead processes."""
        key = self._key("proc", self.origin)
        previous = await self.client.set(key, b"1", px=self.ttl_ms, get=True)
        await self.client.sadd(self._key("procs"), self.origin)
        if previous is None and self._registered:
            _log.warning("cluster registration was lost (Redis restarted?): registering again")
            await self._register_again()
        self._registered = True
        for raw in await self.client.smembers(self._key("procs")):
            other = raw.decode() if isinstance(raw, bytes) else str(raw)
            if (
                other != self.origin
                and not await self.client.exists(self._key("proc", other))
                and await self.client.srem(self._key("procs"), other)
            ):
                _log.warning("process %s stopped heartbeating: releasing its users", other)
                await self._reap(other)

    async def _register_again(self) -> None:
        state = self._local_state()
        for user_id, count in state.slots.items():
            await self.client.hset(self._key("conns", user_id), self.origin, str(count))
        for update in state.presence:
            self._queue.put_nowait(update)

    async def _reap(self, origin: str) -> None:
        users_key = self._key("puser", origin)
        for raw in await self.client.smembers(users_key):
            user_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            await self._apply(PresenceUpdate(user_id, None, self._now_ms(), ()), origin)
            await self.client.hdel(self._key("conns", user_id), origin)
        await self.client.delete(users_key)

    async def _heartbeat_loop(self) -> None:
        interval = self.ttl_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                await self.heartbeat()
            except (RedisError, OSError) as exc:
                _log.debug("heartbeat failed: %r", exc)

    # -- presence --------------------------------------------------------------------------------

    def submit(self, update: PresenceUpdate) -> None:
        """Queue a change of this process's view (applied in order by one task)."""
        self._queue.put_nowait(update)

    async def _presence_loop(self) -> None:
        while True:
            update = await self._queue.get()
            try:
                await self._apply(update, self.origin)
            except (RedisError, OSError) as exc:
                # Redis is down: announce what this process sees (best effort); the state is
                # registered again when the heartbeat finds its key gone.
                _log.debug("presence update failed: %r", exc)
                status = update.status or "offline"
                seen = update.last_seen_ms if status == "offline" else None
                self._announce(PresenceChange(update.user_id, status, seen), update.rooms)

    async def _apply(self, update: PresenceUpdate, origin: str) -> None:
        rooms = orjson.dumps(list(update.rooms)).decode() if update.rooms else ""
        result: Any = await self._presence(
            keys=[
                self._key("pres", update.user_id),
                self._key("presence"),
                self._key("puser", origin),
                self._key("prooms"),
            ],
            args=[
                self.prefix,
                update.user_id,
                origin,
                update.status or "",
                update.last_seen_ms or self._now_ms(),
                rooms,
            ],
        )
        if not result:
            return
        value, rooms_json = (v.decode() if isinstance(v, bytes) else str(v) for v in result)
        status, seen = parse_state(value)
        self._announce(
            PresenceChange(update.user_id, status, seen), tuple(orjson.loads(rooms_json))
        )

    async def snapshot(self) -> dict[str, tuple[PresenceChange, tuple[str, ...]]]:
        """The last announced presence of every user the deployment knows, with their rooms."""
        states = await self.client.hgetall(self._key("presence"))
        rooms = await self.client.hgetall(self._key("prooms"))
        out: dict[str, tuple[PresenceChange, tuple[str, ...]]] = {}
        for raw_user, raw_value in states.items():
            user_id = raw_user.decode() if isinstance(raw_user, bytes) else str(raw_user)
            status, seen = parse_state(raw_value.decode())
            user_rooms = rooms.get(raw_user)
            out[user_id] = (
                PresenceChange(user_id, status, seen),
                tuple(orjson.loads(user_rooms)) if user_rooms else (),
            )
        return out

    # -- connection slots ------------------------------------------------------------------------

    async def admit(self, user_id: str) -> bool | None:
        """Take a slot of the user's cap across the deployment: True (taken), False (at the cap)
        or None (Redis failed: admitted on the local cap alone, no slot to give back)."""
        try:
            result = await self._admit(
                keys=[self._key("conns", user_id)], args=[self.prefix, self.origin, self.cap]
            )
        except (RedisError, OSError) as exc:
            _log.debug("admission check failed (%r): admitting on the local cap", exc)
            return None
        return bool(result)

    async def release(self, user_id: str) -> None:
        """Give back a slot taken by :meth:`admit`."""
        with contextlib.suppress(RedisError, OSError):
            await self._release(keys=[self._key("conns", user_id)], args=[self.origin])
