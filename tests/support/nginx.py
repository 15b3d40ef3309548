"""nginx in front of test servers, started from ``deploy/nginx.conf`` rendered with test ports.

:func:`render` swaps the example's upstream ports (8001-8003) and listen port (8080) for the test's, and
(when run as root) adds ``user root;`` so that workers can use the temporary directory. :class:`Nginx` runs
``nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`` as a child process and stops it on :meth:`Nginx.stop`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from tests.support.live_server import ROOT, free_port
from tests.support.system import find_or_install

__all__ = ["Nginx", "NginxUnavailable", "render"]

CONFIG = ROOT / "deploy" / "nginx.conf"
EXAMPLE_UPSTREAMS = ("127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003")
EXAMPLE_LISTEN = "listen 127.0.0.1:8080;"


class NginxUnavailable(RuntimeError):
    """nginx is not installed and cannot be installed here."""


def find_nginx(install: bool = True) -> str:
    """Path of the nginx binary, installing the Debian package if asked and needed."""
    return find_or_install("nginx", "/usr/sbin/nginx", NginxUnavailable, install=install)


def render(upstream_ports: list[int], listen_port: int) -> str:
    """``deploy/nginx.conf`` with the test's ports."""
    text = CONFIG.read_text()
    assert len(upstream_ports) == len(EXAMPLE_UPSTREAMS)
    for example, port in zip(EXAMPLE_UPSTREAMS, upstream_ports, strict=True):
        assert example in text
        text = text.replace(example, f"127.0.0.1:{port}")
    assert EXAMPLE_LISTEN in text
    text = text.replace(EXAMPLE_LISTEN, f"listen 127.0.0.1:{listen_port};")
    if os.geteuid() == 0:
        text = "user root;\n" + text
    return text


class Nginx:
    """A foreground nginx serving ``render(...)`` from a directory of its own."""

    def __init__(self, directory: Path, upstream_ports: list[int]) -> None:
        self.binary = find_nginx()
        self.directory = directory
        self.port = free_port()
        (directory / "logs").mkdir(parents=True, exist_ok=True)
        (directory / "temp").mkdir(exist_ok=True)
        self.config = directory / "nginx.conf"
        self.config.write_text(render(upstream_ports, self.port))
        self.process: subprocess.Popen[bytes] | None = None
        self.host = "127.0.0.1"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:PORT/ws``."""
        return f"ws://{self.host}:{self.port}/ws"

    def start(self, timeout: float = 10.0) -> Nginx:
        """Check the configuration (``nginx -t``), start, and wait for the port."""
        argv = [self.binary, "-p", str(self.directory), "-c", str(self.config)]
        check = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self.process = subprocess.Popen(
            [*argv, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start listening")

    def stop(self) -> None:
        """SIGTERM (fast shutdown) and wait; SIGKILL after 5 s."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
