"""The minimal durable chat (a benchmark reference) does what the report says: validate, commit, then send to the room.

It runs as the benchmark runs it (``bench.run.start_server``: its own process, real sockets).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from websockets.sync.client import ClientConnection, connect

from bench.run import Env, Server, start_server


@pytest.fixture
def minimal(tmp_path: Path) -> Iterator[Server]:
    server = start_server("minimal", Env(tmp_path, tmp_path / "unused.db"))
    try:
        yield server
    finally:
        server.stop()


def _connect(server: Server, path: str = "/") -> ClientConnection:
    return connect(f"ws://127.0.0.1:{server.port}{path}", open_timeout=10, compression=None)


def _send(cid: str, room: str = "r_g000", key: str = "key-00001") -> str:
    frame = {"type": "message.send", "id": cid, "room_id": room, "body": "hi", "client_msg_id": key}
    return orjson.dumps(frame).decode()


def _stored(server: Server) -> list[tuple[str, int, str]]:
    assert server.db is not None
    with sqlite3.connect(server.db) as db:
        return db.execute(
            "SELECT room_id, seq, body FROM minimal_messages ORDER BY rowid"
        ).fetchall()


def test_a_valid_message_is_committed_then_sent_to_every_member(minimal: Server) -> None:
    with (
        _connect(minimal, "/ws?room=r_g000") as alice,
        _connect(minimal, "/ws?room=r_g000") as bob,
        _connect(minimal, "/ws?room=r_other") as carol,
    ):
        alice.send(_send("c1"))
        assert alice.recv(5) == _send("c1")
        assert bob.recv(5) == _send("c1")
        assert _stored(minimal) == [("r_g000", 1, "hi")]  # committed before it was sent
        carol.send(_send("c2", room="r_other", key="key-00002"))
        assert carol.recv(5) == _send("c2", room="r_other", key="key-00002")
        alice.send(_send("c3", key="key-00003"))
        assert bob.recv(5) == _send("c3", key="key-00003")  # bob never got carol's frame
    assert _stored(minimal) == [("r_g000", 1, "hi"), ("r_other", 1, "hi"), ("r_g000", 2, "hi")]


def test_an_invalid_frame_gets_the_codecs_error_and_stores_nothing(minimal: Server) -> None:
    with _connect(minimal) as ws:
        ws.send(_send("c1", room="general"))  # not a room id
        error = orjson.loads(ws.recv(5))
        assert (error["type"], error["code"], error["pointer"]) == (
            "error",
            "invalid_frame",
            "/room_id",
        )
    assert _stored(minimal) == []


def test_a_connection_without_a_room_gets_its_own_frames_back(minimal: Server) -> None:
    with _connect(minimal) as one, _connect(minimal) as two:
        one.send(_send("c1"))
        two.send(_send("c1", key="key-00002"))
        assert one.recv(5) == _send("c1")
        assert two.recv(5) == _send("c1", key="key-00002")
    assert len(_stored(minimal)) == 2
