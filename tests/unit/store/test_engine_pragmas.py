"""Connect-time pragmas: "database is locked" (a fresh file switching to WAL) is retried, nothing else."""

from __future__ import annotations

import sqlite3

import pytest

from chatterbox.store.engine import _execute_pragma


class FlakyCursor:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def execute(self, sql: str) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)


def test_locked_is_retried_until_it_works() -> None:
    locked = sqlite3.OperationalError("database is locked")
    cursor = FlakyCursor([locked, locked])
    _execute_pragma(cursor, "PRAGMA journal_mode=WAL", 5.0)
    assert cursor.calls == 3


def test_other_errors_are_raised_at_once() -> None:
    cursor = FlakyCursor([sqlite3.OperationalError("disk I/O error")])
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _execute_pragma(cursor, "PRAGMA journal_mode=WAL", 5.0)
    assert cursor.calls == 1


def test_locked_past_the_timeout_is_raised() -> None:
    cursor = FlakyCursor([sqlite3.OperationalError("database is locked")] * 1000)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _execute_pragma(cursor, "PRAGMA journal_mode=WAL", 0.02)
    assert 1 < cursor.calls < 1000
