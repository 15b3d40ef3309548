"""Receipt validation, coalescing and per-message status."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatterbox.domain.receipts import (
    CurrentMarkers,
    Marker,
    MarkerMove,
    ReceiptCoalescer,
    ReceiptError,
    ReceiptState,
    TargetMessage,
    message_status,
    validate_receipt,
)

ME = "u_me"
ROOM = "r_general"


def msg(
    seq: int = 10, *, author: str = "u_alice", room: str = ROOM, deleted: bool = False
) -> TargetMessage:
    return TargetMessage(id=f"m_{seq}", room_id=room, author_id=author, seq=seq, deleted=deleted)


def run(
    state: ReceiptState,
    message: TargetMessage | None,
    current: CurrentMarkers | None = None,
    *,
    can_read: bool = True,
) -> ReceiptError | list[MarkerMove]:
    return validate_receipt(
        sender_id=ME,
        room_id=ROOM,
        state=state,
        can_read=can_read,
        message=message,
        current=current or CurrentMarkers(),
    )


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"message": msg(), "can_read": False}, "not_member"),
        ({"message": None}, "unknown_message"),
        ({"message": msg(room="r_other")}, "other_room"),
        ({"message": msg(deleted=True)}, "deleted"),
        ({"message": msg(author=ME)}, "own_message"),
        ({"message": msg(5), "current": CurrentMarkers(10, 8)}, "backwards"),
    ],
)
@pytest.mark.parametrize("state", ["delivered", "seen"])
def test_errors(kwargs: dict[str, object], reason: str, state: ReceiptState) -> None:
    result = run(state, **kwargs)  # type: ignore[arg-type]
    assert result == ReceiptError(reason)  # type: ignore[arg-type]
    assert isinstance(result, ReceiptError)
    assert result.code == "invalid_receipt"


def test_check_order_not_member_hides_everything_else() -> None:
    assert run("seen", None, can_read=False) == ReceiptError("not_member")
    assert run("seen", msg(author=ME, room="r_x"), can_read=False) == ReceiptError("not_member")
    assert run("seen", msg(author=ME, room="r_x")) == ReceiptError("other_room")
    assert run("seen", msg(author=ME, deleted=True)) == ReceiptError("deleted")


def test_delivered_moves_only_delivered() -> None:
    assert run("delivered", msg(10), CurrentMarkers(3, 2)) == [
        MarkerMove("delivered", "m_10", 10, prev_seq=3)
    ]


def test_seen_moves_delivered_too_when_behind() -> None:
    assert run("seen", msg(10), CurrentMarkers(3, 2)) == [
        MarkerMove("delivered", "m_10", 10, prev_seq=3),
        MarkerMove("seen", "m_10", 10, prev_seq=2),
    ]


def test_seen_leaves_delivered_when_ahead() -> None:
    assert run("seen", msg(10), CurrentMarkers(12, 2)) == [
        MarkerMove("seen", "m_10", 10, prev_seq=2)
    ]


def test_seen_at_delivered() -> None:
    assert run("seen", msg(10), CurrentMarkers(10, 2)) == [
        MarkerMove("seen", "m_10", 10, prev_seq=2)
    ]


def test_equal_is_noop() -> None:
    assert run("seen", msg(10), CurrentMarkers(10, 10)) == []
    assert run("delivered", msg(10), CurrentMarkers(10, 4)) == []


def test_delivered_below_delivered_but_above_seen_is_backwards() -> None:
    assert run("delivered", msg(7), CurrentMarkers(10, 4)) == ReceiptError("backwards")


def test_seen_below_delivered_but_above_seen_is_fine() -> None:
    assert run("seen", msg(7), CurrentMarkers(10, 4)) == [MarkerMove("seen", "m_7", 7, prev_seq=4)]


def test_delivered_below_seen_is_backwards_even_if_store_broke_invariant() -> None:
    # a stored delivered < seen is treated as delivered = seen
    assert run("delivered", msg(5), CurrentMarkers(3, 8)) == ReceiptError("backwards")
    assert run("delivered", msg(8), CurrentMarkers(3, 8)) == []


@given(
    st.lists(
        st.tuples(st.sampled_from(["delivered", "seen"]), st.integers(1, 50)),
        max_size=60,
    )
)
def test_markers_never_move_backwards_and_seen_implies_delivered(
    commands: list[tuple[ReceiptState, int]],
) -> None:
    delivered, seen = 0, 0
    for state, seq in commands:
        result = run(state, msg(seq), CurrentMarkers(delivered, seen))
        if isinstance(result, ReceiptError):
            assert result.reason == "backwards"
            assert seq < (seen if state == "seen" else delivered)
            continue
        for move in result:
            if move.state == "delivered":
                assert move.seq > delivered
                delivered = move.seq
            else:
                assert move.seq > seen
                seen = move.seq
        assert delivered >= seen
        target = seen if state == "seen" else delivered
        assert target == max(target, seq)  # the named marker now covers the message


# --- coalescer ---------------------------------------------------------------------------------


def mk(user: str, seq: int, state: ReceiptState = "seen", room: str = ROOM, at: int = 0) -> Marker:
    return Marker(user, room, state, f"m_{seq}", seq, at)


def test_first_change_after_quiet_is_due_at_once() -> None:
    c = ReceiptCoalescer(1000)
    c.add(ROOM, mk("u_a", 5), now_ms=100)
    assert c.next_due_ms() == 100
    assert c.due(100) == [(ROOM, [mk("u_a", 5)])]
    assert c.due(100) == []
    assert len(c) == 0


def test_at_most_one_batch_per_room_per_interval_latest_wins() -> None:
    c = ReceiptCoalescer(1000)
    c.add(ROOM, mk("u_a", 5), 0)
    assert c.due(0) == [(ROOM, [mk("u_a", 5)])]
    c.add(ROOM, mk("u_a", 6), 10)
    c.add(ROOM, mk("u_b", 4), 20)
    c.add(ROOM, mk("u_a", 9), 30)
    c.add(ROOM, mk("u_a", 7), 40)  # older than 9: ignored
    c.add(ROOM, mk("u_a", 9, "delivered"), 50)
    assert c.next_due_ms() == 1000
    assert c.due(999) == []
    assert c.due(1000) == [(ROOM, [mk("u_b", 4), mk("u_a", 9, "delivered"), mk("u_a", 9)])]
    # next change after that flush waits for the interval again
    c.add(ROOM, mk("u_b", 11), 1500)
    assert c.due(1999) == []
    assert c.due(2000) == [(ROOM, [mk("u_b", 11)])]


def test_rooms_are_independent() -> None:
    c = ReceiptCoalescer(1000)
    c.add("r_1", mk("u_a", 1, room="r_1"), 0)
    assert [r for r, _ in c.due(0)] == ["r_1"]
    c.add("r_1", mk("u_a", 2, room="r_1"), 10)
    c.add("r_2", mk("u_a", 3, room="r_2"), 10)
    assert [r for r, _ in c.due(10)] == ["r_2"]
    assert [r for r, _ in c.due(1000)] == ["r_1"]


def test_idle_rooms_are_forgotten() -> None:
    c = ReceiptCoalescer(1000)
    c.add(ROOM, mk("u_a", 1), 0)
    c.due(0)
    assert c.due(5000) == []
    assert c._rooms == {}
    c.add(ROOM, mk("u_a", 2), 5000)
    assert c.due(5000) == [(ROOM, [mk("u_a", 2)])]


def test_zero_interval_and_validation() -> None:
    c = ReceiptCoalescer(0)
    c.add(ROOM, mk("u_a", 1), 0)
    assert c.due(0)
    c.add(ROOM, mk("u_a", 2), 0)
    assert c.due(0)
    with pytest.raises(ValueError, match="interval"):
        ReceiptCoalescer(-1)
    assert ReceiptCoalescer(5).next_due_ms() is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["r_1", "r_2"]),
            st.sampled_from(["u_a", "u_b"]),
            st.sampled_from(["delivered", "seen"]),
            st.integers(1, 100),
            st.integers(0, 700),
        ),
        max_size=60,
    )
)
def test_coalescer_properties(events: list[tuple[str, str, ReceiptState, int, int]]) -> None:
    interval = 1000
    c = ReceiptCoalescer(interval)
    now = 0
    flushes: dict[str, list[int]] = {}
    best: dict[tuple[str, str, str], int] = {}
    delivered: dict[tuple[str, str, str], int] = {}

    def drain(t: int) -> None:
        for room, markers in c.due(t):
            flushes.setdefault(room, []).append(t)
            keys = [(m.user_id, m.state) for m in markers]
            assert len(keys) == len(set(keys))  # one per (user, state)
            for m in markers:
                delivered[(room, m.user_id, m.state)] = max(
                    delivered.get((room, m.user_id, m.state), 0), m.seq
                )

    for room, user, state, seq, dt in events:
        now += dt
        drain(now)
        c.add(room, mk(user, seq, state, room), now)
        key = (room, user, state)
        best[key] = max(best.get(key, 0), seq)
    drain(now + interval)
    assert len(c) == 0
    assert delivered == best  # nothing lost: the furthest marker always gets out
    for times in flushes.values():
        assert all(b - a >= interval for a, b in itertools.pairwise(times))


# --- message status ----------------------------------------------------------------------------


def test_message_status() -> None:
    members = ["u_alice", "u_bob", "u_carol"]
    markers = {
        "u_bob": CurrentMarkers(delivered_seq=10, seen_seq=10),
        "u_carol": CurrentMarkers(delivered_seq=12, seen_seq=5),
        "u_alice": CurrentMarkers(0, 0),
    }
    s = message_status(author_id="u_alice", message_seq=10, member_ids=members, markers=markers)
    assert s.delivered_to_all and not s.seen_by_all
    assert s.delivered_to == ("u_bob", "u_carol")
    assert s.seen_by == ("u_bob",)
    s = message_status(author_id="u_alice", message_seq=5, member_ids=members, markers=markers)
    assert s.delivered_to_all and s.seen_by_all
    s = message_status(author_id="u_alice", message_seq=11, member_ids=members, markers=markers)
    assert not s.delivered_to_all and s.delivered_to == ("u_carol",) and s.seen_by == ()


def test_message_status_missing_markers_and_alone() -> None:
    s = message_status(author_id="u_a", message_seq=1, member_ids=["u_a", "u_b", "u_b"], markers={})
    assert (s.delivered_to_all, s.seen_by_all, s.delivered_to, s.seen_by) == (False, False, (), ())
    alone = message_status(author_id="u_a", message_seq=1, member_ids=["u_a"], markers={})
    assert not alone.delivered_to_all and not alone.seen_by_all


def test_message_status_seen_implies_delivered() -> None:
    s = message_status(
        author_id="u_a",
        message_seq=4,
        member_ids=["u_a", "u_b"],
        markers={"u_b": CurrentMarkers(delivered_seq=1, seen_seq=4)},
    )
    assert s.delivered_to_all and s.seen_by_all


def test_a_coalesced_marker_covers_every_move_it_replaces() -> None:
    c = ReceiptCoalescer(1000)
    c.add(ROOM, mk("u_a", 5), 0)
    c.due(0)
    c.add(ROOM, replace(mk("u_a", 6), prev_seq=5), 10)
    c.add(ROOM, replace(mk("u_a", 9), prev_seq=6), 20)
    c.add(ROOM, replace(mk("u_a", 7), prev_seq=2), 30)  # older, but from further back
    [(_, [marker])] = c.due(1000)
    assert (marker.seq, marker.prev_seq) == (9, 2)


def test_a_coalesced_marker_keeps_its_origin_only_if_every_move_had_it() -> None:
    c = ReceiptCoalescer(1000)
    c.add(ROOM, replace(mk("u_a", 5), origin="h:c1"), 0)
    c.add(ROOM, replace(mk("u_b", 5), origin="h:c2"), 0)
    c.due(0)
    c.add(ROOM, replace(mk("u_a", 6), origin="h:c1"), 10)
    c.add(ROOM, replace(mk("u_a", 7), origin="h:c1"), 20)
    c.add(ROOM, replace(mk("u_b", 6), origin="h:c2"), 10)
    c.add(ROOM, replace(mk("u_b", 7), origin="h:c3"), 20)  # another connection of u_b
    [(_, markers)] = c.due(1000)
    assert {(m.user_id, m.seq, m.origin) for m in markers} == {("u_a", 7, "h:c1"), ("u_b", 7, None)}
