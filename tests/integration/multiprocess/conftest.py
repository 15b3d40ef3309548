"""Three Chatterbox processes sharing one PostgreSQL database and one Redis: a scale-out deployment.

``cluster`` (per module; ``fresh_cluster`` per test, for tests that kill or stop processes) starts the three servers in parallel on a fresh
database copied from the session's migrated template, under a Redis key prefix of their own, with short
timers: a dead process's users are released after ``CHATTERBOX_PROCESS_TTL_MS`` (1.5 s), a gap in a room's
``seq`` is filled from the database after 200 ms, Redis reconnects back off up to 500 ms.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.realtime.conftest import FAST_ENV
from tests.support.live_server import LiveServer
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer

CLUSTER_ENV = FAST_ENV | {
    "CHATTERBOX_PROCESS_TTL_MS": "1500",
    "CHATTERBOX_GAP_TIMEOUT_MS": "200",
    "CHATTERBOX_REDIS_RECONNECT_MAX_MS": "500",
    "CHATTERBOX_DRAIN_TIMEOUT_S": "5",
    # As docs/deploy.md: the processes trust the proxy headers of the nginx in front (127.0.0.1).
    "CHATTERBOX_FORWARDED_ALLOW_IPS": "127.0.0.1",
}
"""Short timers for the deployment under test, and its trusted proxy."""

_counter = itertools.count(1)


@dataclass
class Cluster:
    """The servers of one deployment (``servers[i]``), their database and Redis."""

    servers: list[LiveServer]
    database_url: str
    redis: RedisServer
    env: dict[str, str]

    def stop(self) -> None:
        """Stop every server (in parallel)."""
        with ThreadPoolExecutor(len(self.servers)) as pool:
            list(pool.map(lambda s: s.stop(), self.servers))


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only."""
    return "asyncio"


@contextmanager
def _deployment(
    postgres: PostgresServer, template: str, redis: RedisServer, base: Path
) -> Iterator[Cluster]:
    name = f"mp{os.getpid()}_{next(_counter)}"
    url = postgres.create_database(name, template=template)
    env = CLUSTER_ENV | {
        "CHATTERBOX_DATABASE_URL": url,
        "CHATTERBOX_REDIS_URL": redis.url(),
        "CHATTERBOX_REDIS_PREFIX": name,
    }
    servers = []
    for i in range(3):
        data_dir = base / f"p{i}"
        data_dir.mkdir()
        servers.append(LiveServer(data_dir, env=env))
    deployment = Cluster(servers, url, redis, env)
    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda s: s.start(migrate=False), servers))
        yield deployment
    finally:
        deployment.stop()
        postgres.drop_database(name)


@pytest.fixture(scope="module")
def cluster(
    postgres_server: PostgresServer,
    postgres_template: str,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    """Three servers on one PostgreSQL database and one Redis prefix, shared by the tests of a module
    that leave every process running."""
    with _deployment(
        postgres_server, postgres_template, redis_server, tmp_path_factory.mktemp("cluster")
    ) as deployment:
        yield deployment


@pytest.fixture
def fresh_cluster(
    postgres_server: PostgresServer,
    postgres_template: str,
    redis_server: RedisServer,
    tmp_path: Path,
) -> Iterator[Cluster]:
    """Like ``cluster``, for one test (which may kill or stop processes)."""
    with _deployment(postgres_server, postgres_template, redis_server, tmp_path) as deployment:
        yield deployment
