"""The hand-written migration matches tables.py on SQLite and PostgreSQL; upgrade/downgrade work on both."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import BigInteger, inspect
from sqlalchemy.engine import Connection

from chatterbox.store.engine import create_engine
from chatterbox.store.migrate import current_revision, downgrade_async, upgrade, upgrade_async
from chatterbox.store.tables import metadata


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _bigint_timestamps(connection: Connection) -> list[str]:
    """Columns holding ms timestamps or seqs that are not BIGINT in the database."""
    wrong = []
    inspector = inspect(connection)
    for table in metadata.tables:
        for column in inspector.get_columns(table):
            name = column["name"]
            timestamp_or_seq = name.endswith("_at") or name in ("at", "seq", "last_seq")
            if timestamp_or_seq and not isinstance(column["type"], BigInteger):
                wrong.append(f"{table}.{name}: {column['type']}")
    return wrong


@pytest.mark.anyio
async def test_migrated_schema_matches_metadata(empty_db_url: str, backend: str) -> None:
    """The one migration, run on a fresh database of each backend, creates exactly tables.py."""
    await upgrade_async(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            assert await conn.run_sync(_tables) == set(metadata.tables) | {"alembic_version"}
            if backend == "postgresql":
                assert await conn.run_sync(_bigint_timestamps) == []
    finally:
        await engine.dispose()
    assert await current_revision(empty_db_url) == "0001"


def test_sqlite_parent_directory_is_created(tmp_path: Path) -> None:
    upgrade(f"sqlite+aiosqlite:///{tmp_path}/new/dir/chat.db")
    assert (tmp_path / "new" / "dir" / "chat.db").is_file()


@pytest.mark.anyio
async def test_upgrade_is_idempotent_and_downgrade_drops_everything(empty_db_url: str) -> None:
    url = empty_db_url
    assert await current_revision(url) is None
    await upgrade_async(url)
    await upgrade_async(url)
    assert await current_revision(url) == "0001"
    await downgrade_async(url, "base")
    assert await current_revision(url) is None
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == {"alembic_version"}
    finally:
        await engine.dispose()


@pytest.mark.anyio
async def test_concurrent_upgrades_do_not_race(empty_db_url: str) -> None:
    """Several processes starting at once may all migrate (PostgreSQL: serialized by an advisory lock)."""
    await asyncio.gather(*(upgrade_async(empty_db_url) for _ in range(3)))
    assert await current_revision(empty_db_url) == "0001"


def test_sync_upgrade_for_the_cli(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    upgrade(url)
    upgrade(url)
    assert (tmp_path / "cli.db").is_file()
