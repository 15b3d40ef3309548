"""The loop's plain-number metrics expose exactly what prometheus_client's own metrics would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from chatterbox.metrics import LATENCY_BUCKETS, Metrics

SAMPLES = [0.0001, 0.0005, 0.0007, 0.003, 0.003, 0.04, 0.9, 2.5, 7.0]


def _lines(text: bytes, prefix: str) -> list[str]:
    return sorted(
        line
        for line in text.decode().splitlines()
        if line.startswith(prefix) and not line.startswith(prefix + "_created")
    )


def _reference() -> bytes:
    """The same updates made on prometheus_client's Counter and Histogram."""
    r = CollectorRegistry()
    frames_in = Counter("chatterbox_ws_frames_in", "x", ["type"], registry=r)
    frames_out = Counter("chatterbox_ws_frames_out", "x", ["type"], registry=r)
    stored = Counter("chatterbox_messages_stored", "x", registry=r)
    latency = Histogram(
        "chatterbox_command_seconds", "x", ["type"], buckets=LATENCY_BUCKETS, registry=r
    )
    for _ in range(3):
        frames_in.labels("message.send").inc()
    frames_in.labels("ping").inc()
    frames_out.labels("message.created").inc(250)
    stored.inc(3)
    for s in SAMPLES:
        latency.labels("message.send").observe(s)
    latency.labels("history").observe(0.002)
    return generate_latest(r)


def test_loop_metrics_match_prometheus_client() -> None:
    metrics = Metrics()
    loop = metrics.loop
    for _ in range(3):
        loop.frames_in["message.send"] += 1
    loop.frames_in["ping"] += 1
    loop.frames_out["message.created"] += 250
    loop.messages_stored += 3
    for s in SAMPLES:
        loop.observe_latency("message.send", s)
    loop.observe_latency("history", 0.002)
    ours, theirs = generate_latest(metrics.registry), _reference()
    for name in (
        "chatterbox_ws_frames_in_total",
        "chatterbox_ws_frames_out_total",
        "chatterbox_messages_stored_total",
        "chatterbox_command_seconds_bucket",
        "chatterbox_command_seconds_count",
        "chatterbox_command_seconds_sum",
    ):
        assert _lines(ours, name) == _lines(theirs, name), name
        assert _lines(ours, name), name
    # A bucket is cumulative and includes its upper bound (le): 0.0005 lands in le="0.0005".
    assert 'chatterbox_command_seconds_bucket{le="0.0005",type="message.send"} 2.0' in (
        ours.decode()
    )


def test_empty_loop_metrics_still_expose_the_counters() -> None:
    text = generate_latest(Metrics().registry).decode()
    assert "chatterbox_messages_stored_total 0.0" in text
    assert "# TYPE chatterbox_ws_frames_in_total counter" in text
    assert "# TYPE chatterbox_command_seconds histogram" in text
