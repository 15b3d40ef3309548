"""A throwaway PostgreSQL 15 server for tests: a temporary directory, a free loopback port, nothing left behind.

Typical use (a session-scoped fixture)::

    server = PostgresServer.start()          # installs the Debian package first if it is missing
    try:
        url = server.create_database("t1")   # postgresql+asyncpg://postgres@127.0.0.1:PORT/t1
        ...
    finally:
        server.stop()                        # pg_ctl stop -m fast, then the directory is removed

``initdb`` refuses to run as root, so when the tests run as root every server command runs as the ``postgres``
OS user (created by the Debian package) through ``runuser``, and the temporary directory is handed to that user.
The cluster trades durability for speed (``fsync=off``, ``initdb --no-sync``): it is thrown away anyway.

Safety nets, so that no server outlives the tests: :meth:`PostgresServer.stop` is also registered with
:mod:`atexit`, and a tiny watchdog process stops the server and removes the directory if the test process dies
without cleaning up (SIGKILL, a crash).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.live_server import free_port
from tests.support.system import ENSURE_DEPS, start_watchdog

__all__ = [
    "PostgresServer",
    "PostgresUnavailable",
    "find_bin_dir",
]

PG_MAJOR = "15"
_OS_USER = "postgres"

# Settings for a disposable, fast server (no durability).
_SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=200 -c deadlock_timeout=200ms -c log_min_messages=warning"
)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed and cannot be installed here (not root, no package)."""


def find_bin_dir(install: bool = True) -> Path:
    """The directory of ``initdb``/``pg_ctl``/``psql`` (PostgreSQL 15 preferred), installing the package if asked."""
    base = Path("/usr/lib/postgresql")
    if install and not base.is_dir():
        result = subprocess.run(
            [str(ENSURE_DEPS), "postgresql"], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"cannot install PostgreSQL: {result.stderr.strip() or result.stdout.strip()}"
            )
    preferred = base / PG_MAJOR / "bin"
    if (preferred / "initdb").is_file():
        return preferred
    candidates = sorted(base.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not candidates:
        raise PostgresUnavailable(f"no PostgreSQL under {base}")
    return candidates[-1].parent


def _as_server_user(argv: list[str]) -> list[str]:
    """``argv``, run as the ``postgres`` OS user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", _OS_USER, "--", *argv]


def _chown_tree(path: Path, user: str) -> None:
    shutil.chown(path, user, user)
    for child in path.rglob("*"):
        shutil.chown(child, user, user)


@dataclass
class PostgresServer:
    """A running throwaway server; create it with :meth:`start`, end it with :meth:`stop`."""

    bin_dir: Path
    base_dir: Path
    port: int
    user: str = "postgres"
    _watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory (also its Unix socket directory)."""
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        """The server log (read it when a start fails)."""
        return self.base_dir / "server.log"

    @classmethod
    def start(cls, *, install: bool = True, attempts: int = 3) -> PostgresServer:
        """initdb a cluster in a fresh temporary directory and start it on a free loopback port."""
        bin_dir = find_bin_dir(install=install)
        # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
        base_dir = Path(tempfile.mkdtemp(prefix="chatterbox-pg-"))
        try:
            if os.geteuid() == 0:
                _chown_tree(base_dir, _OS_USER)
            subprocess.run(
                _as_server_user(
                    [
                        str(bin_dir / "initdb"),
                        "-D",
                        str(base_dir / "data"),
                        "-A",
                        "trust",
                        "-U",
                        "postgres",
                        "--no-sync",
                        "--no-locale",  # byte-order collation, as on SQLite
                        "-E",
                        "UTF8",
                    ]
                ),
                check=True,
                capture_output=True,
            )
        except BaseException:
            shutil.rmtree(base_dir, ignore_errors=True)
            raise
        server = cls(bin_dir, base_dir, port=0)
        atexit.register(server.stop)
        try:
            for attempt in range(attempts):
                server.port = free_port()
                if server._pg_ctl_start():
                    break
                if attempt == attempts - 1:
                    log = server.log_path.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"PostgreSQL did not start:\n{log}")
            server._start_watchdog()
        except BaseException:
            server.stop()
            raise
        return server

    def _pg_ctl_start(self) -> bool:
        options = f"{_SERVER_OPTIONS} -p {self.port} -k {self.data_dir}"
        result = subprocess.run(
            _as_server_user(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-o",
                    options,
                    "-l",
                    str(self.log_path),
                    "-w",
                    "-t",
                    "30",
                    "start",
                ]
            ),
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def _start_watchdog(self) -> None:
        """A process that stops the server if this process dies without calling :meth:`stop`."""
        self._watchdog = start_watchdog(
            "subprocess.run(args[:-1], capture_output=True)\n"
            "shutil.rmtree(args[-1], ignore_errors=True)\n",
            *self._stop_argv("immediate"),
            str(self.base_dir),
        )

    def _stop_argv(self, mode: str) -> list[str]:
        return _as_server_user(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"]
        )

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``) and remove its directory. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if (self.data_dir / "postmaster.pid").exists():
                subprocess.run(self._stop_argv("fast"), capture_output=True, check=False)
        finally:
            if self._watchdog is not None:
                self._watchdog.kill()
                self._watchdog.wait()
            shutil.rmtree(self.base_dir, ignore_errors=True)
            atexit.unregister(self.stop)

    # -- databases ---------------------------------------------------------------------------------

    def url(self, database: str, driver: str = "asyncpg") -> str:
        """``postgresql+asyncpg://postgres@127.0.0.1:PORT/database``."""
        return f"postgresql+{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL command with ``psql`` (outside any transaction block); returns its output."""
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {sql}\n{result.stderr}")
        return result.stdout

    def create_database(self, name: str, template: str = "template0") -> str:
        """``CREATE DATABASE name TEMPLATE template``; returns its asyncpg URL.

        Copying a migrated template is much faster than migrating each database. The template must have no
        open connections (dispose of engines that used it).
        """
        _check_identifier(name)
        _check_identifier(template)
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """``DROP DATABASE IF EXISTS name WITH (FORCE)`` (closes leftover connections)."""
        _check_identifier(name)
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check_identifier(name: str) -> None:
    if not name or not all(c.isalnum() or c == "_" for c in name) or len(name) > 63:
        raise ValueError(f"not a safe database name: {name!r}")
