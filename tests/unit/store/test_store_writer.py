"""The group-commit writer, on a tiny schema in a temporary SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatterbox.store.engine import create_engine
from chatterbox.store.errors import NotFound, StoreClosed
from chatterbox.store.writer import Job, Outcome, Writer, _Request, is_transient

meta = MetaData()
items = Table(
    "items", meta, Column("id", Integer, primary_key=True), Column("v", String(20), unique=True)
)
parents = Table("parents", meta, Column("id", Integer, primary_key=True))
children = Table(
    "children",
    meta,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer, ForeignKey("parents.id"), nullable=False),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path}/w.db")
    async with eng.begin() as conn:
        await conn.run_sync(meta.create_all)
    try:
        yield eng
    finally:
        await eng.dispose()


def put(value: str) -> Job[str]:
    async def job(conn: AsyncConnection) -> str:
        await conn.execute(insert(items).values(v=value))
        return value

    return job


def refuse(value: str) -> Job[str]:
    async def job(conn: AsyncConnection) -> str:
        raise NotFound(value)

    return job


async def values(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return sorted((await conn.execute(select(items.c.v))).scalars())


def held() -> tuple[Job[str], asyncio.Event, asyncio.Event]:
    """A job that holds the writer until ``gate`` is set (``started``: it is running)."""
    gate, started = asyncio.Event(), asyncio.Event()

    async def slow(conn: AsyncConnection) -> str:
        started.set()
        await gate.wait()
        return "slow"

    return slow, gate, started


@pytest.mark.anyio
async def test_concurrent_jobs_share_transactions(engine: AsyncEngine) -> None:
    writer = Writer(engine)
    results = await asyncio.gather(*(writer.submit(put(f"v{i}")) for i in range(500)))
    await writer.close()
    assert results == [f"v{i}" for i in range(500)]
    assert len(await values(engine)) == 500
    assert writer.stats.jobs == 500
    assert writer.stats.transactions < 50
    assert writer.stats.max_batch > 1


@pytest.mark.anyio
async def test_max_batch_is_respected(engine: AsyncEngine) -> None:
    writer = Writer(engine, max_batch=10)
    await asyncio.gather(*(writer.submit(put(f"v{i}")) for i in range(100)))
    await writer.close()
    assert writer.stats.max_batch == 10
    assert writer.stats.transactions >= 10


@pytest.mark.anyio
async def test_store_error_fails_alone_without_retry(engine: AsyncEngine) -> None:
    writer = Writer(engine)
    jobs = [put("a"), refuse("b"), put("c")]
    results = await asyncio.gather(*(writer.submit(j) for j in jobs), return_exceptions=True)
    await writer.close()
    assert results[0] == "a" and results[2] == "c"
    assert isinstance(results[1], NotFound)
    assert await values(engine) == ["a", "c"]
    assert writer.stats.isolated_retries == 0
    assert writer.stats.transactions == 1


@pytest.mark.anyio
async def test_database_error_fails_alone_after_isolated_retry(engine: AsyncEngine) -> None:
    writer = Writer(engine)
    jobs = [put("a"), put("dup"), put("dup"), put("d")]
    results = await asyncio.gather(*(writer.submit(j) for j in jobs), return_exceptions=True)
    await writer.close()
    assert results[0] == "a" and results[1] == "dup" and results[3] == "d"
    assert isinstance(results[2], IntegrityError)
    assert await values(engine) == ["a", "d", "dup"]
    assert writer.stats.isolated_retries == 1


@pytest.mark.anyio
async def test_failed_commit_rejects_the_whole_batch(engine: AsyncEngine) -> None:
    async def orphan(conn: AsyncConnection) -> None:
        # With deferred foreign keys the violation is only detected at COMMIT.
        await conn.execute(text("PRAGMA defer_foreign_keys = ON"))
        await conn.execute(insert(children).values(parent_id=42))

    writer = Writer(engine)
    jobs: list[Job[object]] = [put("a"), orphan, put("b")]
    results = await asyncio.gather(*(writer.submit(j) for j in jobs), return_exceptions=True)
    assert all(isinstance(r, IntegrityError) for r in results), results
    assert writer.stats.failed_transactions == 1
    assert await values(engine) == []
    # The writer keeps working after a failed commit.
    assert await writer.submit(put("later")) == "later"
    await writer.close()
    assert await values(engine) == ["later"]


@pytest.mark.anyio
async def test_callers_resume_only_after_commit(engine: AsyncEngine) -> None:
    log: list[str] = []
    event.listen(engine.sync_engine, "commit", lambda conn: log.append("commit"))
    writer = Writer(engine)

    async def one(i: int) -> None:
        await writer.submit(put(f"v{i}"))
        log.append("resumed")

    await asyncio.gather(*(one(i) for i in range(20)))
    await writer.close()
    assert log[0] == "commit"
    assert log.count("resumed") == 20


@pytest.mark.anyio
async def test_close_drains_queued_jobs(engine: AsyncEngine) -> None:
    writer = Writer(engine)
    tasks = [asyncio.create_task(writer.submit(put(f"v{i}"))) for i in range(100)]
    await asyncio.sleep(0)  # let every task enqueue its job
    await writer.close()
    assert all(t.done() and t.exception() is None for t in tasks)
    assert len(await values(engine)) == 100
    with pytest.raises(StoreClosed):
        await writer.submit(put("late"))
    await writer.close()  # idempotent


@pytest.mark.anyio
async def test_close_without_any_write(engine: AsyncEngine) -> None:
    writer = Writer(engine)
    await writer.close()
    assert writer.closed


@pytest.mark.anyio
async def test_cancelled_while_queued_is_skipped(engine: AsyncEngine) -> None:
    gate = asyncio.Event()
    started = asyncio.Event()

    async def slow(conn: AsyncConnection) -> str:
        started.set()
        await gate.wait()
        await conn.execute(insert(items).values(v="slow"))
        return "slow"

    writer = Writer(engine)
    first = asyncio.create_task(writer.submit(slow))
    await started.wait()
    second = asyncio.create_task(writer.submit(put("never")))
    await asyncio.sleep(0)
    second.cancel()
    gate.set()
    assert await first == "slow"
    with pytest.raises(asyncio.CancelledError):
        await second
    await writer.close()
    assert await values(engine) == ["slow"]


def test_max_batch_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Writer(create_engine(f"sqlite+aiosqlite:///{tmp_path}/x.db"), max_batch=0)


class _DeadlockDetected(Exception):
    """Stands in for a driver error carrying SQLSTATE 40P01 (PostgreSQL's deadlock_detected)."""

    sqlstate = "40P01"


def _flaky(value: str, failures: int) -> Job[str]:
    """A job whose transaction is chosen as a deadlock victim ``failures`` times before it succeeds."""
    calls = {"n": 0}

    async def job(conn: AsyncConnection) -> str:
        await conn.execute(insert(items).values(v=value))
        calls["n"] += 1
        if calls["n"] <= failures:
            raise DBAPIError("UPDATE …", None, _DeadlockDetected("deadlock detected"))
        return value

    return job


@pytest.mark.anyio
async def test_transient_errors_rerun_the_whole_batch(engine: AsyncEngine) -> None:
    writer = Writer(engine)
    jobs = [put("a"), _flaky("b", failures=2), put("c")]
    results = await asyncio.gather(*(writer.submit(j) for j in jobs))
    await writer.close()
    assert results == ["a", "b", "c"]
    assert await values(engine) == ["a", "b", "c"]  # the rolled-back attempts left nothing
    assert writer.stats.retries == 2
    assert writer.stats.isolated_retries == 0  # not mistaken for a job's own failure
    assert writer.stats.failed_transactions == 0


@pytest.mark.anyio
async def test_transient_errors_give_up_after_max_retries(engine: AsyncEngine) -> None:
    writer = Writer(engine, max_retries=2)
    jobs = [put("a"), _flaky("b", failures=5)]
    results = await asyncio.gather(*(writer.submit(j) for j in jobs), return_exceptions=True)
    await writer.close()
    assert all(isinstance(r, DBAPIError) for r in results)
    assert writer.stats.retries == 2 and writer.stats.failed_transactions == 1
    assert await values(engine) == []


@pytest.mark.anyio
async def test_prepare_hook_runs_first_in_every_transaction(engine: AsyncEngine) -> None:
    seen: list[int] = []

    async def prepare(conn: AsyncConnection, jobs: Sequence[object]) -> None:
        assert conn.in_transaction()
        seen.append(len(jobs))

    writer = Writer(engine, prepare=prepare)
    await asyncio.gather(*(writer.submit(put(f"v{i}")) for i in range(10)))
    await writer.submit(put("last"))
    await writer.close()
    assert sum(seen) == 11 and len(seen) == writer.stats.transactions


def test_is_transient() -> None:
    assert is_transient(DBAPIError("x", None, _DeadlockDetected()))
    assert is_transient(_DeadlockDetected())

    class Serialization(Exception):
        pgcode = "40001"

    wrapped = RuntimeError("outer")
    wrapped.__cause__ = DBAPIError("x", None, Serialization())
    assert is_transient(wrapped)
    assert not is_transient(IntegrityError("x", None, Exception("unique")))
    assert not is_transient(ValueError())


# -- submit_nowait and the bounded queue ------------------------------------------------------------


def test_a_callback_request_is_resolved_once() -> None:
    """A writer task stopped while its batch is on the SQLite thread answers the batch's callers
    with StoreClosed; the commit's completion arriving afterwards must not call them again."""
    calls: list[Outcome] = []
    request = _Request(put("x"), None, calls.append)
    request.resolve(Outcome(False, StoreClosed("stopped")))
    request.resolve(Outcome(True, "late"))
    assert calls == [Outcome(False, calls[0].value)] and isinstance(calls[0].value, StoreClosed)


@pytest.mark.anyio
async def test_submit_nowait_calls_back_after_the_commit_in_order(engine: AsyncEngine) -> None:
    log: list[object] = []
    event.listen(engine.sync_engine, "commit", lambda conn: log.append("commit"))
    writer = Writer(engine)
    outcomes: list[Outcome] = []
    for i in range(50):
        assert writer.submit_nowait(put(f"v{i}"), outcomes.append)
    assert writer.submit_nowait(refuse("x"), outcomes.append)
    assert not outcomes  # nothing runs before the writer task gets the loop
    await writer.close()
    assert [o.value for o in outcomes[:50]] == [f"v{i}" for i in range(50)]
    assert all(o.ok for o in outcomes[:50])
    assert not outcomes[50].ok and isinstance(outcomes[50].value, NotFound)
    assert log[0] == "commit"
    assert len(await values(engine)) == 50


@pytest.mark.anyio
async def test_a_failing_callback_does_not_stop_the_writer(engine: AsyncEngine) -> None:
    writer = Writer(engine)

    def boom(outcome: Outcome) -> None:
        raise RuntimeError("callback bug")

    seen: list[Outcome] = []
    assert writer.submit_nowait(put("a"), boom)
    assert writer.submit_nowait(put("b"), seen.append)
    assert await writer.submit(put("c")) == "c"
    await writer.close()
    assert [o.value for o in seen] == ["b"]
    assert await values(engine) == ["a", "b", "c"]


@pytest.mark.anyio
async def test_full_queue_refuses_nowait_and_makes_submit_wait(engine: AsyncEngine) -> None:
    slow, gate, started = held()

    writer = Writer(engine, max_queue=3)
    first = asyncio.create_task(writer.submit(slow))
    await started.wait()  # the writer holds the first job; the queue is empty
    order: list[str] = []
    for v in ("q1", "q2", "q3"):
        assert writer.submit_nowait(put(v), lambda o: order.append(o.value))
    assert not writer.submit_nowait(put("refused"), lambda o: order.append("refused"))
    waiting = [asyncio.create_task(writer.submit(put(f"w{i}"))) for i in range(3)]
    await asyncio.sleep(0.01)
    assert not any(t.done() for t in waiting)  # no room: they wait, in order
    # Callers waiting for room keep their turn against later nowait submissions.
    gate.set()
    assert await first == "slow"
    assert [await t for t in waiting] == ["w0", "w1", "w2"]
    await writer.close()
    assert order == ["q1", "q2", "q3"]
    assert await values(engine) == ["q1", "q2", "q3", "w0", "w1", "w2"]


@pytest.mark.anyio
async def test_close_fails_callers_waiting_for_room(engine: AsyncEngine) -> None:
    slow, gate, started = held()

    writer = Writer(engine, max_queue=1)
    first = asyncio.create_task(writer.submit(slow))
    await started.wait()
    queued = asyncio.create_task(writer.submit(put("queued")))
    await asyncio.sleep(0)
    blocked = asyncio.create_task(writer.submit(put("blocked")))
    await asyncio.sleep(0.01)
    closing = asyncio.create_task(writer.close())
    await asyncio.sleep(0.01)
    assert not writer.submit_nowait(put("late"), lambda o: None)
    gate.set()
    await closing
    assert await first == "slow" and await queued == "queued"
    with pytest.raises(StoreClosed):
        await blocked
    assert await values(engine) == ["queued"]


@pytest.mark.anyio
async def test_a_dead_writer_fails_what_is_queued(engine: AsyncEngine) -> None:
    slow, _gate, started = held()

    writer = Writer(engine)
    first = asyncio.create_task(writer.submit(slow))
    await started.wait()
    outcomes: list[Outcome] = []
    assert writer.submit_nowait(put("a"), outcomes.append)
    task = writer._task
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(StoreClosed):
        await first
    assert len(outcomes) == 1 and isinstance(outcomes[0].value, StoreClosed)
    assert not writer.submit_nowait(put("b"), outcomes.append)  # no writer: use submit
    with pytest.raises(StoreClosed):
        await writer.submit(put("c"))


def test_max_queue_must_be_positive(tmp_path: Path) -> None:
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path}/q.db")
    with pytest.raises(ValueError, match="max_queue"):
        Writer(eng, max_queue=0)
