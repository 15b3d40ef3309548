"""Fixtures shared by every test folder.

Session-scoped servers, started on first use and stopped at the end of the session (nothing is left
running): ``postgres_server`` (+ ``postgres_template``, a database migrated once that tests copy) and
``redis_server``. Both install their Debian package when missing (as root); otherwise their tests are
skipped with the reason, or fail when ``CI`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from chatterbox.store.migrate import upgrade
from tests.support.live_server import LiveServer
from tests.support.postgres import PostgresServer, PostgresUnavailable
from tests.support.redis import RedisServer, RedisUnavailable

POSTGRES_TEMPLATE = "chatterbox_template"
"""Name of the migrated template database (see ``postgres_template``)."""


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh server with an empty database, stopped after the test."""
    server = LiveServer(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for a whole test module (tests must not depend on each other's data)."""
    server = LiveServer(tmp_path_factory.mktemp("server")).start()
    try:
        yield server
    finally:
        server.stop()


class _Throwaway(Protocol):
    def stop(self) -> None: ...


S = TypeVar("S", bound=_Throwaway)


def _session_service(
    start: Callable[[], S], unavailable: type[Exception], what: str
) -> Iterator[S]:
    """Start a throwaway server, skip (fail under ``CI``) when it cannot be had, stop it after."""
    try:
        server = start()
    except unavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{what} unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole session, stopped (and its directory removed) after."""
    yield from _session_service(PostgresServer.start, PostgresUnavailable, "PostgreSQL")


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """Name of a database migrated once per session; tests get copies (``CREATE DATABASE … TEMPLATE``)."""
    postgres_server.create_database(POSTGRES_TEMPLATE)
    upgrade(postgres_server.url(POSTGRES_TEMPLATE))  # disposes of its engine: no connection left
    return POSTGRES_TEMPLATE


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A throwaway Redis server for the whole session (tests isolate themselves by key prefix)."""
    yield from _session_service(RedisServer.start, RedisUnavailable, "Redis")
