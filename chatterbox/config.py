"""Settings: one pydantic-settings object, read from ``CHATTERBOX_*`` variables and ``.env``.

Outside development the server refuses to start with the default secret.
"""

from __future__ import annotations

import ipaddress
import json
from functools import cache
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["DEFAULT_SECRET", "Settings", "get_settings"]

DEFAULT_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused outside development
"""The development secret; refused when ``env`` is not ``development``."""


class Settings(BaseSettings):
    """Everything configurable about a Chatterbox process."""

    model_config = SettingsConfigDict(
        env_prefix="CHATTERBOX_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "test", "production"] = "development"
    """``development`` allows the default secret and migrates at start-up."""
    secret_key: str = Field(default=DEFAULT_SECRET, min_length=16, repr=False)
    """Server secret: peppers the stored token hashes. Set a long random value in production."""
    database_url: str = "sqlite+aiosqlite:///./data/chatterbox.db"
    """SQLAlchemy URL: ``sqlite+aiosqlite:///path`` (default) or ``postgresql+asyncpg://…``."""
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    """SQLite ``synchronous`` in WAL mode: NORMAL (fast; a power cut may lose the last commits,
    never corrupts) or FULL (each commit durable on disk)."""
    redis_url: str | None = None
    """Redis for fan-out between processes (``redis://host:6379/0``); None = in-process broker
    (one process). Every process of one deployment must use the same Redis and ``redis_prefix``."""
    redis_prefix: str = Field(default="chatterbox", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    """Namespace of this deployment's Redis keys and pub/sub channel (several deployments, or
    test runs, may share one Redis)."""
    redis_reconnect_max_ms: int = Field(default=5_000, ge=50)
    """Longest wait between two attempts to reconnect to Redis (exponential backoff from 50 ms)."""
    process_ttl_ms: int = Field(default=15_000, ge=300)
    """With Redis: a process that stops refreshing its heartbeat key (every third of this) for
    this long is considered dead; its users' presence and connection slots are released."""
    gap_timeout_ms: int = Field(default=500, ge=10)
    """How long an out-of-order durable event waits for the missing ones before the hub reads
    them from the database."""
    drain_timeout_s: float = Field(default=10.0, ge=0)
    """On shutdown, how long in-flight commands may take to commit after connections are told
    to reconnect elsewhere."""
    allowed_origins: list[str] = ["http://127.0.0.1:8000", "http://localhost:8000"]
    """Origins allowed to open a WebSocket with a session cookie (cross-site WebSocket hijacking)."""
    cookie_name: str = "chatterbox_session"
    """Name of the HttpOnly session cookie."""
    cookie_secure: bool = False
    """Mark the cookie Secure (set it when served over https)."""
    session_idle_timeout_s: int = Field(default=7 * 24 * 3600, gt=0)
    """A session unused this long expires."""
    session_lifetime_s: int = Field(default=30 * 24 * 3600, gt=0)
    """Absolute lifetime of a session, however active."""
    refresh_lifetime_s: int = Field(default=60 * 24 * 3600, gt=0)
    """Lifetime of a refresh token."""
    max_frame_bytes: int = Field(default=64 * 1024, gt=0)
    """Largest inbound WebSocket text frame, in bytes (uvicorn's default is 16 MiB)."""
    heartbeat_interval_ms: int = Field(default=20_000, ge=1000)
    """WebSocket ping interval; a peer silent for another interval is dropped."""
    typing_timeout_ms: int = Field(default=6_000, ge=1000)
    """A typing ``start`` expires after this long without renewal."""
    rate_per_second: float = Field(default=10.0, gt=0)
    """Per-connection token bucket refill rate (frames per second)."""
    rate_burst: int = Field(default=30, ge=1)
    """Per-connection token bucket size."""
    register_burst: int = Field(default=10, ge=1)
    """Registrations (``POST /api/auth/register``) one client address may make at once."""
    register_per_hour: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    """Registrations per hour a client address regains after its burst (429 beyond)."""
    forwarded_allow_ips: Annotated[list[str], NoDecode] = []
    """Reverse proxies trusted to tell the client address: IP addresses or networks, comma
    separated (``127.0.0.1``, ``10.0.0.0/8,::1``). Empty (default): no proxy header is trusted,
    the client address is the TCP peer. Set: uvicorn's proxy headers are on for connections from
    these addresses only, which then take the client from ``X-Forwarded-For`` (the last address
    not in this list) and the scheme from ``X-Forwarded-Proto``; the per-address login and
    registration limits key on it. ``*`` is refused: every client could choose its own address."""
    max_connections_per_user: int = Field(default=10, ge=1)
    """Further upgrades by the same user are refused with HTTP 429."""
    presence_grace_ms: int = Field(default=5_000, ge=0)
    """After a user's last connection closes, how long before ``offline`` is announced."""
    receipt_coalesce_ms: int = Field(default=250, ge=0)
    """At most one ``receipt`` frame per room per recipient in this interval."""
    send_buffer_max_bytes: int = Field(default=1024 * 1024, ge=4096)
    """Bytes queued for one connection whose socket is not writable before it is closed (4008)."""
    send_buffer_max_frames: int = Field(default=4096, ge=16)
    """Frames queued for one connection whose socket is not writable before it is closed (4008)."""
    hello_concurrency: int = Field(default=16, ge=1)
    """Connections building their ``hello`` snapshot at the same time; others wait their turn.
    A process serves one core: more in parallel only raises the memory peak (each snapshot holds
    its rooms, history and presence as Python objects) when thousands of clients reconnect at once."""
    direct_wire: bool = True
    """Write pre-encoded WebSocket frames straight to uvicorn's transport, coalesced to one write
    per connection per loop iteration (``realtime/wire.py``). False: every frame goes through the
    ASGI ``send`` (one write per frame); kept as a switch to rule the fast path out."""
    gc_thresholds: Annotated[tuple[int, int, int], NoDecode] = (5_000, 20, 100)
    """The cyclic garbage collector's thresholds once the server has started (``gc.set_threshold``;
    ``5000,20,100`` or a JSON list; each at least 1). Python's default, 700, 10, 10, runs a young
    collection every 700 container allocations, several per message under load, each on the path
    of the next frame (``docs/benchmarks.md``: many rooms 45.8 -> 27.7 us of CPU per delivery).
    Higher values save more CPU but keep more cyclic garbage between collections: its memory stays
    with the process (20 000: +6 MiB, measured; 5 000: +2 MiB)."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Log level of the ``chatterbox`` loggers and uvicorn."""

    @field_validator("gc_thresholds")
    @classmethod
    def _check_thresholds(cls, value: tuple[int, int, int]) -> tuple[int, int, int]:
        if min(value) < 1:
            raise ValueError("every GC threshold must be at least 1 (0 would stop collecting)")
        return value

    @field_validator("forwarded_allow_ips", "gc_thresholds", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """``a,b`` (as uvicorn's ``FORWARDED_ALLOW_IPS``) or a JSON list, as the other lists."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        return [_proxy_address(item.strip()) for item in value if item.strip()]

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env != "development" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "CHATTERBOX_SECRET_KEY must be set to a private random value outside development"
            )
        return self


def _proxy_address(item: str) -> str:
    """One entry of ``forwarded_allow_ips``, canonical (``::0:1`` → ``::1``); ValueError otherwise.

    uvicorn would take anything else as a literal host name that a TCP peer never matches (and a
    network with host bits set likewise): the proxy would silently stay untrusted.
    """
    variable = "CHATTERBOX_FORWARDED_ALLOW_IPS"
    if item == "*":
        raise ValueError(
            f"{variable}: '*' is refused: it would trust X-Forwarded-For from every peer, so "
            "any client could choose its own address and escape the per-address limits; list "
            "the proxies' addresses or networks (e.g. 127.0.0.1 or 10.0.0.0/8)"
        )
    try:
        if "/" in item:
            return str(ipaddress.ip_network(item))
        return str(ipaddress.ip_address(item))
    except ValueError as exc:
        raise ValueError(
            f"{variable}: {item!r} is not an IP address or network ({exc}); list the proxies' "
            "addresses or networks, comma separated (host names are not resolved)"
        ) from None


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
