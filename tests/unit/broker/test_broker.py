"""The broker without Redis: the wire format, the in-process broker, the cluster's state parsing."""

from __future__ import annotations

import pytest

from chatterbox.broker import Envelope, InProcessBroker
from chatterbox.broker.cluster import parse_state
from chatterbox.broker.redis import _safe
from chatterbox.broker.wire import WireError, decode, encode

ENVELOPES = [
    Envelope(kind="event", text='{"type":"message.created"}', room_id="r_1", seq=7, detail="x"),
    Envelope(kind="room", text="{}", room_id="r_1", user_id="u_1"),
    Envelope(kind="room", text='{"type":"receipt"}', room_id="r_1", users=("u_1", "u_3")),
    Envelope(kind="presence", text="{}", user_id="u_1", rooms=("r_1", "r_2")),
    Envelope(kind="membership", text="", room_id="r_1", user_id="u_2", detail="left"),
    Envelope(kind="close", text="logged out", seq=4001, rooms=("s_1",)),
]


@pytest.mark.parametrize("envelope", ENVELOPES, ids=lambda e: e.kind)
def test_wire_round_trip(envelope: Envelope) -> None:
    assert decode(encode("origin-1", envelope)) == ("origin-1", envelope)


def test_wire_reads_an_envelope_without_users() -> None:
    """A process of the previous release (rolling upgrade) sends eight fields."""
    old = b'["o","room","{}","r_1",0,"u_1",null,[]]'
    assert decode(old) == ("o", Envelope(kind="room", text="{}", room_id="r_1", user_id="u_1"))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{}",
        b"[1,2]",
        b'["o","nope","",null,0,null,null,[]]',
        b'["o","event",1,null,0,null,null,[]]',
        b'["o","room","{}",null,0,null,null,[],[],"extra"]',
    ],
)
def test_wire_rejects_garbage(data: bytes) -> None:
    with pytest.raises(WireError):
        decode(data)


async def test_in_process_broker_delivers_in_order_and_never_remotely() -> None:
    broker = InProcessBroker()
    seen: list[Envelope] = []
    broker.subscribe(seen.append)
    for envelope in ENVELOPES[:2]:
        broker.publish_nowait(envelope)
    await broker.publish(ENVELOPES[2])
    broker.publish_remote(ENVELOPES[3])  # no other process
    assert seen == ENVELOPES[:3]
    await broker.close()
    broker.publish_nowait(ENVELOPES[0])
    assert len(seen) == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("online:", ("online", None)),
        ("away:", ("away", None)),
        ("offline:1700000000000", ("offline", 1700000000000)),
        ("bogus:", ("offline", None)),
    ],
)
def test_parse_state(value: str, expected: tuple[str, int | None]) -> None:
    assert parse_state(value) == expected


def test_redis_url_password_is_hidden_in_logs() -> None:
    assert _safe("redis://user:secret@host:6379/0") == "redis://***@host:6379/0"
    assert _safe("redis://host:6379/0") == "redis://host:6379/0"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


pytestmark = pytest.mark.anyio
