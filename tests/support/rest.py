"""REST calls the live-server suites (real-time, multi-process, e2e) share: registering an
account and a bearer-authenticated request."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

__all__ = ["HasToken", "HasUrl", "register_account", "rest"]

JSON = dict[str, Any]


class HasUrl(Protocol):
    """A server (``LiveServer``, ``Nginx``) with its ``http://`` base URL."""

    @property
    def url(self) -> str: ...


class HasToken(Protocol):
    """An account with a session token."""

    token: str


def register_account(
    server: HasUrl, username: str, password: str, display_name: str | None = None
) -> JSON:
    """``POST /api/auth/register`` (the account joins #general); the 201 answer's body."""
    body: JSON = {"username": username, "password": password}
    if display_name is not None:
        body["display_name"] = display_name
    r = httpx.post(server.url + "/api/auth/register", json=body, timeout=10)
    assert r.status_code == 201, r.text
    data: JSON = r.json()
    return data


def rest(
    server: HasUrl, account: HasToken, method: str, path: str, body: JSON | None = None
) -> httpx.Response:
    """A bearer-authenticated REST call."""
    return httpx.request(
        method,
        server.url + path,
        json=body,
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=10,
    )
