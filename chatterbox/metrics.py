"""Prometheus metrics, exposed at ``/metrics``. One registry per app (tests build many apps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["ByLabel", "Metrics"]

M = TypeVar("M", Counter, Histogram)


class ByLabel(Generic[M]):
    """The labelled children of a one-label metric, each looked up once (prometheus
    ``labels()`` costs ~2 µs a call; the real-time path counts every frame)."""

    __slots__ = ("_children", "_metric")

    def __init__(self, metric: M) -> None:
        self._metric: M = metric
        self._children: dict[str, M] = {}

    def __getitem__(self, label: str) -> M:
        child = self._children.get(label)
        if child is None:
            child = self._children[label] = self._metric.labels(label)
        return child


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
        self.frames_in_by_type = ByLabel(self.frames_in)
        self.frames_out_by_type = ByLabel(self.frames_out)
        self.command_latency_by_type = ByLabel(self.command_latency)
        self.http_requests = Counter(
            "chatterbox_http_requests",
            "HTTP requests, by route and status",
            ["route", "status"],
            registry=r,
        )
