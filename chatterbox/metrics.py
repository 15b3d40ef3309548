"""Prometheus metrics, exposed at ``/metrics``. One registry per app (tests build many apps)."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

__all__ = ["LATENCY_BUCKETS", "LoopMetrics", "Metrics"]

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
"""Upper bounds (seconds) of ``chatterbox_command_seconds``'s buckets."""


class _Latency:
    """One command type's histogram: a count per bucket (the last: above every bound), the sum."""

    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.sum = 0.0


class LoopMetrics(Collector):
    """The metrics the real-time path updates per frame, kept as plain numbers.

    They are only ever updated on the event loop, so they need neither the lock nor the three
    calls per update of a ``prometheus_client`` metric (~0.7 µs a counter, ~1.5 µs a histogram
    observation; a ``message.send`` made five of them). They are turned into metric families
    when ``/metrics`` is scraped: counters ``chatterbox_ws_frames_in`` / ``_frames_out`` by type
    and ``chatterbox_messages_stored``, histogram ``chatterbox_command_seconds`` by type.
    """

    def __init__(self) -> None:
        self.frames_in: defaultdict[str, int] = defaultdict(int)
        """Frames received, by type (``metrics.frames_in[kind] += 1``)."""
        self.frames_out: defaultdict[str, int] = defaultdict(int)
        """Frames sent, per recipient, by type."""
        self.messages_stored = 0
        """Messages committed to the store."""
        self._latency: dict[str, _Latency] = {}

    def observe_latency(self, kind: str, seconds: float) -> None:
        """Time from receiving a ``kind`` command to its answer."""
        latency = self._latency.get(kind)
        if latency is None:
            latency = self._latency[kind] = _Latency()
        latency.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        latency.sum += seconds

    def _families(self) -> tuple[CounterMetricFamily, ...]:
        return (
            CounterMetricFamily(
                "chatterbox_ws_frames_in", "Frames received, by type", labels=["type"]
            ),
            CounterMetricFamily(
                "chatterbox_ws_frames_out",
                "Frames sent (per recipient), by type",
                labels=["type"],
            ),
            CounterMetricFamily(
                "chatterbox_messages_stored", "Messages committed to the store", labels=[]
            ),
        )

    def describe(self) -> Iterator[Metric]:
        """The families' names (registration checks them for duplicates)."""
        yield from self._families()
        yield HistogramMetricFamily("chatterbox_command_seconds", "", labels=["type"])

    def collect(self) -> Iterator[Metric]:
        """The current values (on a scrape)."""
        frames_in, frames_out, stored = self._families()
        for kind, n in sorted(self.frames_in.copy().items()):
            frames_in.add_metric([kind], n)
        for kind, n in sorted(self.frames_out.copy().items()):
            frames_out.add_metric([kind], n)
        stored.add_metric([], self.messages_stored)
        yield from (frames_in, frames_out, stored)
        latency = HistogramMetricFamily(
            "chatterbox_command_seconds",
            "Time from receiving a command to its answer, by command type",
            labels=["type"],
        )
        bounds = [repr(float(b)) for b in LATENCY_BUCKETS] + ["+Inf"]
        for kind, h in sorted(self._latency.copy().items()):
            counts = list(h.counts)
            cumulative, total = [], 0
            for bound, n in zip(bounds, counts, strict=True):
                total += n
                cumulative.append((bound, float(total)))
            latency.add_metric([kind], cumulative, h.sum)
        yield latency


@dataclass
class Metrics:
    """Every metric the server records."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.connections = Gauge(
            "chatterbox_ws_connections", "Open WebSocket connections", registry=r
        )
        self.loop = LoopMetrics()
        """Per-frame metrics of the real-time path (plain numbers: :class:`LoopMetrics`)."""
        r.register(self.loop)
        self.errors = Counter(
            "chatterbox_errors", "Error frames and HTTP errors, by code", ["code"], registry=r
        )
        self.http_requests = Counter(
            "chatterbox_http_requests",
            "HTTP requests, by route and status",
            ["route", "status"],
            registry=r,
        )
