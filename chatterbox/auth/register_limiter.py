"""Registration throttling per client address (in memory, time passed in).

A token bucket per address (:class:`~chatterbox.domain.ratelimit.BucketMap`): ``burst`` registrations
at once, then ``per_hour`` refilled evenly (one every ``3600 / per_hour`` seconds). An address whose
bucket is empty is refused with the wait until its next token, ``retry_after_s`` (whole seconds, at
least 1).

Usage: call :meth:`RegistrationLimiter.check` *first*, before the username lookup, the password
policy and the Argon2 hash; a refused attempt is answered 429 and costs nothing else.

Decisions:

- Every attempt that reaches the check counts, whatever its outcome (taken name, weak password):
  the point is to bound the work and the accounts one address can produce, and a refund for failed
  attempts would let a client probe usernames for free.
- Keys are :func:`~chatterbox.auth.login_limiter.address_key`: IPv4 per address, IPv6 per /64.
  Requests without a peer address (a Unix socket) share the key ``unknown``.
- Memory is bounded: at most ``max_keys`` buckets (the least recently used is evicted beyond that,
  its throttle forgotten early), and buckets that have refilled completely (indistinguishable from
  new ones) are dropped every ``prune_every_ms``, at the next check.
- In memory means per process, like the login limiter: with N processes an address gets N times
  the allowance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from chatterbox.auth.login_limiter import LimitDecision, address_key
from chatterbox.domain.ratelimit import BucketMap

__all__ = ["RegistrationLimitConfig", "RegistrationLimiter"]

_ALLOWED: Final = LimitDecision(allowed=True, retry_after_s=0, scope=None)


@dataclass(frozen=True, slots=True)
class RegistrationLimitConfig:
    """Thresholds of the registration limiter (``register_*`` in :class:`~chatterbox.config.Settings`)."""

    burst: int = 10
    """Registrations one address may make at once."""
    per_hour: float = 10.0
    """Registrations per hour an address regains once its burst is spent."""
    max_keys: int = 100_000
    """Most addresses remembered before the least recently seen is evicted."""
    prune_every_ms: int = 60_000
    """How often fully refilled buckets are dropped (at the next check after this long)."""

    def __post_init__(self) -> None:
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        if not (self.per_hour > 0 and math.isfinite(self.per_hour)):
            raise ValueError("per_hour must be a positive finite number")
        for name in ("max_keys", "prune_every_ms"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


class RegistrationLimiter:
    """Registration limiter; :meth:`check` takes the current time in ms."""

    def __init__(self, config: RegistrationLimitConfig | None = None) -> None:
        self.config: Final = config or RegistrationLimitConfig()
        """The thresholds in force."""
        c = self.config
        self._buckets = BucketMap(c.per_hour / 3600.0, c.burst, max_keys=c.max_keys)
        self._pruned_at: int | None = None

    def check(self, address: str | None, now_ms: int) -> LimitDecision:
        """Count a registration attempt from ``address``; refused (nothing taken) when over the limit."""
        self._maybe_prune(now_ms)
        allowed, retry_after_ms = self._buckets.take(address_key(address or "unknown"), now_ms)
        if allowed:
            return _ALLOWED
        return LimitDecision(False, max(1, -(-retry_after_ms // 1000)), "address")

    def _maybe_prune(self, now_ms: int) -> None:
        if self._pruned_at is None or now_ms < self._pruned_at:  # first check, or a clock step back
            self._pruned_at = now_ms
        elif now_ms - self._pruned_at >= self.config.prune_every_ms:
            self.prune(now_ms)

    def prune(self, now_ms: int) -> None:
        """Drop the buckets of addresses that have regained their whole burst."""
        self._buckets.prune(now_ms)
        self._pruned_at = now_ms

    def __len__(self) -> int:
        """Number of addresses currently remembered."""
        return len(self._buckets)
