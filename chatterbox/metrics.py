"""Prometheus metrics, exposed at ``/metrics``. One registry per app (tests build many apps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]


@dataclass
class Metrics:
    """Every metric the server records."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.connections = Gauge(
            "chatterbox_ws_connections", "Open WebSocket connections", registry=r
        )
        self.frames_in = Counter(
            "chatterbox_ws_frames_in", "Frames received, by type", ["type"], registry=r
        )
        self.frames_out = Counter(
            "chatterbox_ws_frames_out", "Frames sent (per recipient), by type", ["type"], registry=r
        )
        self.messages_stored = Counter(
            "chatterbox_messages_stored", "Messages committed to the store", registry=r
        )
        self.command_latency = Histogram(
            "chatterbox_command_seconds",
            "Time from receiving a command to its answer, by command type",
            ["type"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.errors = Counter(
            "chatterbox_errors", "Error frames and HTTP errors, by code", ["code"], registry=r
        )
        self.http_requests = Counter(
            "chatterbox_http_requests",
            "HTTP requests, by route and status",
            ["route", "status"],
            registry=r,
        )
