"""Schema migrations (Alembic), configured in code so they work from an installed package.

The scripts live in ``chatterbox/migrations/`` (``env.py``, ``versions/``); no ``alembic.ini`` is needed.
``upgrade(url)`` is the synchronous entry for the CLI; ``await upgrade_async(url)`` is for code already
running an event loop (app start-up, tests).

The same scripts run on SQLite and PostgreSQL (portable types; ``render_as_batch`` makes later ALTERs work on
SQLite by copying tables, and is a plain ALTER on PostgreSQL). A migration runs in one transaction (both
databases have transactional DDL) that first takes a lock (PostgreSQL: an advisory lock; SQLite: ``BEGIN
IMMEDIATE``), so several server processes started at once with ``migrate=True`` migrate one after the other.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from chatterbox.store.engine import BEGIN_IMMEDIATE, create_engine

__all__ = [
    "MIGRATIONS_DIR",
    "MIGRATION_LOCK_ID",
    "alembic_config",
    "current_revision",
    "downgrade_async",
    "upgrade",
    "upgrade_async",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
"""The Alembic script directory inside the package."""


def alembic_config(database_url: str) -> Config:
    """An Alembic ``Config`` pointing at the packaged scripts and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


MIGRATION_LOCK_ID = 0x63686174  # 'chat'
"""PostgreSQL advisory lock key held while migrating: processes started together migrate one at a time."""


def _run(connection: Connection, config: Config, action: str, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Released at commit; the next process then finds the schema at head and does nothing.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def _migrate(database_url: str, action: str, revision: str) -> None:
    config = alembic_config(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            # SQLite: take the write lock up front, so a concurrent migration waits (busy_timeout)
            # instead of failing on a read-to-write lock upgrade.
            await conn.execution_options(**{BEGIN_IMMEDIATE: True})
            async with conn.begin():
                await conn.run_sync(_run, config, action, revision)
    finally:
        await engine.dispose()


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """Upgrade the database at ``database_url`` to ``revision`` (SQLite: the parent dir is created)."""
    await _migrate(database_url, "upgrade", revision)


async def downgrade_async(database_url: str, revision: str) -> None:
    """Downgrade the database to ``revision`` (``'base'``: drop everything)."""
    await _migrate(database_url, "downgrade", revision)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Synchronous :func:`upgrade_async`, for the ``chatterbox migrate`` command (no running loop)."""
    asyncio.run(upgrade_async(database_url, revision))


async def current_revision(database_url: str) -> str | None:
    """The database's current Alembic revision (None: not migrated)."""

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()
