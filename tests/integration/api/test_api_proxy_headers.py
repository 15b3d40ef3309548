"""``CHATTERBOX_FORWARDED_ALLOW_IPS``: behind a trusted proxy the per-address limits key on the
forwarded client address; without the setting ``X-Forwarded-For`` is ignored.

Real servers (``chatterbox serve``): the setting acts through uvicorn's options, not through the app.
The tests connect from 127.0.0.1 and play the proxy themselves, sending the headers nginx would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.api.apiclient import PASSWORD, error_code, unique_name
from tests.integration.realtime.wsclient import open_ws, refusal_status
from tests.support.live_server import LiveServer

THROTTLE_ENV = {"CHATTERBOX_REGISTER_BURST": "2", "CHATTERBOX_REGISTER_PER_HOUR": "1"}
"""Two registrations per address, then one per hour (none during a test)."""


def post_register(server: LiveServer, forwarded_for: str | None) -> httpx.Response:
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    return httpx.post(
        server.url + "/api/auth/register",
        json={"username": unique_name(), "password": PASSWORD},
        headers=headers,
        timeout=10,
    )


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that trusts the proxy headers of 127.0.0.1 (the tests' own address)."""
    env = {**THROTTLE_ENV, "CHATTERBOX_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    server = LiveServer(tmp_path_factory.mktemp("proxied"), env=env).start()
    try:
        yield server
    finally:
        server.stop()


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_allowance(
    proxied_server: LiveServer,
) -> None:
    for _ in range(2):
        r = post_register(proxied_server, "203.0.113.7")
        assert r.status_code == 201, r.text
    r = post_register(proxied_server, "203.0.113.7")
    assert r.status_code == 429 and error_code(r) == "rate_limited"
    # The same client forging the header: nginx appends the address it saw, and the last address
    # that is not a trusted proxy is the client's.
    r = post_register(proxied_server, "198.51.100.23, 203.0.113.7")
    assert r.status_code == 429 and error_code(r) == "rate_limited"
    # Other clients behind the same proxy still register: their own allowances.
    assert post_register(proxied_server, "198.51.100.23").status_code == 201
    assert post_register(proxied_server, "2001:db8::1").status_code == 201
    # The proxy's own address spent nothing either.
    assert post_register(proxied_server, None).status_code == 201


@pytest.mark.anyio
async def test_websocket_origin_check_is_unchanged_behind_the_proxy(
    proxied_server: LiveServer,
) -> None:
    r = post_register(proxied_server, "192.0.2.44")
    assert r.status_code == 201, r.text
    cookie = f"chatterbox_session={r.json()['token']}"
    # X-Forwarded-Proto makes the scope's scheme wss; the Origin rule compares the header only.
    proxy = {"X-Forwarded-For": "192.0.2.44", "X-Forwarded-Proto": "https"}
    client = await open_ws(
        proxied_server, headers={**proxy, "Cookie": cookie, "Origin": proxied_server.url}
    )
    try:
        assert client.hello["user"]["id"] == r.json()["user"]["id"]
    finally:
        await client.close()
    https_twin = proxied_server.url.replace("http://", "https://")  # not in allowed_origins
    for origin in ("http://evil.example", https_twin, None):
        headers = {**proxy, "Cookie": cookie} | ({"Origin": origin} if origin else {})
        assert await refusal_status(proxied_server, headers=headers) == 403


def test_without_the_setting_x_forwarded_for_is_ignored(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, env=THROTTLE_ENV).start()
    try:
        assert post_register(server, "203.0.113.7").status_code == 201
        assert post_register(server, "198.51.100.23").status_code == 201
        # Both counted against 127.0.0.1: a third forged address does not escape the limit.
        r = post_register(server, "192.0.2.1")
        assert r.status_code == 429 and error_code(r) == "rate_limited"
        assert post_register(server, None).status_code == 429
    finally:
        server.stop()
