"""Operations: /healthz, /readyz, /metrics, structured logs, security headers, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.api.apiclient import PASSWORD, register
from tests.support.live_server import ROOT, LiveServer


@pytest.fixture(scope="module")
def verbose_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server logging at info, so its access lines can be read."""
    server = LiveServer(
        tmp_path_factory.mktemp("ops"), env={"CHATTERBOX_LOG_LEVEL": "info"}
    ).start()
    try:
        yield server
    finally:
        server.stop()


def test_probes(verbose_server: LiveServer) -> None:
    assert httpx.get(verbose_server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(verbose_server.url + "/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok"}


def test_metrics_in_prometheus_format(verbose_server: LiveServer) -> None:
    alice = register(verbose_server.url)
    alice.get("/api/rooms/r_nosuch/messages")
    r = httpx.get(verbose_server.url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    for name in (
        "chatterbox_ws_connections",
        "chatterbox_ws_frames_in_total",
        "chatterbox_messages_stored_total",
        "chatterbox_command_seconds_bucket",
    ):
        assert f"# TYPE {name.removesuffix('_total').removesuffix('_bucket')}" in text, name
    assert 'chatterbox_http_requests_total{route="/api/auth/register",status="201"} 1.0' in text
    assert 'chatterbox_errors_total{code="room_not_found"} 1.0' in text


def test_logs_are_json_lines_without_secrets(verbose_server: LiveServer) -> None:
    alice = register(verbose_server.url)
    httpx.get(verbose_server.url + "/healthz")
    lines = Path(verbose_server.log_path).read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records, lines[:5]
    access = [r for r in records if r["logger"] == "chatterbox.access"]
    register_line = next(r for r in access if r["route"] == "/api/auth/register")
    assert register_line["status"] == 201 and register_line["method"] == "POST"
    assert {"ts", "level", "msg", "duration_ms", "client"} <= set(register_line)
    text = Path(verbose_server.log_path).read_text()
    assert alice.token not in text and PASSWORD not in text


def test_security_headers_on_api_responses(verbose_server: LiveServer) -> None:
    r = httpx.get(verbose_server.url + "/api/users/me")
    assert r.status_code == 401
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_create_user_command(live_server: LiveServer) -> None:
    cli = [sys.executable, "-m", "chatterbox", "create-user", "CliUser", "--password-stdin"]
    done = subprocess.run(
        [*cli, "--display-name", "From the CLI"],
        input=PASSWORD + "\n",
        env=live_server.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "created CliUser" in done.stdout
    r = httpx.post(
        live_server.url + "/api/auth/login", json={"username": "cliuser", "password": PASSWORD}
    )
    assert r.status_code == 200 and r.json()["user"]["display_name"] == "From the CLI"
    for argv, secret, complaint in [
        (cli, PASSWORD, "username: This username is taken."),
        ([*cli[:4], "Other", "--password-stdin"], "weak", "password: "),
    ]:
        refused = subprocess.run(
            argv, input=secret + "\n", env=live_server.env, cwd=ROOT, capture_output=True, text=True
        )
        assert refused.returncode == 1 and complaint in refused.stderr
