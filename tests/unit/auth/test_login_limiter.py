"""Failed-login throttling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatterbox.auth.login_limiter import LoginLimitConfig, LoginLimiter, address_key

MIN = 60_000
WINDOW = 15 * MIN


def test_account_locks_after_five_failures_and_unlocks_after_window() -> None:
    lim = LoginLimiter()
    for i in range(4):
        d = lim.record_failure("alice", f"10.0.0.{i}", now_ms=i * 1000)
        assert d.allowed
    d = lim.record_failure("alice", "10.0.0.9", now_ms=4000)
    assert not d.allowed
    assert d.scope == "account"
    assert d.retry_after_s == 15 * 60 - 4  # the failure at 0 leaves the window at 900 s
    assert not lim.check("alice", "192.0.2.1", 5000).allowed  # any address
    assert lim.check("bob", "192.0.2.1", 5000).allowed  # other accounts unaffected
    assert lim.check("alice", "192.0.2.1", WINDOW - 1).retry_after_s == 1
    # the first failure leaves the window at exactly WINDOW: 4 left, unlocked
    assert lim.check("alice", "192.0.2.1", WINDOW).allowed


def test_sliding_window_retry_after_tracks_oldest_relevant_failure() -> None:
    lim = LoginLimiter(LoginLimitConfig(account_max_failures=3, account_window_ms=10_000))
    for t in (0, 4000, 8000):
        lim.record_failure("a", "1.1.1.1", t)
    d = lim.check("a", "1.1.1.1", 8000)
    assert (d.allowed, d.retry_after_s) == (False, 2)
    # after t=10000 the failure at 0 is out: unlocked; a new failure locks until 14000
    assert lim.check("a", "1.1.1.1", 10_000).allowed
    d = lim.record_failure("a", "1.1.1.1", 10_500)
    assert (d.allowed, d.retry_after_s) == (False, 4)


def test_retry_after_rounds_up() -> None:
    lim = LoginLimiter(LoginLimitConfig(account_max_failures=1, account_window_ms=1500))
    d = lim.record_failure("a", "x", 0)
    assert d.retry_after_s == 2
    assert lim.check("a", "x", 1499).retry_after_s == 1


def test_address_locks_after_twenty_failures_across_accounts() -> None:
    lim = LoginLimiter()
    for i in range(19):
        assert lim.record_failure(f"user{i}", "203.0.113.7", i).allowed
    d = lim.record_failure("user19", "203.0.113.7", 19)
    assert not d.allowed
    assert d.scope == "address"
    assert not lim.check("someone-else", "203.0.113.7", 20).allowed
    assert lim.check("someone-else", "203.0.113.8", 20).allowed


def test_account_scope_reported_first() -> None:
    lim = LoginLimiter(LoginLimitConfig(account_max_failures=2, address_max_failures=2))
    lim.record_failure("a", "ip", 0)
    d = lim.record_failure("a", "ip", 1)
    assert d.scope == "account"


def test_success_resets_account_but_not_address() -> None:
    lim = LoginLimiter(LoginLimitConfig(account_max_failures=3, address_max_failures=5))
    for t in range(2):
        lim.record_failure("alice", "ip", t)
    lim.record_success("alice")
    for t in range(2, 4):
        assert lim.record_failure("alice", "ip", t).allowed  # counter restarted
    # address has 4 failures; one more (any account) locks it
    d = lim.record_failure("mallory", "ip", 5)
    assert not d.allowed
    assert d.scope == "address"
    lim.record_success("mallory")
    assert not lim.check("mallory", "ip", 6).allowed


def test_ipv6_grouped_by_64_and_mapped_ipv4() -> None:
    assert address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") == "192.0.2.1"
    assert address_key("testclient") == "testclient"
    lim = LoginLimiter(LoginLimitConfig(address_max_failures=2))
    lim.record_failure("a", "2001:db8:1:2::1", 0)
    lim.record_failure("b", "2001:db8:1:2::ffff", 1)
    assert not lim.check("c", "2001:db8:1:2:abcd::9", 2).allowed
    assert lim.check("c", "2001:db8:1:3::1", 2).allowed


def test_memory_is_bounded_and_pruned() -> None:
    lim = LoginLimiter(LoginLimitConfig(max_keys=10))
    for i in range(100):
        lim.record_failure(f"user{i}", f"10.0.{i}.1", i)
    assert len(lim) <= 20
    lim.prune(WINDOW + 100)
    assert len(lim) == 0


def test_expired_keys_dropped_on_check() -> None:
    lim = LoginLimiter()
    lim.record_failure("a", "ip", 0)
    assert len(lim) == 2
    lim.check("a", "ip", WINDOW)
    assert len(lim) == 0


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="account_max_failures"):
        LoginLimitConfig(account_max_failures=0)
    with pytest.raises(ValueError, match="max_keys"):
        LoginLimitConfig(max_keys=0)


@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 60_000), st.booleans()),
        max_size=80,
    )
)
def test_never_more_than_max_failures_allowed_per_window(
    events: list[tuple[int, int, int, bool]],
) -> None:
    """Property: if callers respect check(), no account gets more than N tries per window."""
    cfg = LoginLimitConfig(account_max_failures=3, account_window_ms=10_000, address_max_failures=5)
    lim = LoginLimiter(cfg)
    now = 0
    attempts: dict[str, list[int]] = {}
    for acct_i, addr_i, dt, _ in events:
        now += dt % 5000
        acct, addr = f"u{acct_i}", f"10.0.0.{addr_i}"
        d = lim.check(acct, addr, now)
        if d.allowed:
            lim.record_failure(acct, addr, now)
            attempts.setdefault(acct, []).append(now)
        else:
            assert d.retry_after_s >= 1
    for times in attempts.values():
        for t in times:
            in_window = [x for x in times if t - cfg.account_window_ms < x <= t]
            assert len(in_window) <= cfg.account_max_failures
