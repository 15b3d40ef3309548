"""Group commit: one writer task runs every write, many per transaction.

SQLite commits are the bottleneck of a chat server (one fsync, or at least one WAL append, per commit).
The :class:`Writer` owns all writes: callers submit a *job* (an async function of an ``AsyncConnection``)
and await its result. The writer task takes the first queued job plus whatever else is queued at that
moment (up to ``max_batch``), runs them in order inside **one** transaction and resolves each caller's
future only **after the commit**: a result the caller sees is durable.

One transaction at a time from one task also means SQLite never sees two writers from this process
(no ``SQLITE_BUSY`` between our own connections); PostgreSQL is just as happy with it.

Failure isolation, fast path first:

* Jobs run without savepoints. A job that raises a :class:`~chatterbox.store.errors.StoreError` must
  have written nothing (jobs validate before writing: unknown room, not a member...), so the error is
  recorded for that caller and the batch goes on.
* Any other exception (typically an ``IntegrityError``) rolls the whole transaction back, and the batch
  is run again with each job inside its own SAVEPOINT (``begin_nested``): a failing job then fails alone.
  Jobs are therefore re-runnable: they read their inputs and generate ids inside the job.
* A job must never swallow a database error itself except inside its own ``begin_nested()`` (on
  PostgreSQL a failed statement aborts the whole transaction).
* If the commit fails, every caller of the batch gets the exception.

Set-based groups: adjacent jobs that are instances of the same :class:`BatchJob` subclass (appends,
receipts) run through its ``run_batch`` classmethod, a few multi-row statements for the whole group
instead of several statements per job. That, not the shared commit alone, is what makes thousands of
appends per second possible over aiosqlite, where each statement costs thread round trips; on SQLite the
append and receipt groups go further and run as one plain ``sqlite3`` call on the connection's worker
thread (:mod:`chatterbox.store.sqlite_direct`), posted with a completion callback that answers the
batch's callers in the loop iteration right after the commit (:meth:`Writer._direct_transaction`).

Several writers on one database (PostgreSQL with several server processes, or several stores on one SQLite
file): each transaction may first run the store's ``prepare`` hook, which on PostgreSQL locks the rows of
every room the batch touches, in a consistent order (see :mod:`chatterbox.store.sql_locks`). A batch that
still loses a deadlock or a serialization failure (SQLSTATE ``40P01`` / ``40001``; the database rolled it
back) is run again from the start, up to ``max_retries`` times with a short random back-off, so callers
never see these transient errors. SQLite needs neither: ``BEGIN IMMEDIATE`` takes the database's write lock
up front and ``busy_timeout`` makes other writers wait for it.

Two ways in: :meth:`Writer.submit` (await the result) and :meth:`Writer.submit_nowait` (a callback,
called on the event loop right after the commit with the job's :class:`Outcome`; no task, no future,
no coroutine resumed per job — the hot ``message.send`` path). The queue is a plain deque with one
wake-up future for the writer task; it holds ``max_queue`` jobs at most: ``submit`` then waits for
room, ``submit_nowait`` refuses (returns False) and the caller takes the awaiting path.

A caller cancelled while its job is still queued is skipped; once the batch runs, the job's effects may be
committed even though that caller no longer waits for them. :meth:`Writer.close` drains the queue. If the
writer task itself dies, every queued job fails with :class:`~chatterbox.store.errors.StoreClosed`.
Only the asyncio event loop is supported.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatterbox.store.engine import BEGIN_IMMEDIATE
from chatterbox.store.errors import StoreClosed, StoreError
from chatterbox.store.sqlite_direct import Post, direct_post

__all__ = [
    "TRANSIENT_SQLSTATES",
    "BatchJob",
    "Done",
    "Job",
    "Outcome",
    "Prepare",
    "Writer",
    "WriterStats",
    "is_transient",
]

T = TypeVar("T")
Job = Callable[[AsyncConnection], Awaitable[T]]
"""A unit of write work; runs inside the writer's transaction."""
Prepare = Callable[
    [AsyncConnection, Sequence[Callable[[AsyncConnection], Awaitable[Any]]]], Awaitable[None]
]
"""A hook run first in every batch transaction, given the batch's jobs (e.g. to take row locks in order)."""

TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
"""SQLSTATEs after which the whole transaction is retried: serialization failure, deadlock detected."""

_log = logging.getLogger(__name__)


@dataclass
class WriterStats:
    """Counters, for tests and metrics."""

    transactions: int = 0
    """Committed transactions."""
    failed_transactions: int = 0
    """Transactions rolled back because a commit (or the batch itself) failed."""
    isolated_retries: int = 0
    """Batches re-run with one SAVEPOINT per job after an unexpected job error."""
    jobs: int = 0
    """Jobs whose outcome (result or error) was delivered."""
    max_batch: int = 0
    """Largest batch seen."""
    grouped_jobs: int = 0
    """Jobs run through a :meth:`BatchJob.run_batch` group (set-based statements)."""
    retries: int = 0
    """Batches run again after a transient error (deadlock, serialization failure)."""
    direct_transactions: int = 0
    """SQLite transactions run whole (BEGIN to COMMIT) in one call on the driver's thread."""


class Outcome(NamedTuple):
    """The result of one job in a batch: ``value`` is the result (``ok``) or the exception
    (a named tuple: one is made per message on the writer thread)."""

    ok: bool
    value: Any


Done = Callable[[Outcome], None]
"""A :meth:`Writer.submit_nowait` callback: called once, on the event loop, with the job's outcome."""


@dataclass(slots=True)
class _Request:
    fn: Callable[[AsyncConnection], Awaitable[Any]]
    future: asyncio.Future[Any] | None
    done: Done | None = None

    def resolve(self, outcome: Outcome) -> None:
        """Deliver ``outcome``; a request already resolved ignores later outcomes."""
        future = self.future
        if future is None:
            done, self.done = self.done, None
            if done is None:
                return
            try:
                done(outcome)
            except Exception:
                _log.exception("write callback failed")
        elif not future.done():
            if outcome.ok:
                future.set_result(outcome.value)
            else:
                future.set_exception(outcome.value)


class BatchJob(Generic[T]):
    """A job that can also run together with the adjacent jobs of its class, in set-based statements.

    ``__call__`` runs it alone (also used for the isolated retry); :meth:`run_batch` runs several at
    once and returns one :class:`Outcome` per job, in order. A failed outcome must be a
    :class:`~chatterbox.store.errors.StoreError` for which nothing was written; any exception raised by
    ``run_batch`` makes the writer retry the batch job by job.
    """

    sqlite_direct: ClassVar[bool] = False
    """Whether :meth:`run_batch_sqlite` is implemented (then a SQLite batch made only of such
    jobs runs as one call on the driver's thread, transaction included)."""

    async def __call__(self, conn: AsyncConnection) -> T:
        """Run this job alone."""
        raise NotImplementedError

    @classmethod
    def run_batch_sqlite(cls, db: sqlite3.Connection, jobs: Sequence[Any]) -> list[Outcome]:
        """:meth:`run_batch` as plain ``sqlite3`` calls inside the caller's transaction (on the
        driver's worker thread: must not commit, roll back or swallow a database error)."""
        raise NotImplementedError

    @classmethod
    async def run_batch(cls, conn: AsyncConnection, jobs: Sequence[Any]) -> list[Outcome]:
        """Run ``jobs`` (all instances of ``cls``) together; the default runs them one by one."""
        return [Outcome(True, await job(conn)) for job in jobs]


class _NeedsIsolation(Exception):
    """Internal: a job failed unexpectedly; the batch must be re-run with savepoints."""


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or the driver error it wraps) is a deadlock or serialization failure.

    The database rolled the transaction back; running it again is safe and should succeed.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if code in TRANSIENT_SQLSTATES:
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


