"""Registration throttling per client address (time passed in: no sleeps)."""

from __future__ import annotations

import pytest

from chatterbox.auth.register_limiter import RegistrationLimitConfig, RegistrationLimiter

SEC = 1000
HOUR = 3600 * SEC


def test_burst_then_refused_with_retry_after_until_the_next_token() -> None:
    lim = RegistrationLimiter(RegistrationLimitConfig(burst=3, per_hour=6))  # one per 10 min
    assert [lim.check("203.0.113.7", 0).allowed for _ in range(3)] == [True] * 3
    d = lim.check("203.0.113.7", 0)
    assert (d.allowed, d.retry_after_s, d.scope) == (False, 600, "address")
    d = lim.check("203.0.113.7", 599_001)  # refused attempts take nothing: still 1 s to go
    assert (d.allowed, d.retry_after_s) == (False, 1)
    assert lim.check("203.0.113.7", 600 * SEC).allowed
    assert not lim.check("203.0.113.7", 600 * SEC).allowed  # one token per 10 minutes


def test_retry_after_rounds_up_to_whole_seconds() -> None:
    lim = RegistrationLimiter(RegistrationLimitConfig(burst=1, per_hour=3600))  # one per second
    assert lim.check("a", 0).allowed
    assert lim.check("a", 1).retry_after_s == 1  # 999 ms → 1 s
    assert lim.check("a", 999).retry_after_s == 1
    assert lim.check("a", 1000).allowed


def test_refill_is_capped_at_the_burst() -> None:
    lim = RegistrationLimiter(RegistrationLimitConfig(burst=2, per_hour=10))
    assert lim.check("a", 0).allowed
    later = 24 * HOUR
    assert [lim.check("a", later).allowed for _ in range(3)] == [True, True, False]


def test_addresses_are_independent_ipv6_per_slash_64() -> None:
    lim = RegistrationLimiter(RegistrationLimitConfig(burst=1, per_hour=1))
    assert lim.check("203.0.113.7", 0).allowed
    assert not lim.check("203.0.113.7", 0).allowed
    assert lim.check("203.0.113.8", 0).allowed
    assert lim.check("2001:db8:1:2::1", 0).allowed
    assert not lim.check("2001:db8:1:2:ffff::9", 0).allowed  # same /64
    assert lim.check("2001:db8:1:3::1", 0).allowed
    assert not lim.check("::ffff:203.0.113.7", 0).allowed  # IPv4-mapped = the IPv4 address
    assert lim.check(None, 0).allowed  # no peer address: one shared key
    assert not lim.check(None, 0).allowed
    assert not lim.check("unknown", 0).allowed


def test_default_thresholds() -> None:
    lim = RegistrationLimiter()
    assert [lim.check("a", 0).allowed for _ in range(11)] == [True] * 10 + [False]
    assert lim.check("a", 0).retry_after_s == 360  # 10 per hour
    assert lim.check("a", 360 * SEC).allowed


def test_full_buckets_are_pruned_at_the_next_check_after_the_interval() -> None:
    lim = RegistrationLimiter(RegistrationLimitConfig(burst=2, per_hour=60, prune_every_ms=30_000))
    for i in range(5):
        lim.check(f"10.0.0.{i}", 0)
    lim.check("10.0.0.0", 0)  # this one spends its whole burst
    assert len(lim) == 5
    lim.check("10.0.0.9", 29_999)  # before the interval: nothing dropped
    assert len(lim) == 6
    # At 60 s the one-token spenders (1/min) are full again; 10.0.0.0 (two spent) and the newcomer
    # are not.
    lim.check("10.0.0.8", 60_000)
    assert len(lim) == 3
    lim.prune(10 * 60_000)  # explicitly: everyone has refilled
    assert len(lim) == 0
    assert lim.check("10.0.0.0", 10 * 60_000).allowed


def test_a_clock_step_back_does_not_stop_pruning_until_it_catches_up() -> None:
    lim = RegistrationLimiter(RegistrationLimitConfig(burst=1, per_hour=3600, prune_every_ms=10))
    lim.check("a", 1_000_000)
    lim.check("b", 5)  # the clock stepped back: the prune timer restarts from here
    lim.check("c", 2_000)  # pruned first: b has refilled; a gains nothing from the step back
    assert len(lim) == 2  # a and c


def test_memory_is_bounded_by_max_keys() -> None:
    lim = RegistrationLimiter(RegistrationLimitConfig(burst=1, per_hour=1, max_keys=100))
    for i in range(1000):
        assert lim.check(f"10.0.{i // 256}.{i % 256}", i).allowed
    assert len(lim) == 100
    assert not lim.check("10.0.3.231", 1000).allowed  # the most recent ones are still throttled


@pytest.mark.parametrize(
    "kwargs",
    [
        {"burst": 0},
        {"per_hour": 0},
        {"per_hour": float("inf")},
        {"max_keys": 0},
        {"prune_every_ms": 0},
    ],
)
def test_config_is_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RegistrationLimitConfig(**kwargs)  # type: ignore[arg-type]
