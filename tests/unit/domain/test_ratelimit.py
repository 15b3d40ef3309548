"""Token buckets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatterbox.domain.ratelimit import BucketMap, TakeResult, TokenBucket


def test_starts_full_then_refuses_with_retry_after() -> None:
    b = TokenBucket(rate_per_second=2, burst=3)
    assert [b.take(0) for _ in range(3)] == [TakeResult(True, 0)] * 3
    allowed, retry = b.take(0)
    assert not allowed
    assert retry == 500
    assert not b.take(499).allowed
    assert b.take(500).allowed


def test_refill_is_capped_at_burst() -> None:
    b = TokenBucket(10, 5)
    for _ in range(5):
        b.take(0)
    assert b.tokens(60_000) == 5
    assert [b.take(60_000).allowed for _ in range(6)] == [True] * 5 + [False]


def test_cost() -> None:
    b = TokenBucket(1, 10)
    assert b.take(0, cost=7).allowed
    r = b.take(0, cost=5)
    assert r == TakeResult(False, 2000)
    assert b.tokens(0) == 3  # a refused take takes nothing
    assert b.take(0, cost=0).allowed
    with pytest.raises(ValueError, match="exceeds burst"):
        b.take(0, cost=11)
    with pytest.raises(ValueError, match="cost"):
        b.take(0, cost=-1)


def test_fractional_rate_and_rounding_up() -> None:
    b = TokenBucket(0.3, 1)
    assert b.take(0).allowed
    r = b.take(0)
    assert r == TakeResult(False, 3334)
    assert not b.take(3333).allowed
    assert b.take(3334).allowed


def test_clock_going_backwards_gains_nothing() -> None:
    b = TokenBucket(1, 2)
    b.take(10_000)
    b.take(10_000)
    assert not b.take(5_000).allowed
    assert not b.take(10_500).allowed
    assert b.take(11_000).allowed


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (float("inf"), 1), (1, 0)])
def test_validation(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        TokenBucket(rate, burst)


@given(
    rate=st.floats(0.1, 50),
    burst=st.integers(1, 20),
    steps=st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 3)), max_size=200),
)
def test_never_exceeds_burst_plus_refill(
    rate: float, burst: int, steps: list[tuple[int, int]]
) -> None:
    b = TokenBucket(rate, burst)
    now = 0
    taken: list[tuple[int, int]] = []
    for dt, cost in steps:
        now += dt
        cost = min(cost, burst)
        allowed, retry = b.take(now, cost)
        if allowed:
            assert retry == 0
            taken.append((now, cost))
        else:
            assert retry >= 1
            assert b.take(now + retry, cost).allowed  # the promise holds…
            taken.append((now + retry, cost))
            now += retry  # …and time moved on
        assert 0 <= b.tokens(now) <= burst
    # in any window [t0, t1], at most burst + rate*(t1-t0) tokens were taken
    for i, (t0, _) in enumerate(taken):
        total = 0
        for t1, cost in taken[i:]:
            total += cost
            assert total <= burst + rate * (t1 - t0) / 1000 + 1e-6


def test_bucket_map_per_key_and_bounded() -> None:
    m = BucketMap(1, 2, max_keys=3)
    assert m.take("a", 0).allowed
    assert m.take("a", 0).allowed
    assert not m.take("a", 0).allowed
    assert m.take("b", 0).allowed
    for k in "cdef":
        m.take(k, 0)
    assert len(m) == 3
    assert m.take("a", 0).allowed  # "a" was evicted (LRU) and comes back full
    m.prune(10_000)
    assert len(m) == 0


def test_bucket_map_lru_keeps_recent_key() -> None:
    m = BucketMap(1, 1, max_keys=2)
    m.take("a", 0)
    m.take("b", 0)
    m.take("a", 1)  # refused, but touches "a"
    m.take("c", 2)  # evicts "b"
    assert not m.take("a", 3).allowed
    with pytest.raises(ValueError, match="max_keys"):
        BucketMap(1, 1, max_keys=0)
    with pytest.raises(ValueError, match="burst"):
        BucketMap(1, 0)
