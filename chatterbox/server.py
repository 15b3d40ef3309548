"""How Chatterbox runs under uvicorn: the WebSocket and HTTP settings, chosen on purpose.

* ``ws_max_size`` = ``max_frame_bytes`` (64 KiB, not uvicorn's 16 MiB): a larger frame closes the
  connection with 1009 before it is buffered.
* ``ws_per_message_deflate=False``: compression doubles CPU per delivery and adds ~20-35 KiB per
  idle connection (measured, ``../shared/TOOLING.md``); chat frames are small. Browsers work
  without it.
* ``ws_ping_interval`` = ``ws_ping_timeout`` = the heartbeat interval: a dead peer is detected and
  dropped within two intervals.
* ``ws_max_queue=16``: inbound frames a connection may have queued before uvicorn stops reading
  its socket (TCP backpressure on a flooding client).
* ``timeout_graceful_shutdown``: in-flight requests get 10 s to finish on SIGTERM.
* ``proxy_headers``: off unless the setting ``forwarded_allow_ips``
  (``CHATTERBOX_FORWARDED_ALLOW_IPS``) lists the reverse proxies; then on, for connections from
  those addresses only (``X-Forwarded-For`` becomes the client address that the per-address limits
  key on, ``X-Forwarded-Proto`` the scheme).

Graceful shutdown (drain), for ``chatterbox serve``: :class:`ChatterboxServer` first stops
listening, then runs the :data:`DRAIN_HOOKS` (the hub: refuse upgrades with 503, close every
WebSocket with **1001** so that clients reconnect — through the load balancer, to another process —
and resume, let in-flight commands commit), and only then lets uvicorn shut down (which would
otherwise close open WebSockets with 1012). :func:`run_workers` is ``serve --workers N``: N such
servers in child processes sharing one listening socket (requires Redis for fan-out).

Garbage collection: once started, :class:`ChatterboxServer` collects and then *freezes* the heap
(``gc.freeze()``): the ~10^5-10^6 objects of the imported libraries and the app move to the
permanent generation, so the collector's full passes, which otherwise walk all of them while
every connection waits, only look at what serving allocates (``docs/benchmarks.md``: the
latency spikes this removed). It then sets the collector's thresholds from
``Settings.gc_thresholds``: young collections ~7× rarer than with Python's 700 (see there).
"""

from __future__ import annotations

import gc
import logging
import signal
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from uvicorn._subprocess import get_subprocess

from chatterbox.config import Settings, get_settings

__all__ = ["DRAIN_HOOKS", "ChatterboxServer", "run_workers", "uvicorn_options"]

DRAIN_HOOKS: list[Callable[[], Awaitable[None]]] = []
"""Coroutines run when the server starts shutting down, after it stopped listening (the app's
lifespan registers the hub's ``drain``)."""

_log = logging.getLogger("chatterbox.server")


class ChatterboxServer(uvicorn.Server):
    """uvicorn's server with a drain step before its shutdown (module docstring)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's startup (lifespan, listening), then freeze what start-up allocated and set
        the collector's thresholds."""
        await super().startup(sockets)
        gc.collect()
        gc.freeze()
        gc.set_threshold(*get_settings().gc_thresholds)
        _log.info(
            "heap frozen: %d objects out of the collector's way; collector thresholds %s",
            gc.get_freeze_count(),
            gc.get_threshold(),
        )

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop listening, drain, then uvicorn's shutdown (connections, lifespan)."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for hook in list(DRAIN_HOOKS):
            try:
                await hook()
            except Exception:
                _log.exception("drain hook failed")
        await super().shutdown(sockets)


def run_workers(config: uvicorn.Config, workers: int) -> None:
    """Run ``workers`` :class:`ChatterboxServer` processes on one listening socket; replace a
    worker that dies; on SIGTERM/SIGINT, stop them all (each drains) and return."""
    sock = config.bind_socket()
    stop = threading.Event()

    def start() -> Any:
        process = get_subprocess(config, ChatterboxServer(config).run, [sock])
        process.start()
        return process

    def on_signal(signum: int, frame: object) -> None:
        del signum, frame
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for i, process in enumerate(processes):
                if not process.is_alive():
                    _log.warning(
                        "worker %s exited (%s): starting another", process.pid, process.exitcode
                    )
                    processes[i] = start()
    finally:
        for process in processes:
            process.terminate()  # SIGTERM: the worker drains
        for process in processes:
            process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` that every launch uses."""
    interval = settings.heartbeat_interval_ms / 1000
    return {
        "ws": "websockets-sansio",
        "ws_max_size": settings.max_frame_bytes,
        "ws_max_queue": 16,
        "ws_per_message_deflate": False,
        "ws_ping_interval": interval,
        "ws_ping_timeout": interval,
        "timeout_graceful_shutdown": 10,
        "log_level": settings.log_level,
        # Never uvicorn's default (on, trusting FORWARDED_ALLOW_IPS or 127.0.0.1): only the
        # proxies listed in the settings may set the client address.
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": list(settings.forwarded_allow_ips),
        "server_header": False,
    }
