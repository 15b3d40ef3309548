"""Token buckets for command rate limits (time passed in, in ms).

A bucket holds at most ``burst`` tokens and refills at ``rate_per_second``; it starts full. A
request costing ``cost`` tokens is allowed if that many are available, else refused with the wait
until it would be (``retry_after_ms``, rounded up). A refused request takes nothing. Time that goes
backwards (clock steps) is treated as no time passing, so a bucket never gains tokens from it.
A ``cost`` above ``burst`` can never be satisfied and raises ``ValueError`` (a programming error).

:class:`BucketMap` keeps one bucket per key (a user, a connection) with bounded memory: a bucket
that has refilled completely is indistinguishable from a new one, so it can be dropped; beyond
``max_keys`` the least recently used bucket is evicted.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Final, NamedTuple

__all__ = ["BucketMap", "TakeResult", "TokenBucket"]


class TakeResult(NamedTuple):
    """Outcome of :meth:`TokenBucket.take` (unpacks as ``allowed, retry_after_ms``)."""

    allowed: bool
    """Whether the tokens were taken."""
    retry_after_ms: int
    """When refused, ms until the same request would be allowed; 0 when allowed."""


_TAKEN = TakeResult(True, 0)


class TokenBucket:
    """One token bucket."""

    __slots__ = ("_last_ms", "_tokens", "burst", "rate_per_second")

    def __init__(self, rate_per_second: float, burst: int) -> None:
        if rate_per_second <= 0 or not math.isfinite(rate_per_second):
            raise ValueError("rate_per_second must be a positive finite number")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate_per_second: Final = float(rate_per_second)
        """Refill rate, tokens per second."""
        self.burst: Final = burst
        """Capacity: the most tokens that can be taken at once."""
        self._tokens = float(burst)
        self._last_ms: int | None = None

    def _refill(self, now_ms: int) -> None:
        if self._last_ms is not None and now_ms > self._last_ms:
            gained = (now_ms - self._last_ms) * self.rate_per_second / 1000.0
            self._tokens = min(float(self.burst), self._tokens + gained)
        if self._last_ms is None or now_ms > self._last_ms:
            self._last_ms = now_ms

    def tokens(self, now_ms: int) -> float:
        """Tokens available at ``now_ms``."""
        self._refill(now_ms)
        return self._tokens

    def take(self, now_ms: int, cost: int = 1) -> TakeResult:
        """Take ``cost`` tokens if available."""
        if cost < 0:
            raise ValueError("cost must be >= 0")
        if cost > self.burst:
            raise ValueError(f"cost {cost} exceeds burst {self.burst}")
        self._refill(now_ms)
        # Tolerate float rounding: 0.9999999999 tokens after an exact refill counts as 1.
        if self._tokens + 1e-9 >= cost:
            self._tokens = max(0.0, self._tokens - cost)
            return _TAKEN
        missing = cost - self._tokens
        return TakeResult(False, max(1, math.ceil(missing * 1000.0 / self.rate_per_second)))

    def is_full(self, now_ms: int) -> bool:
        """Whether the bucket has refilled to ``burst`` (and so carries no state)."""
        return self.tokens(now_ms) >= self.burst


class BucketMap:
    """One :class:`TokenBucket` per key, with bounded memory."""

    def __init__(self, rate_per_second: float, burst: int, max_keys: int = 100_000) -> None:
        TokenBucket(rate_per_second, burst)  # validate the parameters early
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.rate_per_second: Final = rate_per_second
        """Refill rate of every bucket."""
        self.burst: Final = burst
        """Capacity of every bucket."""
        self.max_keys: Final = max_keys
        """Most buckets kept; the least recently used is evicted beyond it."""
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str, now_ms: int, cost: int = 1) -> TakeResult:
        """Take from ``key``'s bucket (created full on first use)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.rate_per_second, self.burst)
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(now_ms, cost)

    def prune(self, now_ms: int) -> None:
        """Drop buckets that have refilled completely."""
        for key in [k for k, b in self._buckets.items() if b.is_full(now_ms)]:
            del self._buckets[key]

    def __len__(self) -> int:
        """Number of buckets kept."""
        return len(self._buckets)
