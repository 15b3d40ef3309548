"""After start-up the server freezes its heap and sets the collector's thresholds from settings."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.live_server import LiveServer


def _frozen_line(server: LiveServer) -> re.Match[str]:
    text = server.log_path.read_text()
    found = re.search(
        r"heap frozen: (\d+) objects .*collector thresholds \((\d+), (\d+), (\d+)\)", text
    )
    assert found, text[-2000:]
    return found


def test_default_thresholds_and_frozen_heap(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, {"CHATTERBOX_LOG_LEVEL": "info"}).start()
    try:
        found = _frozen_line(server)
    finally:
        server.stop()
    assert int(found[1]) > 10_000  # the libraries' and the app's objects
    assert tuple(int(found[i]) for i in (2, 3, 4)) == (5_000, 20, 100)


def test_thresholds_from_the_environment(tmp_path: Path) -> None:
    env = {"CHATTERBOX_LOG_LEVEL": "info", "CHATTERBOX_GC_THRESHOLDS": "1234,5,6"}
    server = LiveServer(tmp_path, env).start()
    try:
        found = _frozen_line(server)
    finally:
        server.stop()
    assert tuple(int(found[i]) for i in (2, 3, 4)) == (1234, 5, 6)
