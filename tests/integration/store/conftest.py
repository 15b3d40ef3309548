"""Fixtures for the store's integration tests: a migrated SQLite file per test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from chatterbox.store.migrate import upgrade
from chatterbox.store.sql import SqlStore, open_store


@pytest.fixture
def anyio_backend() -> str:
    """The store needs asyncio (its writer task uses asyncio primitives)."""
    return "asyncio"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated once per session; tests copy it."""
    path = tmp_path_factory.mktemp("template") / "chatterbox.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, migrated_template: Path) -> str:
    """URL of a fresh, migrated database file for this test."""
    path = tmp_path / "data" / "chatterbox.db"
    path.parent.mkdir()
    shutil.copyfile(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


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
