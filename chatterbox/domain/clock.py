"""Time as the protocol sees it: integer milliseconds since the epoch, rendered as RFC 3339 UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["format_ms", "now_ms", "parse_ts"]


def now_ms() -> int:
    """The current time in whole milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


def format_ms(ms: int) -> str:
    """Render ``ms`` as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (the ``Timestamp`` schema)."""
    dt = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def parse_ts(ts: str) -> int:
    """Parse a ``Timestamp`` string back to milliseconds since the epoch."""
    dt = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1000 + dt.microsecond // 1000
