"""A throwaway Redis server for tests: a temporary directory, a free loopback port, nothing left behind.

Typical use (a session-scoped fixture)::

    server = RedisServer.start()      # installs redis-server first if it is missing (as root)
    try:
        url = server.url(prefix)      # redis://127.0.0.1:PORT/0
        server.restart(down_for=1.0)  # same port, empty (no persistence): a Redis restart
    finally:
        server.stop()                 # SIGTERM via its pid file, then the directory is removed

No persistence (``--save '' --appendonly no``). As with :mod:`tests.support.postgres`, :meth:`RedisServer.stop`
is registered with :mod:`atexit` and a watchdog process kills the server if the test process dies first.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.live_server import free_port
from tests.support.system import find_or_install, start_watchdog

__all__ = ["RedisServer", "RedisUnavailable"]


class RedisUnavailable(RuntimeError):
    """redis-server is not installed and cannot be installed here (not root, no package)."""


def find_redis_server(install: bool = True) -> str:
    """Path of ``redis-server``, installing the Debian package if asked and needed."""
    return find_or_install(
        "redis-server", "/usr/bin/redis-server", RedisUnavailable, install=install
    )


def _ping(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """A running throwaway server; create it with :meth:`start`, end it with :meth:`stop`."""

    binary: str
    base_dir: Path
    port: int
    _watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid_file(self) -> Path:
        """The server's pid file."""
        return self.base_dir / "redis.pid"

    @classmethod
    def start(cls, *, install: bool = True, attempts: int = 3) -> RedisServer:
        """Start redis-server on a free loopback port in a fresh temporary directory."""
        binary = find_redis_server(install=install)
        server = cls(binary, Path(tempfile.mkdtemp(prefix="chatterbox-redis-")), port=0)
        atexit.register(server.stop)
        try:
            for attempt in range(attempts):
                server.port = free_port()
                if server._launch():
                    break
                if attempt == attempts - 1:
                    raise RuntimeError("redis-server did not start")
            server._start_watchdog()
        except BaseException:
            server.stop()
            raise
        return server

    def _launch(self, timeout: float = 5.0) -> bool:
        subprocess.run(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.base_dir),
                "--pidfile",
                str(self.pid_file),
                "--logfile",
                str(self.base_dir / "redis.log"),
            ],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _ping(self.port):
                return True
            time.sleep(0.02)
        return False

    def _pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int(self.pid_file.read_text().strip())
        return None

    def _start_watchdog(self) -> None:
        """A process that kills the server if this process dies without calling :meth:`stop`."""
        self._watchdog = start_watchdog(
            "try:\n"
            "    os.kill(int(open(args[0]).read().strip()), signal.SIGKILL)\n"
            "except Exception:\n"
            "    pass\n"
            "shutil.rmtree(args[1], ignore_errors=True)\n",
            str(self.pid_file),
            str(self.base_dir),
        )

    def _terminate(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
        pid = self._pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()

    def restart(self, down_for: float = 0.0) -> None:
        """Kill the server (SIGKILL: clients see their connections drop) and start an empty one
        on the same port after ``down_for`` seconds."""
        self._terminate(signal.SIGKILL)
        if down_for:
            time.sleep(down_for)
        if not self._launch():
            raise RuntimeError("redis-server did not restart")

    def url(self, db: int = 0) -> str:
        """``redis://127.0.0.1:PORT/db``."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        """Stop the server and remove its directory. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._terminate()
        finally:
            if self._watchdog is not None:
                self._watchdog.kill()
                self._watchdog.wait()
            shutil.rmtree(self.base_dir, ignore_errors=True)
            atexit.unregister(self.stop)
