"""Reference (d): a minimal durable chat in Chatterbox's stack.

The least a chat server can do and still keep Chatterbox's promise about a message: check the frame
against the protocol, commit it to SQLite before anyone sees it, then deliver it. Nothing else: no
authentication, membership or permission check, no idempotency lookup, no seq counter in the
database, no receipts, no metrics.

- It runs under uvicorn with **Chatterbox's own uvicorn options**
  (:func:`chatterbox.server.uvicorn_options`), as a bare ASGI app.
- Every frame goes through **Chatterbox's frame codec** (:class:`chatterbox.protocol.codec.Codec`:
  jsonschema-rs, then the generated pydantic models); an invalid frame is answered with the codec's
  ``error`` frame.
- **Group commit on one SQLite thread**, batched as Chatterbox's writer batches: a connection's
  next frame is read without waiting for the previous one's commit, and the frames queued when the
  writer comes round (after one loop iteration, up to 256) go in one ``BEGIN IMMEDIATE`` …
  ``INSERT`` (one ``executemany``) … ``COMMIT``, into a fresh table of the ``messages`` shape
  (primary key, ``UNIQUE (room_id, seq)``, ``UNIQUE (author_id, client_msg_id)``), WAL,
  ``synchronous=NORMAL``, like Chatterbox's. Seqs are counted in memory.
- **After the commit** the writer sends each frame to every connection of its room, in order, the
  sender included, one awaited ASGI ``send`` each (the naive FastAPI chat's broadcast). A
  connection without a ``room`` query parameter is a room of its own: its frames come back to it,
  which is its ack.

The benchmark runs it beside the baselines in the two scenarios whose targets are ratios to a
server that stores nothing (open-loop latency against raw websockets, durable sends against the
echo server). Its own ratio there is what the stack (uvicorn, the codec, SQLite) leaves for a
server that commits before it delivers; the distance from it to Chatterbox is Chatterbox's own
per-message work.
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
from chatterbox.protocol.models.client.message_send import MessageSend
from chatterbox.server import uvicorn_options

Send = Any
Row = tuple[str, str, int, str, str, str, int]
MAX_BATCH = 256  # Chatterbox's writer's

_TABLE = (
    "CREATE TABLE minimal_messages (id TEXT PRIMARY KEY, room_id TEXT NOT NULL, seq INTEGER NOT NULL, "
    "author_id TEXT NOT NULL, body TEXT, client_msg_id TEXT, created_at INTEGER NOT NULL, "
    "UNIQUE (room_id, seq), UNIQUE (author_id, client_msg_id))"
)
_INSERT = "INSERT INTO minimal_messages VALUES (?, ?, ?, ?, ?, ?, ?)"


class MinimalChat:
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
        self.db.execute("DROP TABLE IF EXISTS minimal_messages")
        self.db.execute(_TABLE)
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="minimal-sqlite")
        self.rooms: dict[object, list[Send]] = {}
        self.seqs: dict[str, int] = {}
        self.pending: list[tuple[Row, str, list[Send]]] = []
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
                await asyncio.sleep(0)  # let the frames already received join the batch
                batch = self.pending[:MAX_BATCH]
                del self.pending[:MAX_BATCH]
                await loop.run_in_executor(self.thread, self._commit, [row for row, _, _ in batch])
                for _, text, members in batch:
                    message = {"type": "websocket.send", "text": text}
                    for member in tuple(members):
                        try:
                            await member(message)
                        except Exception:  # that member is gone: its own handler ends it
                            continue
        finally:
            self.writer = None

    def store_then_send(self, row: Row, text: str, members: list[Send]) -> None:
        """Queue ``row``; once it is committed, ``text`` goes to ``members`` (group commit)."""
        self.pending.append((row, text, members))
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._write())

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
            if not isinstance(frame, MessageSend):
                continue  # the load generator sends only messages here
            room_id = str(frame.room_id)
            seq = self.seqs[room_id] = self.seqs.get(room_id, 0) + 1
            self.count += 1
            row: Row = (
                f"m_{self.count:020d}",
                room_id,
                seq,
                author,
                frame.body,
                str(frame.client_msg_id),
                int(time.time() * 1000),
            )
            self.store_then_send(row, text, members)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--db", required=True, help="SQLite file (its minimal_messages table is reset)"
    )
    args = parser.parse_args()
    settings = Settings(env="test", secret_key="bench-secret-0123456789", log_level="warning")
    app = MinimalChat(args.db, settings)
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, access_log=False, **uvicorn_options(settings)
    )
