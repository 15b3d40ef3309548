"""The benchmark report's comparisons: resume (one connection's replay vs one connection live),
and the p99 at the latency target."""

from __future__ import annotations

from typing import Any

from bench.report import Results, latency_ratio_lines, resume_lines
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


def _latency(server: str, rep: int, p99_us: float, point: int = 10000) -> dict[str, Any]:
    return {
        "scenario": "latency",
        "server": server,
        "point": point,
        "rep": rep,
        "lat_p99_us": p99_us,
    }


def test_the_p99_ratio_is_the_median_of_every_repetition_at_the_target() -> None:
    records = [
        *(_latency("raw", rep, us) for rep, us in enumerate((2000, 2400, 2200, 9000, 2100, 2300))),
        *(_latency("chatterbox", rep, us) for rep, us in enumerate((3000, 2600, 2700, 2800))),
        *(_latency("minimal", rep, us) for rep, us in enumerate((2500, 2900))),
        _latency("chatterbox", 0, 99_000, point=20000),  # another rate: not in the ratio
    ]
    text = "\n".join(latency_ratio_lines(Results(records), 10000))
    # medians: raw 2250, Chatterbox 2750, minimal 2700
    assert "Chatterbox/raw = **1.22** (target ≤ 1.2)" in text
    assert "The minimal durable chat/raw = **1.20**" in text
    assert "Chatterbox/minimal = 1.02" in text
    assert "raw websockets.broadcast 2.00 / 2.40 / 2.20 / 9.00 / 2.10 / 2.30" in text
    assert "Chatterbox 3.00 / 2.60 / 2.70 / 2.80" in text
