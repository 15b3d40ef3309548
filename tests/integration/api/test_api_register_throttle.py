"""``POST /api/auth/register`` is throttled per client address: 429 + ``Retry-After`` before any work.

In process (httpx's ASGI transport sets the peer address, so two addresses can be compared), plus one
real server to show the ``CHATTERBOX_REGISTER_*`` variables reach it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from chatterbox.app import create_app
from chatterbox.auth.passwords import hash_password
from chatterbox.config import Settings
from chatterbox.store.base import Store
from tests.integration.api.apiclient import PASSWORD, error_code, register, unique_name
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.anyio

ClientFor = Callable[[str], httpx.AsyncClient]


@pytest.fixture
async def throttled_app(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, ClientFor]]:
    """An app allowing 2 registrations per address at once, then 1 per hour; clients per address."""
    settings = Settings(
        env="development",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'chatterbox.db'}",
        register_burst=2,
        register_per_hour=1,
    )
    app = create_app(settings)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))

        def client_for(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            stack.push_async_callback(client.aclose)  # closed before the lifespan ends
            return client

        yield app, client_for


async def post_register(client: httpx.AsyncClient, name: str) -> httpx.Response:
    return await client.post("/api/auth/register", json={"username": name, "password": PASSWORD})


async def test_over_the_limit_is_429_before_any_work_and_other_addresses_still_register(
    throttled_app: tuple[FastAPI, ClientFor], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client_for = throttled_app
    store: Store = app.state.services.store
    hashes: list[str] = []

    def counting_hash(password: str) -> str:
        hashes.append(password)
        return hash_password(password)

    monkeypatch.setattr("chatterbox.service.accounts.hash_password", counting_hash)

    first = client_for("203.0.113.7")
    for name in ("alice", "bob"):
        assert (await post_register(first, name)).status_code == 201
    assert len(hashes) == 2

    r = await post_register(first, "carol")
    assert r.status_code == 429, r.text
    assert r.json() == {
        "error": {
            "code": "rate_limited",
            "message": "Too many registrations from this address; try again later.",
            "field": None,
        }
    }
    assert 3590 <= int(r.headers["retry-after"]) <= 3600  # the next token, one hour after the burst
    assert "set-cookie" not in r.headers
    assert len(hashes) == 2  # refused before the password was hashed
    assert await store.get_user_by_username("carol") is None  # and no account was created
    # Every attempt counts: a taken name is refused by the limiter too, not by the 409.
    r = await post_register(first, "alice")
    assert r.status_code == 429 and error_code(r) == "rate_limited"

    # The same name from another address: created (nothing of the refused attempt remains).
    other = client_for("198.51.100.23")
    r = await post_register(other, "carol")
    assert r.status_code == 201, r.text
    assert len(hashes) == 3
    created = await store.get_user_by_username("carol")
    assert created is not None and created.id == r.json()["user"]["id"]
    # A third address, IPv6: its own bucket too.
    assert (await post_register(client_for("2001:db8::1"), "dave")).status_code == 201


def test_the_limit_is_configured_by_environment_variables(tmp_path: Path) -> None:
    server = LiveServer(
        tmp_path, env={"CHATTERBOX_REGISTER_BURST": "3", "CHATTERBOX_REGISTER_PER_HOUR": "2"}
    ).start()
    try:
        for _ in range(3):
            register(server.url)
        name = unique_name()
        r = httpx.post(
            server.url + "/api/auth/register",
            json={"username": name, "password": PASSWORD},
            timeout=10,
        )
        assert r.status_code == 429 and error_code(r) == "rate_limited"
        assert 1790 <= int(r.headers["retry-after"]) <= 1800  # 2 per hour: one per 30 minutes
        r = httpx.post(
            server.url + "/api/auth/login",
            json={"username": name, "password": PASSWORD},
            timeout=10,
        )
        assert r.status_code == 401  # the refused registration created nothing
    finally:
        server.stop()
