"""How much slower one message's commit gets when the process has paused (``bench/NOTES.md``).

Times Chatterbox's own one-message append transaction (``BEGIN IMMEDIATE``,
``AppendJob.run_batch_sqlite``, ``COMMIT``) on a copy of the benchmark's seeded database, with the
writer connection's pragmas, in four ways, alternated: back to back; after sleeping ``--pause-ms``
(as between the messages of the open-loop latency scenario); after spinning in Python for as long
(the core busy, so not a CPU idle state; only other processes' use of the caches differs); after a
short 0.2 ms sleep. Prints the median and p90 of each, in µs.

    .venv/bin/python -m bench.probes.cold_transaction [--db bench/build/seed-….db]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from chatterbox.store.engine import WAL_AUTOCHECKPOINT_PAGES
from chatterbox.store.sql_append import AppendJob

BUILD = Path(__file__).resolve().parent.parent / "build"


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}",
    ):
        db.execute(pragma)
    return db


def _transaction(db: sqlite3.Connection, room: str, author: str) -> float:
    job = AppendJob(
        room, author, "hello there " * 3, str(uuid.uuid4()), lambda: int(time.time() * 1000)
    )
    t0 = time.perf_counter_ns()
    db.execute("BEGIN IMMEDIATE")
    outcome = AppendJob.run_batch_sqlite(db, [job])
    db.execute("COMMIT")
    elapsed = (time.perf_counter_ns() - t0) / 1000
    assert outcome[0].ok
    return elapsed


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--db", type=Path, default=None, help="seeded database (default: newest in bench/build)"
    )
    parser.add_argument("--n", type=int, default=300, help="transactions per way and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pause-ms", type=float, default=10.0)
    args = parser.parse_args()
    source = args.db or max(BUILD.glob("seed-*.db"), key=lambda p: p.stat().st_mtime)
    pause = args.pause_ms / 1000
    ways = {
        "back to back": lambda: None,
        f"after sleeping {args.pause_ms:g} ms": lambda: time.sleep(pause),
        f"after spinning {args.pause_ms:g} ms": lambda: _spin(pause),
        "after sleeping 0.2 ms": lambda: time.sleep(0.0002),
    }
    with tempfile.TemporaryDirectory(prefix="cold-tx-") as tmp:
        path = Path(tmp) / "copy.db"
        shutil.copy(source, path)
        db = _connect(path)
        room, author = db.execute(
            "SELECT room_id, user_id FROM memberships m JOIN rooms r ON r.id = m.room_id "
            "ORDER BY r.last_seq DESC LIMIT 1"
        ).fetchone()
        count = db.execute("SELECT count(*) FROM messages").fetchone()[0]
        print(f"{source.name}: {count:,} messages; one-message appends to {room}")
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, wait in ways.items():
                for _ in range(args.n):
                    wait()
                    times[name].append(_transaction(db, room, author))
        db.close()
    for name, xs in times.items():
        xs.sort()
        print(
            f"{name:>24}: median {statistics.median(xs):6.0f} µs, p90 {xs[int(0.9 * len(xs))]:6.0f} µs"
        )


if __name__ == "__main__":
    main()
