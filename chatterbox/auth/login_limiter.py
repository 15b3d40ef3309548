"""Failed-login throttling per account and per client address (in memory, time passed in).

A sliding-window log: each key remembers the times of its most recent failures (at most
``max_failures`` of them, so memory per key is bounded). A key is locked while ``max_failures``
failures fall inside the window; it unlocks when the oldest of them leaves the window, and
``retry_after_s`` says when (rounded up to whole seconds, at least 1).

Usage: call :meth:`LoginLimiter.check` *before* verifying the password (a locked request is
answered 429 without spending an Argon2 hash), then :meth:`~LoginLimiter.record_failure` or
:meth:`~LoginLimiter.record_success`.

Decisions:

- The account key is whatever the client submitted, normalised by the caller with
  ``username_key``; unknown usernames are throttled exactly like real ones, so the limiter does not
  reveal which accounts exist.
- Success clears the *account's* failures only, never the address's: otherwise an attacker could
  reset their address counter by logging into an account of their own between guesses.
- IPv6 addresses are throttled per /64 (one subscriber's allocation; a single host can use any
  address in it); IPv4 per address. Unparseable addresses are used verbatim.
- Memory is bounded: at most ``max_keys`` keys per scope; beyond that the least recently failed key
  is evicted (its lockout is forgotten early). Keys whose failures have all left the window are
  dropped as they are met and by :meth:`~LoginLimiter.prune`. An account lockout lets anyone lock a
  victim out for one window; that is the accepted trade-off of per-account limits (NIST SP 800-63B
  §5.2.2 asks for them), kept short by the 15-minute default.
- In memory means per process: with several server processes the effective limit is multiplied by
  their number. Good enough as a brake; a shared store can replace it behind the same interface.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "LimitDecision",
    "LoginLimitConfig",
    "LoginLimiter",
    "address_key",
]

_MINUTES_15: Final = 15 * 60 * 1000

Scope = Literal["account", "address"]


@dataclass(frozen=True, slots=True)
class LoginLimitConfig:
    """Thresholds of the limiter."""

    account_max_failures: int = 5
    """Failures per account inside ``account_window_ms`` that lock it."""
    account_window_ms: int = _MINUTES_15
    """Sliding window for account failures."""
    address_max_failures: int = 20
    """Failures per client address inside ``address_window_ms`` that lock it."""
    address_window_ms: int = _MINUTES_15
    """Sliding window for address failures."""
    max_keys: int = 100_000
    """Most keys remembered per scope before the least recently failed is evicted."""

    def __post_init__(self) -> None:
        for name in (
            "account_max_failures",
            "account_window_ms",
            "address_max_failures",
            "address_window_ms",
            "max_keys",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


@dataclass(frozen=True, slots=True)
class LimitDecision:
    """Whether a login attempt may proceed."""

    allowed: bool
    """False while the account or the address is locked."""
    retry_after_s: int
    """Seconds until an attempt may succeed the limiter (0 when allowed)."""
    scope: Scope | None
    """Which limit is locked (``account`` wins when both are); ``None`` when allowed."""


_ALLOWED: Final = LimitDecision(allowed=True, retry_after_s=0, scope=None)


def address_key(address: str) -> str:
    """The throttling key of a client address: IPv4 as is, IPv6 as its /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class _Window:
    """Failure logs for one scope: key → timestamps of its latest failures, LRU ordered."""

    def __init__(self, max_failures: int, window_ms: int, max_keys: int) -> None:
        self.max_failures = max_failures
        self.window_ms = window_ms
        self.max_keys = max_keys
        self.logs: OrderedDict[str, deque[int]] = OrderedDict()

    def _live(self, key: str, now_ms: int) -> deque[int] | None:
        log = self.logs.get(key)
        if log is None:
            return None
        while log and log[0] <= now_ms - self.window_ms:
            log.popleft()
        if not log:
            del self.logs[key]
            return None
        return log

    def retry_after_ms(self, key: str, now_ms: int) -> int:
        """Milliseconds until ``key`` unlocks; 0 if it is not locked."""
        log = self._live(key, now_ms)
        if log is None or len(log) < self.max_failures:
            return 0
        return log[0] + self.window_ms - now_ms

    def fail(self, key: str, now_ms: int) -> None:
        log = self._live(key, now_ms)
        if log is None:
            log = deque(maxlen=self.max_failures)
            self.logs[key] = log
        else:
            self.logs.move_to_end(key)
        log.append(now_ms)
        while len(self.logs) > self.max_keys:
            self.logs.popitem(last=False)

    def reset(self, key: str) -> None:
        self.logs.pop(key, None)

    def prune(self, now_ms: int) -> None:
        for key in list(self.logs):
            self._live(key, now_ms)


def _seconds(ms: int) -> int:
    return max(1, -(-ms // 1000))


class LoginLimiter:
    """Failed-login limiter; every method takes the current time in ms."""

    def __init__(self, config: LoginLimitConfig | None = None) -> None:
        self.config: Final = config or LoginLimitConfig()
        """The thresholds in force."""
        c = self.config
        self._accounts = _Window(c.account_max_failures, c.account_window_ms, c.max_keys)
        self._addresses = _Window(c.address_max_failures, c.address_window_ms, c.max_keys)

    def check(self, account: str, address: str, now_ms: int) -> LimitDecision:
        """Whether a login attempt for ``account`` from ``address`` may proceed now."""
        account_wait = self._accounts.retry_after_ms(account, now_ms)
        if account_wait > 0:
            return LimitDecision(False, _seconds(account_wait), "account")
        address_wait = self._addresses.retry_after_ms(address_key(address), now_ms)
        if address_wait > 0:
            return LimitDecision(False, _seconds(address_wait), "address")
        return _ALLOWED

    def record_failure(self, account: str, address: str, now_ms: int) -> LimitDecision:
        """Count a failed attempt; returns the state for the *next* attempt."""
        self._accounts.fail(account, now_ms)
        self._addresses.fail(address_key(address), now_ms)
        return self.check(account, address, now_ms)

    def record_success(self, account: str) -> None:
        """Forget the account's failures (the address's stay counted)."""
        self._accounts.reset(account)

    def prune(self, now_ms: int) -> None:
        """Drop keys whose failures have all left their window (call now and then)."""
        self._accounts.prune(now_ms)
        self._addresses.prune(now_ms)

    def __len__(self) -> int:
        """Number of keys currently remembered (both scopes)."""
        return len(self._accounts.logs) + len(self._addresses.logs)
