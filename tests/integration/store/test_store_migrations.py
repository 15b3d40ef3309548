"""The hand-written migrations match tables.py on SQLite and PostgreSQL; upgrade/downgrade work on both."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import BigInteger, inspect, text
from sqlalchemy.engine import Connection

from chatterbox.store.engine import create_engine
from chatterbox.store.migrate import current_revision, downgrade_async, upgrade, upgrade_async
from chatterbox.store.tables import metadata

HEAD = "0002"
"""The latest revision."""


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
    """The migrations, run on a fresh database of each backend, create exactly tables.py."""
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
    assert await current_revision(empty_db_url) == HEAD


def test_sqlite_parent_directory_is_created(tmp_path: Path) -> None:
    upgrade(f"sqlite+aiosqlite:///{tmp_path}/new/dir/chat.db")
    assert (tmp_path / "new" / "dir" / "chat.db").is_file()


@pytest.mark.anyio
async def test_upgrade_is_idempotent_and_downgrade_drops_everything(empty_db_url: str) -> None:
    url = empty_db_url
    assert await current_revision(url) is None
    await upgrade_async(url)
    await upgrade_async(url)
    assert await current_revision(url) == HEAD
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
    assert await current_revision(empty_db_url) == HEAD


def test_sync_upgrade_for_the_cli(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    upgrade(url)
    upgrade(url)
    assert (tmp_path / "cli.db").is_file()


@pytest.mark.anyio
async def test_0002_moves_message_created_events_to_the_messages_table(empty_db_url: str) -> None:
    """0001 stored a ``room_events`` row per message; 0002 drops them (``events_since`` reads the
    messages), downgrade writes them back; the other events are untouched both ways."""
    url = empty_db_url
    await upgrade_async(url, "0001")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, username, username_key, display_name, created_at) "
                    "VALUES ('u1', 'alice', 'alice', 'Alice', 1)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO rooms (id, kind, name, topic, created_by, created_at, last_seq) "
                    "VALUES ('r1', 'public', 'general', '', 'u1', 1, 3)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO messages (id, room_id, seq, author_id, body, client_msg_id, "
                    "created_at) VALUES ('m1', 'r1', 2, 'u1', 'hi', NULL, 2)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO room_events (room_id, seq, kind, message_id, user_id, payload, "
                    "created_at) VALUES ('r1', 1, 'member.joined', NULL, 'u1', NULL, 1), "
                    "('r1', 2, 'message.created', 'm1', 'u1', NULL, 2), "
                    "('r1', 3, 'message.deleted', 'm1', 'u1', NULL, 3)"
                )
            )
        await upgrade_async(url)
        async with engine.connect() as conn:
            kinds = (await conn.execute(text(_EVENTS))).all()
        assert [tuple(r) for r in kinds] == [(1, "member.joined"), (3, "message.deleted")]
        await downgrade_async(url, "0001")
        async with engine.connect() as conn:
            kinds = (await conn.execute(text(_EVENTS))).all()
        assert [tuple(r) for r in kinds] == [
            (1, "member.joined"),
            (2, "message.created"),
            (3, "message.deleted"),
        ]
    finally:
        await engine.dispose()


_EVENTS = "SELECT seq, kind FROM room_events WHERE room_id = 'r1' ORDER BY seq"
