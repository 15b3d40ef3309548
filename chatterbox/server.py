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
"""

from __future__ import annotations

from typing import Any

from chatterbox.config import Settings

__all__ = ["uvicorn_options"]


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
        "proxy_headers": False,
        "server_header": False,
    }
