"""The codec's defined answers to every kind of inbound frame."""

from __future__ import annotations

import orjson
import pytest

from chatterbox.protocol.codec import MAX_FRAME_BYTES, Codec, FrameError, encode, json_pointer
from chatterbox.protocol.models.client.history import HistoryCommand
from chatterbox.protocol.models.client.message_send import MessageSend
from chatterbox.protocol.schemas import load_schema_set

SEND = {
    "type": "message.send",
    "id": "c1",
    "room_id": "r_general",
    "body": "hello",
    "client_msg_id": "0b9f6c1e-2d3a",
}


@pytest.fixture(scope="module")
def codec() -> Codec:
    return Codec("client")


def _err(result: object) -> FrameError:
    assert isinstance(result, FrameError), result
    return result


def test_valid_frame_becomes_its_model(codec: Codec) -> None:
    frame = codec.decode(orjson.dumps(SEND).decode())
    assert isinstance(frame, MessageSend)
    assert frame.body == "hello" and frame.client_msg_id == "0b9f6c1e-2d3a"


def test_binary_frame(codec: Codec) -> None:
    error = _err(codec.decode(orjson.dumps(SEND)))
    assert error.code == "binary_frame" and error.re is None


@pytest.mark.parametrize("text", ["", "nope", "{", '{"type": "ping", "id": "c1"', "\x00"])
def test_not_json(codec: Codec, text: str) -> None:
    assert _err(codec.decode(text)).code == "invalid_json"


@pytest.mark.parametrize("text", ["[]", "1", '"ping"', "null", "true"])
def test_not_an_object(codec: Codec, text: str) -> None:
    error = _err(codec.decode(text))
    assert (error.code, error.pointer) == ("invalid_frame", "")


def test_oversize_frame(codec: Codec) -> None:
    big = orjson.dumps({**SEND, "body": "x" * MAX_FRAME_BYTES}).decode()
    error = _err(codec.decode(big))
    assert error.code == "frame_too_large"
    # Exactly at the limit in bytes (multi-byte characters count as bytes) is not "too large".
    limit = Codec("client", max_frame_bytes=100)
    at_limit = '{"type":"ping","id":"' + "a" * 64 + '"}'
    assert len(at_limit.encode()) <= 100
    assert not isinstance(limit.decode(at_limit), FrameError)
    assert _err(limit.decode('{"type":"ping","id":"c1","x":"' + "é" * 40 + '"}')).code == (
        "frame_too_large"
    )


def test_unknown_and_missing_type(codec: Codec) -> None:
    error = _err(codec.decode('{"type": "message.explode", "id": "c9"}'))
    assert (error.code, error.re, error.pointer) == ("unknown_type", "c9", "/type")
    error = _err(codec.decode('{"id": "c9"}'))
    assert (error.code, error.re, error.pointer) == ("invalid_frame", "c9", "/type")
    error = _err(codec.decode('{"type": 7, "id": "c9"}'))
    assert (error.code, error.pointer) == ("invalid_frame", "/type")


@pytest.mark.parametrize(
    ("patch", "pointer"),
    [
        ({"body": "x" * 4001}, "/body"),
        ({"body": "   "}, "/body"),
        ({"body": 5}, "/body"),
        ({"room_id": "general"}, "/room_id"),
        ({"author": "u_attacker0"}, "/author"),
        ({"created_at": "2026-01-01T00:00:00.000Z"}, "/created_at"),
        ({"seq": 1}, "/seq"),
    ],
)
def test_invalid_field_is_named_by_pointer(
    codec: Codec, patch: dict[str, object], pointer: str
) -> None:
    error = _err(codec.decode(orjson.dumps({**SEND, **patch}).decode()))
    assert (error.code, error.re, error.pointer) == ("invalid_frame", "c1", pointer)
    assert error.message


def test_missing_field_pointer(codec: Codec) -> None:
    frame = {k: v for k, v in SEND.items() if k != "client_msg_id"}
    error = _err(codec.decode(orjson.dumps(frame).decode()))
    assert (error.code, error.pointer) == ("invalid_frame", "/client_msg_id")


def test_unreadable_id_is_not_echoed(codec: Codec) -> None:
    for bad_id in [5, "", "x" * 65, "has space", "c1\n"]:
        error = _err(codec.decode(orjson.dumps({**SEND, "id": bad_id}).decode()))
        assert error.re is None and error.pointer == "/id"


def test_history_limit_is_strict(codec: Codec) -> None:
    base = {"type": "history", "id": "h1", "room_id": "r_general"}
    assert _err(codec.decode(orjson.dumps({**base, "limit": "5"}).decode())).pointer == "/limit"
    assert _err(codec.decode(orjson.dumps({**base, "limit": 101}).decode())).pointer == "/limit"
    assert _err(codec.decode(orjson.dumps({**base, "limit": 0}).decode())).pointer == "/limit"
    ok = codec.decode(orjson.dumps({**base, "limit": 100}).decode())
    assert isinstance(ok, HistoryCommand) and ok.limit == 100
    # JSON Schema counts 5.0 as the integer 5: so does the server.
    five = codec.decode('{"type":"history","id":"h1","room_id":"r_general","limit":5.0}')
    assert isinstance(five, HistoryCommand) and five.limit == 5


def test_error_frame_is_a_valid_server_frame() -> None:
    server = Codec("server")
    for error in [
        FrameError("invalid_json", "Frame is not valid JSON"),
        FrameError("invalid_frame", "bad", re="c1", pointer="/body"),
    ]:
        assert server.is_valid(error.to_frame())


def test_encode_is_compact_and_omits_unset_defaults(codec: Codec) -> None:
    frame = codec.decode('{"type": "history", "id": "h1", "room_id": "r_general"}')
    assert encode(frame) == b'{"type":"history","id":"h1","room_id":"r_general"}'  # type: ignore[arg-type]


def test_json_pointer_escapes() -> None:
    assert json_pointer(["a", 0, "b/c", "d~e"]) == "/a/0/b~1c/d~0e"
    assert json_pointer([]) == ""


def test_server_codec_reads_every_example() -> None:
    schemas = load_schema_set()
    server = Codec("server", schemas=schemas)
    for rel in schemas.frame_types("server").values():
        for example in schemas.documents[rel]["examples"]:
            assert not isinstance(server.parse(example), FrameError), rel
