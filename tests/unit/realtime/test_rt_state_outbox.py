"""The connection state machine, the bounded outbox and the per-room sequencer (no sockets)."""

from __future__ import annotations

import pytest

from chatterbox.realtime.outbox import Outbox
from chatterbox.realtime.sequencer import Sequencer
from chatterbox.realtime.state import ConnState, IllegalTransition, StateMachine


def test_state_machine_happy_path() -> None:
    sm = StateMachine()
    assert sm.state is ConnState.CONNECTING
    sm.to(ConnState.OPEN)
    assert sm.begin_close() is True
    assert sm.begin_close() is False
    sm.to(ConnState.CLOSED)
    assert sm.begin_close() is False


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ([], ConnState.CLOSED),
        ([ConnState.OPEN], ConnState.CONNECTING),
        ([ConnState.OPEN], ConnState.CLOSED),
        ([ConnState.OPEN, ConnState.CLOSING], ConnState.OPEN),
        ([ConnState.CLOSING, ConnState.CLOSED], ConnState.CLOSING),
    ],
)
def test_illegal_transitions_name_expected_and_actual(
    path: list[ConnState], bad: ConnState
) -> None:
    sm = StateMachine()
    for state in path:
        sm.to(state)
    with pytest.raises(IllegalTransition) as info:
        sm.to(bad)
    message = str(info.value)
    assert repr(bad.value) in message and repr(sm.state.value) in message
    assert info.value.actual is sm.state and info.value.target is bad


def test_outbox_bounds_frames_and_bytes() -> None:
    box = Outbox(max_frames=3, max_bytes=100)
    m = {"type": "websocket.send", "text": "x"}
    assert box.push(m, 40) and box.push(m, 40)
    assert not box.push(m, 40)  # bytes
    assert box.push(m, 20)
    assert not box.push(m, 0)  # frames
    assert (len(box), box.bytes) == (3, 100)
    assert box.pop() is m and box.bytes == 60
    box.clear()
    assert (len(box), box.bytes) == (0, 0)
    with pytest.raises(ValueError, match="positive"):
        Outbox(0, 1)


def test_sequencer_releases_in_order_and_drops_duplicates() -> None:
    seq: Sequencer[str] = Sequencer(gap_timeout_ms=500)
    seq.seed("r", 10)
    assert seq.offer("r", 10, "dup", 0) == []
    assert seq.offer("r", 12, "b", 0) == []
    assert seq.offer("r", 13, "c", 0) == []
    assert seq.next_deadline_ms() == 500
    assert seq.overdue(499) == []
    assert seq.offer("r", 11, "a", 100) == ["a", "b", "c"]
    assert seq.released("r") == 13 and seq.next_deadline_ms() is None
    assert seq.offer("r", 12, "again", 200) == []


def test_sequencer_gap_timeout_and_skip() -> None:
    seq: Sequencer[str] = Sequencer(gap_timeout_ms=500)
    assert seq.offer("r", 5, "first", 0) == ["first"]  # an unknown room starts where it is
    assert seq.offer("r", 8, "h", 10) == []
    assert seq.overdue(510) == [("r", 5, 8)]
    assert seq.offer("r", 6, "f", 520) == ["f"]  # part of the gap arrives
    assert seq.skip_to("r", 8, 600) == ["h"]  # 7 never came
    assert seq.released("r") == 8 and seq.overdue(10_000) == []


def test_sequencer_deadlines_follow_only_the_rooms_with_a_gap() -> None:
    seq: Sequencer[str] = Sequencer(gap_timeout_ms=500)
    for i in range(1000):
        seq.seed(f"r{i}", 1)
        assert seq.offer(f"r{i}", 2, "in order", 0) == ["in order"]
    assert seq.next_deadline_ms() is None and seq.overdue(10_000) == []
    assert seq.offer("r7", 4, "late", 100) == []
    assert seq.offer("r3", 5, "later", 300) == []
    assert seq.next_deadline_ms() == 600
    assert seq.overdue(700) == [("r7", 2, 4)]
    assert seq.overdue(850) == [("r7", 2, 4), ("r3", 2, 5)]
    assert seq.offer("r7", 3, "found", 900) == ["found", "late"]
    assert seq.next_deadline_ms() == 800
    assert seq.skip_to("r3", 5, 1000) == ["later"]
    assert seq.next_deadline_ms() is None and seq.overdue(10_000) == []
