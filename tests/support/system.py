"""What the throwaway servers of the tests share: finding (or installing) a system binary, and a
watchdog process that cleans up after a test process that died without doing so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.live_server import ROOT

__all__ = ["find_or_install", "start_watchdog"]

ENSURE_DEPS = ROOT / "tools" / "ensure-system-deps.sh"


def find_or_install(
    name: str, default_path: str, error: type[Exception], *, install: bool = True
) -> str:
    """Path of the ``name`` binary (on ``PATH`` or at ``default_path``), installing its Debian
    package with ``tools/ensure-system-deps.sh`` if asked and needed; ``error`` if neither."""
    found = shutil.which(name) or (default_path if Path(default_path).exists() else None)
    if found is None and install:
        result = subprocess.run(
            [str(ENSURE_DEPS), name], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise error(f"cannot install {name}: {result.stderr.strip() or result.stdout.strip()}")
        found = shutil.which(name) or default_path
    if found is None or not Path(found).exists():
        raise error(f"{name} is not installed")
    return found


_WATCH = (
    "import os, shutil, signal, subprocess, sys, time\n"
    "parent, args = int(sys.argv[1]), sys.argv[2:]\n"
    "while True:\n"
    "    try:\n"
    "        os.kill(parent, 0)\n"
    "    except ProcessLookupError:\n"
    "        break\n"
    "    time.sleep(1)\n"
)


def start_watchdog(cleanup: str, *args: str) -> subprocess.Popen[bytes]:
    """A detached process that runs ``cleanup`` (Python, with ``args`` bound to ``args``; ``os``,
    ``shutil``, ``signal`` and ``subprocess`` imported) once this process has died. Kill it on a
    normal stop."""
    return subprocess.Popen(
        [sys.executable, "-c", _WATCH + cleanup, str(os.getpid()), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C of the test run must not kill it first
    )
