"""Typing indicators."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatterbox.domain.typing_state import TypingTracker

I = 6000  # noqa: E741 - the interval


def test_start_broadcasts_once_and_expires() -> None:
    t = TypingTracker(I)
    assert t.start("r", "u", 0) is True
    assert t.start("r", "u", 100) is False
    assert t.typing_in("r", 100) == ["u"]
    assert t.next_expiry_ms() == I + 100
    assert t.expire(I + 99) == []
    assert t.expire(I + 100) == [("r", "u")]
    assert t.typing_in("r", I + 100) == []
    assert len(t) == 0
    assert t.next_expiry_ms() is None


def test_renewals_rebroadcast_at_most_once_per_half_interval() -> None:
    t = TypingTracker(I)
    sent = [now for now in range(0, 20_000, 250) if t.start("r", "u", now)]
    assert sent == [0, 3000, 6000, 9000, 12000, 15000, 18000]


def test_stop_and_restart() -> None:
    t = TypingTracker(I)
    t.start("r", "u", 0)
    assert t.stop("r", "u") is True
    assert t.stop("r", "u") is False
    assert t.start("r", "u", 10) is True
    assert t.expire(10_000) == [("r", "u")]


def test_start_after_uncollected_expiry_broadcasts() -> None:
    t = TypingTracker(I)
    t.start("r", "u", 0)
    assert t.start("r", "u", I) is True  # the old one was already dead on every client


def test_stop_of_uncollected_expired_entry_still_reports() -> None:
    t = TypingTracker(I)
    t.start("r", "u", 0)
    assert t.stop("r", "u") is True
    assert t.expire(I * 10) == []


def test_clear_user_on_disconnect() -> None:
    t = TypingTracker(I)
    t.start("r2", "u", 0)
    t.start("r1", "u", 0)
    t.start("r1", "v", 0)
    assert t.clear_user("u") == [("r1", "u"), ("r2", "u")]
    assert t.clear_user("u") == []
    assert t.typing_in("r1", 1) == ["v"]


def test_rooms_and_users_independent() -> None:
    t = TypingTracker(I)
    assert t.start("r1", "u", 0)
    assert t.start("r2", "u", 0)
    assert t.start("r1", "v", 0)
    assert sorted(t.typing_in("r1", 0)) == ["u", "v"]
    assert t.expire(I) == [("r1", "u"), ("r1", "v"), ("r2", "u")]


def test_validation() -> None:
    with pytest.raises(ValueError, match="interval"):
        TypingTracker(1)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["start", "stop", "clear", "expire"]),
            st.sampled_from(["r1", "r2"]),
            st.sampled_from(["u", "v"]),
            st.integers(0, 4000),
        ),
        max_size=80,
    )
)
def test_no_indicator_can_stick(ops: list[tuple[str, str, str, int]]) -> None:
    """Whatever happens, every start is followed by exactly one stop, within the interval."""
    t = TypingTracker(I)
    now = 0
    showing: dict[tuple[str, str], int] = {}  # what clients see: key -> last start broadcast
    for op, room, user, dt in ops:
        now += dt
        if op == "start":
            if t.start(room, user, now):
                showing[(room, user)] = now
        elif op == "stop":
            if t.stop(room, user):
                del showing[(room, user)]
            else:
                assert (room, user) not in showing
        elif op == "clear":
            for key in t.clear_user(user):
                del showing[key]
        else:
            for key in t.expire(now):
                del showing[key]
        # a client's indicator never outlives the server's knowledge of it
        assert set(showing) == {k for k in showing if k in t._entries}
    stops = t.expire(now + I)
    for key in stops:
        del showing[key]
    assert showing == {}
    assert len(t) == 0
