"""Engine creation: SQLite pragmas per connection, URL handling."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from chatterbox.store.engine import (
    READ_THREADS,
    create_engine,
    create_read_engine,
    is_postgresql,
    is_sqlite,
)


async def _pragmas(url: str, **kwargs: object) -> dict[str, object]:
    engine = create_engine(url, **kwargs)  # type: ignore[arg-type]
    try:
        async with engine.connect() as conn:
            return {
                name: (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in (
                    "journal_mode",
                    "synchronous",
                    "foreign_keys",
                    "busy_timeout",
                    "wal_autocheckpoint",
                    "cache_size",
                )
            }
    finally:
        await engine.dispose()


@pytest.mark.anyio
async def test_sqlite_pragmas_default(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/nested/dir/chat.db"
    assert await _pragmas(url) == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "wal_autocheckpoint": 10_000,
        "cache_size": -2000,  # KiB, SQLite's default: the writer's engine (readers: see below)
    }
    assert (tmp_path / "nested" / "dir").is_dir()  # parent directory created


def test_sqlite_pools_are_small(tmp_path: Path) -> None:
    """One process serves one core. The async engine serves the writer (one connection, kept) and
    the odd migration; the readers have a fixed pool (overflow connections are closed when
    returned, so bursts would open and close them continuously) with the same pragmas."""
    url = f"sqlite+aiosqlite:///{tmp_path}/chat.db"
    engine = create_engine(url)
    reads = create_read_engine(url)
    try:
        assert engine.pool.size() == 2  # type: ignore[attr-defined]
        assert reads.pool.size() == READ_THREADS == 3  # type: ignore[attr-defined]
        assert reads.pool._max_overflow == 0  # type: ignore[attr-defined]
        with reads.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -256
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 5000
    finally:
        engine.sync_engine.dispose()
        reads.dispose()


def test_read_engine_is_for_sqlite_only() -> None:
    with pytest.raises(ValueError, match="SQLite"):
        create_read_engine("postgresql+asyncpg://chat@127.0.0.1:1/chat")


@pytest.mark.anyio
async def test_sqlite_synchronous_full(tmp_path: Path) -> None:
    pragmas = await _pragmas(
        f"sqlite+aiosqlite:///{tmp_path}/chat.db", synchronous="FULL", busy_timeout_ms=1234
    )
    assert pragmas["synchronous"] == 2
    assert pragmas["busy_timeout"] == 1234


def test_rejects_bad_synchronous(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        create_engine(f"sqlite+aiosqlite:///{tmp_path}/x.db", synchronous="OFF")  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
def test_rejects_memory_databases(url: str) -> None:
    with pytest.raises(ValueError, match="in-memory"):
        create_engine(url)


@pytest.mark.anyio
async def test_savepoints_work(tmp_path: Path) -> None:
    """The driver's legacy transaction handling is off, so a rolled-back SAVEPOINT really rolls back."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/chat.db")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            nested = await conn.begin_nested()
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            await nested.rollback()
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT x FROM t"))).scalars().all()
        assert rows == [1]
    finally:
        await engine.dispose()


def test_is_sqlite() -> None:
    assert is_sqlite("sqlite+aiosqlite:///x.db")
    assert not is_sqlite("postgresql+asyncpg://u@h/db")


@pytest.mark.anyio
async def test_postgresql_engine_settings() -> None:
    """Pool sized for a server, pre-ping, READ COMMITTED; no SQLite hooks (nothing connects here)."""
    engine = create_engine("postgresql+asyncpg://chat@127.0.0.1:1/chat", synchronous="FULL")
    try:
        pool = engine.sync_engine.pool
        assert pool.size() == 10
        assert pool._pre_ping  # type: ignore[attr-defined]
        assert pool._recycle == 1800  # type: ignore[attr-defined]
        assert engine.dialect._on_connect_isolation_level == "READ COMMITTED"  # type: ignore[attr-defined]
        assert len(engine.sync_engine.dispatch.begin) == 0  # no SQLite BEGIN hook
    finally:
        await engine.dispose()


@pytest.mark.anyio
async def test_postgresql_engine_settings_can_be_overridden() -> None:
    from sqlalchemy.pool import NullPool

    engine = create_engine("postgresql+asyncpg://chat@127.0.0.1:1/chat", poolclass=NullPool)
    try:
        assert isinstance(engine.sync_engine.pool, NullPool)
    finally:
        await engine.dispose()
    engine = create_engine("postgresql+asyncpg://chat@127.0.0.1:1/chat", pool_size=3)
    try:
        assert engine.sync_engine.pool.size() == 3
    finally:
        await engine.dispose()


def test_is_postgresql() -> None:
    assert is_postgresql("postgresql+asyncpg://u@h/db")
    assert not is_postgresql("sqlite+aiosqlite:///x.db")
