"""Timestamps as the protocol writes them: ``YYYY-MM-DDTHH:MM:SS.mmmZ``, UTC, millisecond precision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatterbox.domain.clock import format_ms, parse_ts

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_MS = 253_402_300_800_000  # year 10000


def reference(ms: int) -> str:
    dt = EPOCH + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (999, "1970-01-01T00:00:00.999Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),  # leap day
        (1_798_761_599_999, "2026-12-31T23:59:59.999Z"),
        (MAX_MS - 1, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_known_instants(ms: int, text: str) -> None:
    assert format_ms(ms) == text
    assert parse_ts(text) == ms


@given(st.integers(min_value=0, max_value=MAX_MS - 1))
def test_agrees_with_datetime_and_round_trips(ms: int) -> None:
    text = format_ms(ms)
    assert text == reference(ms)
    assert parse_ts(text) == ms


def test_the_same_second_twice_and_outside_the_cached_range() -> None:
    assert format_ms(1_764_235_000_123) == "2025-11-27T09:16:40.123Z"
    assert format_ms(1_764_235_000_999) == "2025-11-27T09:16:40.999Z"  # same second, other ms
    with pytest.raises(ValueError, match="out of range"):
        format_ms(MAX_MS)  # five-digit years are not timestamps (datetime refuses them too)


@given(st.lists(st.integers(min_value=0, max_value=MAX_MS - 1), min_size=1, max_size=6))
def test_the_same_millisecond_in_a_row_and_then_another(sequence: list[int]) -> None:
    """The one-entry cache of the last millisecond never answers for another one."""
    for ms in [*sequence, *sequence[::-1], sequence[0], sequence[0]]:
        assert format_ms(ms) == reference(ms)