class Writer:
    """The single writer task (see the module docstring)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_batch: int = 256,
        max_queue: int = 10_000,
        prepare: Prepare | None = None,
        max_retries: int = 10,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        """``max_batch``: jobs per transaction at most; ``max_queue``: pending jobs before submitters wait.

        ``prepare`` runs first in every batch transaction (see the module docstring); ``max_retries``:
        how many times a batch is run again after a deadlock or serialization failure;
        ``on_commit`` is called after each batch (e.g. :class:`.checkpoint.Checkpointer`).
        """
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self._engine = engine
        self._max_batch = max_batch
        self._prepare = prepare
        self._max_retries = max_retries
        self._on_commit = on_commit
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self._max_queue = max_queue
        self._queue: deque[_Request] = deque()
        self._wake: asyncio.Future[None] | None = None
        self._room_waiters: deque[asyncio.Future[None]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._direct = engine.dialect.name == "sqlite"
        self._direct_conn: AsyncConnection | None = None
        self._direct_post: Post | None = None
        self._closing = False
        self.stats = WriterStats()
        """Counters since creation."""

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closing

    def start(self) -> None:
        """Start the writer task (idempotent; also done by the first :meth:`submit`)."""
        if self._closing:
            raise StoreClosed("the store is closed")
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="chatterbox-writer"
            )

    def _accepting(self) -> bool:
        return not self._closing and (self._task is None or not self._task.done())

    def _enqueue(self, request: _Request) -> None:
        self._queue.append(request)
        self._wake_writer()

    def _wake_writer(self) -> None:
        wake = self._wake
        if wake is not None:
            self._wake = None
            if not wake.done():
                wake.set_result(None)

    async def submit(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Queue ``fn`` and return its result once its transaction has committed (or raise its error)."""
        if self._closing:
            raise StoreClosed("the store is closed")
        self.start()
        loop = asyncio.get_running_loop()
        if len(self._queue) >= self._max_queue or self._room_waiters:
            await self._wait_for_room(loop)
        if not self._accepting():
            raise StoreClosed("the store closed before this write ran")
        future: asyncio.Future[Any] = loop.create_future()
        self._enqueue(_Request(fn, future))
        self._make_room()
        return cast(T, await future)

    async def _wait_for_room(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait, in arrival order, until the queue has room (or the store closes)."""
        first = True
        while True:
            waiter: asyncio.Future[None] = loop.create_future()
            if first:
                self._room_waiters.append(waiter)
            else:  # woken, but the room was taken meanwhile: keep this caller's turn
                self._room_waiters.appendleft(waiter)
            first = False
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._room_waiters:
                    self._room_waiters.remove(waiter)
                else:
                    self._make_room()  # it was this caller's turn: pass it on
                raise
            if len(self._queue) < self._max_queue or not self._accepting():
                return

    def submit_nowait(
        self, fn: Callable[[AsyncConnection], Awaitable[Any]], done: Done, *, bounded: bool = True
    ) -> bool:
        """Queue ``fn``; ``done`` gets its :class:`Outcome` on the event loop after the commit.

        Returns False, and queues nothing, when the writer cannot take the job now (the queue is
        full or awaited callers wait for room, or the store is closing): the caller should then
        :meth:`submit`, which waits for room (or raises :class:`StoreClosed`). ``bounded=False``
        skips the room check (a job run again in place of one that just finished).
        """
        if not self._accepting() or (
            bounded and (self._room_waiters or len(self._queue) >= self._max_queue)
        ):
            return False
        if self._task is None:
            self.start()
        self._enqueue(_Request(fn, None, done))
        return True

    def _make_room(self) -> None:
        """Wake the next caller waiting for room in the queue, if there is room."""
        waiters = self._room_waiters
        while waiters and (len(self._queue) < self._max_queue or not self._accepting()):
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                if self._accepting():
                    return

    async def close(self) -> None:
        """Stop accepting jobs, run every job already queued, then stop the task."""
        if self._closing:
            if self._task is not None:
                await asyncio.shield(self._task)
            return
        self._closing = True
        self._make_room()  # callers waiting for room: the store is closed
        if self._task is None:
            return
        self._wake_writer()
        await asyncio.shield(self._task)
        await self._release_direct()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue
        try:
            while True:
                if not queue:
                    if self._closing:
                        return
                    self._wake = loop.create_future()
                    await self._wake
                    continue
                # Let coroutines that are ready to submit do so, then take everything queued.
                await asyncio.sleep(0)
                batch = [queue.popleft() for _ in range(min(len(queue), self._max_batch))]
                self._make_room()
                # Skip the jobs of awaiting callers that were cancelled (their future is done).
                batch = [r for r in batch if r.future is None or not r.future.done()]
                if batch:
                    await self._execute(batch)
        finally:
            # Only if the task dies (cancelled, or a bug): nothing queued may wait forever.
            while queue:
                queue.popleft().resolve(
                    Outcome(False, StoreClosed("the writer stopped before this write ran"))
                )
            self._make_room()

    async def _execute(self, batch: list[_Request]) -> None:
        self.stats.max_batch = max(self.stats.max_batch, len(batch))
        attempt = 0
        try:
            if (
                self._direct
                and all(isinstance(r.fn, BatchJob) and type(r.fn).sqlite_direct for r in batch)
                and await self._direct_transaction(batch)
            ):
                return  # delivered by the completion callback
            while True:
                try:
                    outcomes = await self._attempt(batch)
                    break
                except Exception as exc:
                    if attempt < self._max_retries and is_transient(exc):
                        attempt += 1
                        self.stats.retries += 1
                        _log.info("write batch of %d retried (%d): %r", len(batch), attempt, exc)
                        # Random back-off, so the two sides of a deadlock do not collide again.
                        await asyncio.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))  # noqa: S311
                        continue
                    self.stats.failed_transactions += 1
                    _log.warning("write batch of %d failed: %r", len(batch), exc)
                    outcomes = [Outcome(False, exc) for _ in batch]
                    break
        except BaseException:
            for request in batch:
                request.resolve(Outcome(False, StoreClosed("the writer was stopped")))
            raise
        self._deliver(batch, outcomes)

    def _deliver(self, batch: list[_Request], outcomes: list[Outcome]) -> None:
        """The batch committed (or failed as a whole): hand each caller its outcome."""
        self.stats.jobs += len(batch)
        if self._on_commit is not None:
            self._on_commit()
        for request, outcome in zip(batch, outcomes, strict=True):
            request.resolve(outcome)

    async def _attempt(self, batch: list[_Request]) -> list[Outcome]:
        """Run the batch in one transaction; on an unexpected job error, again with savepoints."""
        try:
            return await self._transaction(batch, isolate=False)
        except _NeedsIsolation as exc:
            if len(batch) == 1:
                return [Outcome(False, exc.__cause__)]
            self.stats.isolated_retries += 1
            return await self._transaction(batch, isolate=True)

    async def _direct_transaction(self, batch: list[_Request]) -> bool:
        """SQLite, every job with a ``run_batch_sqlite``: ``BEGIN IMMEDIATE``, the groups and
        ``COMMIT`` as one function on the driver's thread (one round trip per batch instead of one
        per statement, pool checkout and reset; :mod:`.sqlite_direct`), posted with a completion
        callback (:func:`~.sqlite_direct.direct_post`) that hands the callers their outcomes in
        the first loop iteration after the commit; the writer task resumes after that, only to
        take the next batch.

        True: committed and delivered. False: not possible here, or it failed and was rolled
        back: the caller runs the batch the portable way, which isolates a failing job."""
        post = await self._direct_poster()
        if post is None:
            return False
        finished: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def complete(result: list[Outcome] | BaseException) -> None:
            ok = not isinstance(result, BaseException)
            try:
                if isinstance(result, BaseException):
                    _log.info(
                        "direct SQLite batch of %d failed (%r): running it again",
                        len(batch),
                        result,
                    )
                else:
                    self.stats.transactions += 1
                    self.stats.direct_transactions += 1
                    self.stats.grouped_jobs += len(batch)
                    self._deliver(batch, result)
            finally:  # the writer task takes the next batch whatever happened here
                if not finished.done():
                    finished.set_result(ok)

        if not post(_sqlite_transaction(batch), complete):
            return False
        if await finished:
            return True
        await self._release_direct()
        return False

    async def _direct_poster(self) -> Post | None:
        """The writer's own SQLite connection (kept out of the pool), as a :data:`Post`."""
        if self._direct_post is None:
            conn = await self._engine.connect()
            post = await direct_post(conn)
            if post is None:
                self._direct = False  # another driver: the portable path only
                await conn.close()
                return None
            self._direct_conn, self._direct_post = conn, post
        return self._direct_post

    async def _release_direct(self) -> None:
        conn, self._direct_conn, self._direct_post = self._direct_conn, None, None
        if conn is not None:
            try:
                await conn.close()
            except Exception as exc:
                _log.debug("closing the writer's SQLite connection: %r", exc)

    async def _transaction(self, batch: list[_Request], *, isolate: bool) -> list[Outcome]:
        async with self._engine.connect() as conn:
            await conn.execution_options(**{BEGIN_IMMEDIATE: True})
            async with conn.begin():
                if self._prepare is not None:
                    await self._prepare(conn, [r.fn for r in batch])
                if isolate:
                    outcomes = [await _run_isolated(conn, r.fn) for r in batch]
                else:
                    outcomes = await self._run_fast(conn, batch)
        self.stats.transactions += 1
        return outcomes

    async def _run_fast(self, conn: AsyncConnection, batch: list[_Request]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        i = 0
        while i < len(batch):
            fn = batch[i].fn
            end = i + 1
            if isinstance(fn, BatchJob):
                while end < len(batch) and type(batch[end].fn) is type(fn):
                    end += 1
            try:
                if end - i > 1:
                    jobs = [r.fn for r in batch[i:end]]
                    group = await type(cast(BatchJob[Any], fn)).run_batch(conn, jobs)
                    if len(group) != len(jobs):
                        raise RuntimeError(f"{type(fn).__name__}.run_batch lost outcomes")
                    outcomes.extend(group)
                    self.stats.grouped_jobs += len(jobs)
                else:
                    outcomes.append(Outcome(True, await fn(conn)))
            except StoreError as exc:
                if end - i > 1:
                    raise _NeedsIsolation from exc
                outcomes.append(Outcome(False, exc))
            except Exception as exc:
                if is_transient(exc):
                    raise  # the database rolled the transaction back: retry it all
                raise _NeedsIsolation from exc
            i = end
        return outcomes


def _sqlite_transaction(batch: list[_Request]) -> Callable[[sqlite3.Connection], list[Outcome]]:
    """The batch as one function of the writer's ``sqlite3`` connection: ``BEGIN IMMEDIATE``,
    each run of adjacent jobs of one :class:`BatchJob` class as its ``run_batch_sqlite`` group,
    ``COMMIT`` (``ROLLBACK`` on any error, which propagates)."""
    groups: list[tuple[Any, list[Any]]] = []  # (a BatchJob subclass, its jobs)
    for request in batch:
        fn = request.fn
        if groups and groups[-1][0] is type(fn):
            groups[-1][1].append(fn)
        else:
            groups.append((type(fn), [fn]))

    def transaction(db: sqlite3.Connection) -> list[Outcome]:
        db.execute("BEGIN IMMEDIATE")
        try:
            outcomes: list[Outcome] = []
            for kind, jobs in groups:
                group = kind.run_batch_sqlite(db, jobs)
                if len(group) != len(jobs):
                    raise RuntimeError(f"{kind.__name__}.run_batch_sqlite lost outcomes")
                outcomes.extend(group)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return outcomes

    return transaction


async def _run_isolated(
    conn: AsyncConnection, fn: Callable[[AsyncConnection], Awaitable[Any]]
) -> Outcome:
    try:
        async with conn.begin_nested():
            value = await fn(conn)
    except Exception as exc:
        if is_transient(exc):
            raise
        return Outcome(False, exc)
    return Outcome(True, value)
