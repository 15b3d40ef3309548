"""Tokens, session validity and refresh-token rotation decisions."""

from __future__ import annotations

import hashlib
import re

import pytest

from chatterbox.auth.tokens import (
    SessionValidity,
    new_token,
    refresh_decision,
    session_validity,
    token_hash,
)

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR


def test_new_token_is_urlsafe_256_bits_and_unique() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for t in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", t)


def test_token_hash_is_sha256_hex() -> None:
    t = "abc"
    assert token_hash(t) == hashlib.sha256(b"abc").hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", token_hash(new_token()))
    assert token_hash("a") != token_hash("b")


def _session(now: int, *, last: int | None = None, revoked: int | None = None) -> SessionValidity:
    return session_validity(
        created_at_ms=0,
        last_used_at_ms=last,
        revoked_at_ms=revoked,
        now_ms=now,
        idle_timeout_ms=30 * MIN,
        absolute_lifetime_ms=DAY,
    )


@pytest.mark.parametrize(
    ("now", "last", "revoked", "reason"),
    [
        (0, None, None, None),
        (30 * MIN - 1, None, None, None),
        (30 * MIN, None, None, "idle_expired"),  # exclusive deadline
        (30 * MIN, 1, None, None),
        (50 * MIN, 25 * MIN, None, None),
        (56 * MIN, 25 * MIN, None, "idle_expired"),
        (DAY - 1, DAY - 2, None, None),
        (DAY, DAY - 1, None, "expired"),  # absolute limit despite recent use
        (DAY + 10 * HOUR, 0, None, "expired"),  # past both: absolute wins
        (5, None, 1, "revoked"),
        (DAY * 2, None, 1, "revoked"),  # revoked wins over everything
    ],
)
def test_session_validity(now: int, last: int | None, revoked: int | None, reason: str) -> None:
    v = _session(now, last=last, revoked=revoked)
    assert v.valid is (reason is None)
    assert v.reason == reason


def test_last_used_before_creation_is_clamped() -> None:
    v = session_validity(
        created_at_ms=100 * MIN,
        last_used_at_ms=0,
        revoked_at_ms=None,
        now_ms=110 * MIN,
        idle_timeout_ms=30 * MIN,
        absolute_lifetime_ms=DAY,
    )
    assert v.valid


@pytest.mark.parametrize(
    ("used", "revoked", "expires", "family", "now", "expected"),
    [
        (None, None, 100, None, 50, "rotate"),
        (None, None, 100, None, 99, "rotate"),
        (None, None, 100, None, 100, "expired"),
        (None, None, 100, 80, 90, "expired"),  # the family's absolute end
        (None, None, 100, 200, 90, "rotate"),
        (40, None, 100, None, 50, "reuse_detected"),
        (40, None, 100, None, 500, "reuse_detected"),  # reuse even after expiry
        (None, 45, 100, None, 50, "revoked"),
        (40, 45, 100, None, 50, "revoked"),  # family already revoked: nothing more to do
        (40, 45, 100, None, 500, "revoked"),
    ],
)
def test_refresh_decision(
    used: int | None,
    revoked: int | None,
    expires: int,
    family: int | None,
    now: int,
    expected: str,
) -> None:
    assert (
        refresh_decision(
            used_at_ms=used,
            revoked_at_ms=revoked,
            expires_at_ms=expires,
            now_ms=now,
            family_expires_at_ms=family,
        )
        == expected
    )


def test_rotation_scenario() -> None:
    """Legitimate client rotates; an attacker replays the stolen first token."""
    # token 1 used at t=10 (rotated to token 2); attacker presents token 1 at t=20
    assert refresh_decision(used_at_ms=10, revoked_at_ms=None, expires_at_ms=1000, now_ms=20) == (
        "reuse_detected"
    )
    # caller revokes the family at t=20; the legitimate client's token 2 is now dead too
    assert refresh_decision(used_at_ms=None, revoked_at_ms=20, expires_at_ms=1000, now_ms=30) == (
        "revoked"
    )
