"""Fixtures for the store's integration tests: a fresh, migrated database per test, on every backend.

``db_url`` (and the ``store`` built on it) is parametrised over ``sqlite`` and ``postgresql``, so every test
that uses them runs on both. SQLite: a copy of a file migrated once per session. PostgreSQL: one throwaway
server per session (``postgres_server`` in ``tests/conftest.py``, shared with the real-time suite and started
only when a PostgreSQL test runs), a template database migrated once (``postgres_template``), and
``CREATE DATABASE … TEMPLATE`` per test (~40 ms).

Without PostgreSQL (not installable here: not root, no package) its tests are skipped with the reason; with
``CI`` set they fail instead. ``-k sqlite`` / ``-k postgresql`` selects one backend.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatterbox.store.migrate import upgrade
from chatterbox.store.sql import SqlStore, open_store
from tests.support.postgres import PostgresServer

BACKENDS = ["sqlite", "postgresql"]
_counter = itertools.count(1)


@pytest.fixture
def anyio_backend() -> str:
    """The store needs asyncio (its writer task uses asyncio primitives)."""
    return "asyncio"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file migrated once per session; tests copy it."""
    path = tmp_path_factory.mktemp("template") / "chatterbox.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: ``sqlite`` or ``postgresql``."""
    return str(request.param)


def _new_database_name() -> str:
    return f"t{os.getpid()}_{next(_counter)}"


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated database for this test (on ``backend``)."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("migrated_template")
        path = tmp_path / "data" / "chatterbox.db"
        path.parent.mkdir()
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = _new_database_name()
    url = server.create_database(name, template=request.getfixturevalue("postgres_template"))
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a database that does not exist yet (SQLite) or is empty (PostgreSQL): nothing migrated."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/new/dir/chat.db"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = _new_database_name()
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    """An open store on a fresh database, closed after the test."""
    s = await open_store(db_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def make_users(store: SqlStore) -> Callable[..., Coroutine[Any, Any, list[str]]]:
    """``await make_users('alice', 'bob')`` → their ids."""

    async def make(*names: str) -> list[str]:
        return [(await store.create_user(n, n.title(), "hash-" + n)).id for n in names]

    return make
