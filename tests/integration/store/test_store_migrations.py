"""The hand-written migration matches tables.py; upgrade/downgrade work on SQLite files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from chatterbox.store.engine import create_engine
from chatterbox.store.migrate import current_revision, downgrade_async, upgrade, upgrade_async
from chatterbox.store.tables import metadata


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


@pytest.mark.anyio
async def test_migrated_schema_matches_metadata(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/new/dir/chat.db"
    await upgrade_async(url)
    assert (tmp_path / "new" / "dir" / "chat.db").is_file()
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            assert await conn.run_sync(_tables) == set(metadata.tables) | {"alembic_version"}
    finally:
        await engine.dispose()
    assert await current_revision(url) == "0001"


@pytest.mark.anyio
async def test_upgrade_is_idempotent_and_downgrade_drops_everything(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/chat.db"
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


def test_sync_upgrade_for_the_cli(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    upgrade(url)
    upgrade(url)
    assert (tmp_path / "cli.db").is_file()
