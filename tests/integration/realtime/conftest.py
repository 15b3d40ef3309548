"""Servers for the real-time tests: real uvicorn processes with short timers, on every backend.

Every test runs twice: ``[sqlite+memory]`` (SQLite file + in-process broker, the default deployment) and
``[postgresql+redis]`` (a fresh PostgreSQL database copied from the session's migrated template + the Redis
broker on the session's Redis, under a key prefix of its own). Tests ask for ``ws_server`` (one per module)
or build servers with ``make_server(data_dir, env)``: the same ``data_dir`` gives the same database, so a
test can restart a server on its data. ``-k sqlite`` / ``-k postgresql`` selects one backend.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer

FAST_ENV = {
    "CHATTERBOX_TYPING_TIMEOUT_MS": "1000",
    "CHATTERBOX_PRESENCE_GRACE_MS": "600",
    "CHATTERBOX_HEARTBEAT_INTERVAL_MS": "2000",
    "CHATTERBOX_RATE_PER_SECOND": "2000",
    "CHATTERBOX_RATE_BURST": "2000",
    "CHATTERBOX_MAX_CONNECTIONS_PER_USER": "4",
}
"""Short timers, a generous rate limit (flood tests use their own server) and a low cap."""

BACKENDS = ["sqlite+memory", "postgresql+redis"]
_counter = itertools.count(1)


@dataclass
class Backend:
    """Where a test server keeps its data and how its processes talk: environment per data directory."""

    name: str
    postgres: PostgresServer | None = None
    template: str | None = None
    redis: RedisServer | None = None
    _envs: dict[Path, dict[str, str]] = field(default_factory=dict)
    _databases: list[str] = field(default_factory=list)

    def env(self, data_dir: Path) -> dict[str, str]:
        """``CHATTERBOX_DATABASE_URL`` (and Redis settings) for a server on ``data_dir``; the same
        directory always gets the same database."""
        found = self._envs.get(data_dir)
        if found is not None:
            return found
        if self.postgres is None or self.redis is None or self.template is None:
            env = {"CHATTERBOX_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'chatterbox.db'}"}
        else:
            name = f"rt{os.getpid()}_{next(_counter)}"
            url = self.postgres.create_database(name, template=self.template)
            self._databases.append(name)
            env = {
                "CHATTERBOX_DATABASE_URL": url,
                "CHATTERBOX_REDIS_URL": self.redis.url(),
                "CHATTERBOX_REDIS_PREFIX": name,
                "CHATTERBOX_PROCESS_TTL_MS": "1500",
            }
        self._envs[data_dir] = env
        return env

    def server(self, data_dir: Path, env: Mapping[str, str] | None = None) -> LiveServer:
        """A (not started) server on ``data_dir`` with this backend and ``env`` on top."""
        return LiveServer(data_dir, env={**self.env(data_dir), **(env or {})})

    def cleanup(self) -> None:
        """Drop the databases created for this backend's servers (stop them first)."""
        if self.postgres is not None:
            for name in self._databases:
                self.postgres.drop_database(name)
        self._databases.clear()
        self._envs.clear()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The storage + broker of this module's servers."""
    name = str(request.param)
    if name == "sqlite+memory":
        chosen = Backend(name)
    else:
        chosen = Backend(
            name,
            postgres=request.getfixturevalue("postgres_server"),
            template=request.getfixturevalue("postgres_template"),
            redis=request.getfixturevalue("redis_server"),
        )
    try:
        yield chosen
    finally:
        chosen.cleanup()


@pytest.fixture(scope="module")
def ws_server(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One fast-timer server per test module (and backend)."""
    server = backend.server(tmp_path_factory.mktemp("ws"), FAST_ENV).start()
    try:
        yield server
    finally:
        server.stop()


MakeServer = Callable[..., LiveServer]


@pytest.fixture
def make_server(backend: Backend) -> Iterator[MakeServer]:
    """``make_server(data_dir, env)``: a not-yet-started server on this test's backend; every server made
    is stopped after the test."""
    made: list[LiveServer] = []

    def make(data_dir: Path, env: Mapping[str, str] | None = None) -> LiveServer:
        server = backend.server(data_dir, env)
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            server.stop()


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only."""
    return "asyncio"
