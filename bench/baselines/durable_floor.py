"""Reference (d): the floor of a durable chat in Chatterbox's stack.

The least a chat server can do and still keep Chatterbox's promise about a message: check the frame
against the protocol, commit it to SQLite before anyone sees it, then deliver it. Nothing else: no
authentication, membership or permission check, no idempotency lookup, no seq counter in the
database, no receipts, no metrics.

- It runs under uvicorn with **Chatterbox's own uvicorn options**
  (:func:`chatterbox.server.uvicorn_options`), as a bare ASGI app.
- Every frame goes through **Chatterbox's frame codec** (:class:`chatterbox.protocol.codec.Codec`:
  jsonschema-rs, then the generated pydantic models); an invalid frame is answered with the codec's
  ``error`` frame.
- **Group commit on one SQLite thread**: the frames that arrived while the previous transaction ran
  go in one ``BEGIN IMMEDIATE`` … ``INSERT`` (one ``executemany``) … ``COMMIT``, into a fresh table
  of the ``messages`` shape (primary key, ``UNIQUE (room_id, seq)``, ``UNIQUE (author_id,
  client_msg_id)``), WAL, ``synchronous=NORMAL``, like Chatterbox's. Seqs are counted in memory.
- **After the commit** each frame goes to every connection of its room, the sender included, one
  awaited ASGI ``send`` each (the naive FastAPI chat's broadcast). A connection without a ``room``
  query parameter is a room of its own: its frames come back to it, which is its ack.

The benchmark runs it beside the baselines in the two scenarios whose targets are ratios to a
server that stores nothing (open-loop latency against raw websockets, durable sends against the
echo server): its own ratio there is the best this stack reaches with the commit before the delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

import orjson
import uvicorn

from chatterbox.config import Settings
from chatterbox.protocol.codec import Codec, FrameError
from chatterbox.server import uvicorn_options

Send = Any
Row = tuple[str, str, int, str, str, str, int]

_TABLE = (
    "CREATE TABLE floor_messages (id TEXT PRIMARY KEY, room_id TEXT NOT NULL, seq INTEGER NOT NULL, "
    "author_id TEXT NOT NULL, body TEXT, client_msg_id TEXT, created_at INTEGER NOT NULL, "
    "UNIQUE (room_id, seq), UNIQUE (author_id, client_msg_id))"
)
_INSERT = "INSERT INTO floor_messages VALUES (?, ?, ?, ?, ?, ?, ?)"


class Floor:
    """The whole server: rooms of ASGI ``send`` callables, a codec, one SQLite writer."""

    def __init__(self, db_path: str, settings: Settings) -> None:
        self.codec = Codec("client", max_frame_bytes=settings.max_frame_bytes)
        self.db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA wal_autocheckpoint=10000",
        ):
            self.db.execute(pragma)
        self.db.execute("DROP TABLE IF EXISTS floor_messages")
        self.db.execute(_TABLE)
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="floor-sqlite")
        self.rooms: dict[object, list[Send]] = {}
        self.seqs: dict[str, int] = {}
        self.pending: list[tuple[Row, asyncio.Future[None]]] = []
        self.writer: asyncio.Task[None] | None = None
        self.count = 0

    def _commit(self, rows: list[Row]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(_INSERT, rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                try:
                    await loop.run_in_executor(self.thread, self._commit, [r for r, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        done.set_exception(exc)
                else:
                    for _, done in batch:
                        done.set_result(None)
        finally:
            self.writer = None

    async def store(self, row: Row) -> None:
        """Return once ``row`` is committed (group commit)."""
        done = asyncio.get_running_loop().create_future()
        self.pending.append((row, done))
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._write())
        await done

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "websocket":
            return
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        query = parse_qs(scope.get("query_string", b"").decode())
        key: object = query.get("room", [None])[0] or object()
        members = self.rooms.setdefault(key, [])
        members.append(send)
        author = "u_" + os.urandom(6).hex()
        try:
            await self._serve(receive, send, members, author)
        finally:
            members.remove(send)
            if not members:
                del self.rooms[key]

    async def _serve(self, receive: Any, send: Send, members: list[Send], author: str) -> None:
        while True:
            event = await receive()
            if event["type"] != "websocket.receive":
                return
            text = event.get("text") or ""
            frame = self.codec.decode(text)
            if isinstance(frame, FrameError):
                error = orjson.dumps(frame.to_frame()).decode()
                await send({"type": "websocket.send", "text": error})
                continue
            if getattr(frame, "type", "") != "message.send":
                continue  # the load generator sends only messages here
            room_id = str(getattr(frame, "room_id", ""))
            seq = self.seqs[room_id] = self.seqs.get(room_id, 0) + 1
            self.count += 1
            row: Row = (
                f"m_{self.count:020d}",
                room_id,
                seq,
                author,
                str(getattr(frame, "body", "")),
                str(getattr(frame, "client_msg_id", "")),
                int(time.time() * 1000),
            )
            await self.store(row)
            message = {"type": "websocket.send", "text": text}
            for member in tuple(members):
                try:
                    await member(message)
                except Exception:  # that member is gone: its own handler ends it
                    continue


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--db", required=True, help="SQLite file (its floor_messages table is reset)"
    )
    args = parser.parse_args()
    settings = Settings(env="test", secret_key="bench-secret-0123456789", log_level="warning")
    app = Floor(args.db, settings)
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, access_log=False, **uvicorn_options(settings)
    )
