"""A real Chatterbox server process on a free loopback port, for integration and e2e tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

__all__ = ["LiveServer", "free_port"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """``chatterbox migrate`` + ``chatterbox serve`` in a subprocess, with its own database."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.host = "127.0.0.1"
        self.env = {
            **os.environ,
            "CHATTERBOX_ENV": "test",
            "CHATTERBOX_SECRET_KEY": "test-secret-0123456789abcdef",
            "CHATTERBOX_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'chatterbox.db'}",
            "CHATTERBOX_ALLOWED_ORIGINS": f'["http://127.0.0.1:{self.port}"]',
            "CHATTERBOX_LOG_LEVEL": "warning",
            # The suites register hundreds of accounts from 127.0.0.1: the per-address registration
            # throttle (10 at once, then 10/h) is raised out of their way; its tests pass their own.
            "CHATTERBOX_REGISTER_BURST": "1000000",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:PORT/ws``."""
        return f"ws://{self.host}:{self.port}/ws"

    def _cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "chatterbox", *args]

    def start(self, timeout: float = 20.0, *, migrate: bool = True) -> LiveServer:
        """Migrate (unless told not to), start, and wait until ``/healthz`` answers."""
        if migrate:
            subprocess.run(self._cli("migrate"), env=self.env, cwd=ROOT, check=True, timeout=60)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self._cli("serve", "--host", self.host, "--port", str(self.port)),
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not become healthy in time")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL after ``timeout``)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self, *, down_for: float = 0.0, timeout: float = 20.0) -> LiveServer:
        """Stop the process and start a new one on the same port with the same database.

        ``down_for`` seconds pass between the two (clients see the server gone meanwhile).
        """
        self.stop()
        if down_for:
            time.sleep(down_for)
        return self.start(timeout, migrate=False)

    def kill(self) -> None:
        """SIGKILL: no cleanup at all (crash tests)."""
        self.stop(signal.SIGKILL)
