"""Presence tracking with multiple tabs and a grace period."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatterbox.domain.presence import PresenceChange, PresenceTracker

G = 5000


def test_online_then_offline_after_grace() -> None:
    p = PresenceTracker(G)
    assert p.connection_opened("u", "c1", 0) == PresenceChange("u", "online", None)
    assert p.status("u") == "online"
    p.connection_closed("u", "c1", 1000)
    assert p.status("u") == "online"  # within grace
    assert p.next_due_ms() == 1000 + G
    assert p.due(1000 + G - 1) == []
    assert p.due(1000 + G) == [PresenceChange("u", "offline", 1000)]
    assert p.status("u") == "offline"
    assert p.last_seen_ms("u") == 1000  # when the connection closed, not when announced
    assert p.due(100_000) == []
    assert p.next_due_ms() is None


def test_reconnect_within_grace_is_silent() -> None:
    p = PresenceTracker(G)
    p.connection_opened("u", "c1", 0)
    p.connection_closed("u", "c1", 1000)
    assert p.connection_opened("u", "c2", 3000) is None
    assert p.due(10_000) == []
    assert p.status("u") == "online"


def test_multiple_tabs_online_until_last_closes() -> None:
    p = PresenceTracker(G)
    assert p.connection_opened("u", "c1", 0) is not None
    assert p.connection_opened("u", "c2", 10) is None
    assert p.connection_count("u") == 2
    p.connection_closed("u", "c1", 20)
    assert p.due(20 + G) == []
    p.connection_closed("u", "c2", 30_000)
    assert p.due(30_000 + G) == [PresenceChange("u", "offline", 30_000)]


def test_reopen_after_offline_announces_online_and_clears_last_seen() -> None:
    p = PresenceTracker(G)
    p.connection_opened("u", "c1", 0)
    p.connection_closed("u", "c1", 0)
    p.due(G)
    assert p.connection_opened("u", "c2", 9000) == PresenceChange("u", "online", None)
    assert p.last_seen_ms("u") is None


def test_away_and_back() -> None:
    p = PresenceTracker(G)
    p.connection_opened("u", "c1", 0)
    assert p.set_away("u") == PresenceChange("u", "away", None)
    assert p.set_away("u") is None
    assert p.status("u") == "away"
    # reconnect within grace keeps away
    p.connection_closed("u", "c1", 10)
    assert p.connection_opened("u", "c2", 20) is None
    assert p.status("u") == "away"
    # a second tab doesn't reset away either
    assert p.connection_opened("u", "c3", 30) is None
    assert p.set_online("u") == PresenceChange("u", "online", None)
    assert p.set_online("u") is None


def test_away_cleared_after_going_offline() -> None:
    p = PresenceTracker(G)
    p.connection_opened("u", "c1", 0)
    p.set_away("u")
    p.connection_closed("u", "c1", 10)
    assert p.due(10 + G) == [PresenceChange("u", "offline", 10)]
    assert p.connection_opened("u", "c2", 99_999) == PresenceChange("u", "online", None)


def test_set_status_without_connection_is_ignored() -> None:
    p = PresenceTracker(G)
    assert p.set_away("ghost") is None
    assert p.set_online("ghost") is None
    assert p.status("ghost") == "offline"
    assert p.snapshot("ghost") == PresenceChange("ghost", "offline", None)
    p.connection_opened("u", "c1", 0)
    p.connection_closed("u", "c1", 1)
    assert p.set_away("u") is None  # in grace, no connection


def test_unknown_and_duplicate_connection_ids() -> None:
    p = PresenceTracker(G)
    p.connection_closed("u", "nope", 0)
    assert p.status("u") == "offline"
    p.connection_opened("u", "c1", 0)
    assert p.connection_opened("u", "c1", 1) is None
    p.connection_closed("u", "c1", 2)
    p.connection_closed("u", "c1", 3)  # twice: ignored
    assert p.due(2 + G) == [PresenceChange("u", "offline", 2)]


def test_zero_grace_and_validation_and_forget() -> None:
    p = PresenceTracker(0)
    p.connection_opened("u", "c", 0)
    p.connection_closed("u", "c", 5)
    assert p.due(5) == [PresenceChange("u", "offline", 5)]
    p.forget("u")
    assert p.last_seen_ms("u") is None
    p.connection_opened("v", "c", 0)
    p.forget("v")  # online users are kept
    assert p.status("v") == "online"
    with pytest.raises(ValueError, match="grace"):
        PresenceTracker(-1)


def test_due_sorted_by_user() -> None:
    p = PresenceTracker(0)
    for u in ("u3", "u1", "u2"):
        p.connection_opened(u, "c", 0)
        p.connection_closed(u, "c", 0)
    assert [c.user_id for c in p.due(0)] == ["u1", "u2", "u3"]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["open", "close", "away", "online", "due"]),
            st.sampled_from(["c1", "c2", "c3"]),
            st.integers(0, 3000),
        ),
        max_size=60,
    )
)
def test_announcements_are_consistent(ops: list[tuple[str, str, int]]) -> None:
    """Broadcast changes alternate sensibly and end offline once every tab is closed."""
    p = PresenceTracker(G)
    now = 0
    seen_by_clients = "offline"
    conns: set[str] = set()
    for op, conn, dt in ops:
        now += dt
        change: PresenceChange | None = None
        changes: list[PresenceChange] = []
        if op == "open":
            change = p.connection_opened("u", conn, now)
            conns.add(conn)
        elif op == "close":
            p.connection_closed("u", conn, now)
            conns.discard(conn)
        elif op == "away":
            change = p.set_away("u")
        elif op == "online":
            change = p.set_online("u")
        else:
            changes = p.due(now)
        if change is not None:
            changes.append(change)
        for c in changes:
            assert c.status != seen_by_clients  # never a redundant broadcast
            assert (c.last_seen_ms is None) == (c.status != "offline")
            seen_by_clients = c.status
        assert p.status("u") == seen_by_clients
        if conns:
            assert seen_by_clients != "offline"
    for conn in list(conns):
        p.connection_closed("u", conn, now)
    for c in p.due(now + G):
        seen_by_clients = c.status
    assert seen_by_clients == "offline"
    assert p.status("u") == "offline"


def test_timers_follow_only_the_users_in_their_grace_period() -> None:
    p = PresenceTracker(G)
    for i in range(1000):
        p.connection_opened(f"u{i:04d}", f"c{i}", 0)
    assert p.next_due_ms() is None
    p.connection_closed("u0500", "c500", 100)
    p.connection_closed("u0007", "c7", 200)
    assert p.next_due_ms() == 100 + G
    p.connection_opened("u0500", "c500b", 300)  # back within grace: its timer is gone
    assert p.next_due_ms() == 200 + G
    assert p.due(200 + G) == [PresenceChange("u0007", "offline", 200)]
    assert p.next_due_ms() is None and p.due(10**9) == []
    assert p.status("u0500") == "online"
