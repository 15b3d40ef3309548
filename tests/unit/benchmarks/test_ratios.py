"""The benchmark report's latency and durable ratios, with and without the minimal durable chat."""

from __future__ import annotations

from typing import Any

from bench.report import Results, durable_lines, latency_ratio_lines
from bench.run import FULL, Runner


def _latency(server: str, p99_us: float) -> dict[str, Any]:
    return {"scenario": "latency", "server": server, "point": 10000, "rep": 0, "lat_p99_us": p99_us}


def _durable(server: str, per_s: float) -> dict[str, Any]:
    return {
        "scenario": "durable",
        "server": server,
        "point": FULL.durable_rooms,
        "rep": 0,
        "requests_per_s": per_s,
        "server_cpu_s": 1.0,
        "sent": int(per_s),
    }


def test_latency_ratios_against_raw_and_the_minimal_chat() -> None:
    res = Results([_latency("raw", 2000), _latency("chatterbox", 3000), _latency("minimal", 2600)])
    text = "\n".join(latency_ratio_lines(res))
    assert "Chatterbox/raw = **1.50** (target ≤ 1.2)" in text
    assert "The minimal durable chat/raw = **1.30**" in text
    assert "Chatterbox/minimal = 1.15" in text


def test_latency_without_the_minimal_chat_has_no_line_for_it() -> None:
    text = "\n".join(
        latency_ratio_lines(Results([_latency("raw", 2000), _latency("chatterbox", 2200)]))
    )
    assert "Chatterbox/raw = **1.10**" in text
    assert "minimal" not in text


def test_durable_ratios_against_echo_and_the_minimal_chat() -> None:
    res = Results(
        [_durable("echo", 50_000), _durable("chatterbox", 15_000), _durable("minimal", 20_000)]
    )
    text = "\n".join(durable_lines(res, FULL))
    assert "Chatterbox/echo = **0.30** (target ≥ 0.5)" in text
    assert "The minimal durable chat/echo = **0.40**" in text
    assert "Chatterbox/minimal = 0.75" in text
    # one row per server, each with its own ratio to the echo server
    assert "| Chatterbox (message.send → commit → ack) | 15,000 | 66.7 | 0.30 |" in text
    assert "| raw websockets echo (frame → same frame) | 50,000 | 20.0 | 1.00 |" in text


def test_each_server_runs_only_its_scenarios() -> None:
    runner = Runner(FULL, None, ["raw", "naive", "chatterbox", "echo", "minimal"], smoke=False)  # type: ignore[arg-type]
    assert runner.servers_for("fanout") == ["raw", "naive", "chatterbox"]
    assert runner.servers_for("latency") == ["raw", "naive", "chatterbox", "minimal"]
    assert runner.servers_for("durable") == ["chatterbox", "echo", "minimal"]
    assert Runner(FULL, None, ["chatterbox"], smoke=False).servers_for("durable") == ["chatterbox"]  # type: ignore[arg-type]
