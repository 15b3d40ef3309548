"""Pure pieces of the use cases and views: room names, topics, membership frames, log lines."""

from __future__ import annotations

import json
import logging

import pytest

from chatterbox.logging import JsonFormatter
from chatterbox.protocol.models.server.member_joined import MemberJoined
from chatterbox.protocol.models.server.member_left import MemberLeft
from chatterbox.service.errors import InvalidInput
from chatterbox.service.rooms import check_room_name, check_topic
from chatterbox.service.views import membership_frame
from chatterbox.store.records import RoomEventRecord, UserRecord

BOB = UserRecord("u_bob0000", "bob", "Bob", 0)


def test_room_names_and_topics() -> None:
    assert check_room_name("  design  ") == "design"
    assert check_room_name("e\u0301") == "\u00e9"  # NFC
    for bad in ("", "   ", "\u200b", "a\x00", "x" * 81):
        with pytest.raises(InvalidInput) as info:
            check_room_name(bad)
        assert info.value.field == "name"
    assert check_topic(None) is None and check_topic("  ") is None
    assert check_topic(" hi ") == "hi"
    with pytest.raises(InvalidInput):
        check_topic("x" * 251)


def test_membership_frames_match_the_schemas() -> None:
    joined = RoomEventRecord(
        "r_general", 7, "member.joined", None, BOB.id, {"role": "admin", "by": "u_alice00"}, 1000
    )
    frame = membership_frame(joined, BOB)
    MemberJoined.model_validate(frame)
    assert frame["role"] == "admin" and frame["by"] == "u_alice00" and frame["seq"] == 7
    assert frame["at"] == "1970-01-01T00:00:01.000Z"
    for reason, wire in (("removed", "removed"), ("left", "left"), ("kicked", "left")):
        left = RoomEventRecord(
            "r_general", 8, "member.left", None, BOB.id, {"reason": reason, "by": None}, 1000
        )
        frame = membership_frame(left, BOB)
        MemberLeft.model_validate(frame)
        assert frame["reason"] == wire
    with pytest.raises(ValueError, match="not a membership event"):
        membership_frame(
            RoomEventRecord("r_general", 9, "message.created", "m_1", BOB.id, None, 0), BOB
        )


def test_json_log_lines_carry_extra_fields() -> None:
    record = logging.LogRecord(
        "chatterbox.test", logging.INFO, __file__, 1, "hello %s", ("x",), None
    )
    record.user_id = "u_1"
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "hello x" and line["level"] == "info" and line["user_id"] == "u_1"
    assert line["logger"] == "chatterbox.test" and line["ts"].endswith("Z")
