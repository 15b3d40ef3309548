"""The benchmark report's resume comparison: one connection's replay vs one connection live."""

from __future__ import annotations

from typing import Any

from bench.report import Results, resume_lines
from bench.run import FULL


def _fanout(n: int, delivered_per_s: float) -> dict[str, Any]:
    return {
        "scenario": "fanout",
        "server": "chatterbox",
        "point": n,
        "rep": 0,
        "delivered_per_s": delivered_per_s,
    }


def _resume(events: int, seconds: float) -> dict[str, Any]:
    return {
        "scenario": "resume",
        "server": "chatterbox",
        "point": FULL.resume_events,
        "rep": 0,
        "resume_events": events,
        "resume_s": seconds,
        "resume_per_s": events / seconds,
    }


def test_replay_is_compared_with_the_highest_per_connection_live_rate() -> None:
    records = [
        _fanout(10, 100_000.0),  # 10 000 events/s to each connection
        _fanout(100, 470_000.0),  # 4 700
        _fanout(1000, 300_000.0),  # 300
        _resume(10_000, 0.25),  # 40 000 events/s
    ]
    text = "\n".join(resume_lines(Results(records), FULL))
    assert "N=10: 10,000 events/s" in text
    assert "N=100: 4,700 events/s" in text
    assert "Replay / the highest of these (N=10) = **4.00** (target ≥ 0.5)" in text
    # the aggregate comparison stays visible, labelled as such
    assert "470,000 deliveries/s (the one-connection replay is 0.09× that)" in text


def test_a_slow_replay_shows_below_target() -> None:
    records = [_fanout(10, 100_000.0), _resume(10_000, 5.0)]  # 2 000 events/s vs 10 000 live
    text = "\n".join(resume_lines(Results(records), FULL))
    assert "= **0.20** (target ≥ 0.5)" in text


def test_no_resume_record_no_section() -> None:
    assert resume_lines(Results([_fanout(10, 1.0)]), FULL) == []
