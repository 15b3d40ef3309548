"""A tiny REST client for the API integration tests (real HTTP against a LiveServer)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["PASSWORD", "Account", "error_code", "register", "unique_name"]

PASSWORD = "integration test passphrase 7"
"""A password zxcvbn accepts."""

_counter = itertools.count()


def unique_name(prefix: str = "user") -> str:
    """A username not used before in this test process."""
    return f"{prefix}{next(_counter)}"


@dataclass
class Account:
    """A registered user and a bearer client for them."""

    base_url: str
    username: str
    user: dict[str, Any]
    token: str
    refresh_token: str
    session_id: str

    @property
    def id(self) -> str:
        """The user id."""
        return str(self.user["id"])

    def headers(self) -> dict[str, str]:
        """Bearer authorization."""
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An authenticated request (no cookie jar: bearer only)."""
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return httpx.request(method, self.base_url + path, headers=headers, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST."""
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        """PATCH."""
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        """DELETE."""
        return self.request("DELETE", path, **kwargs)


def register(base_url: str, username: str | None = None, **extra: Any) -> Account:
    """Register a user (201 expected) and return the account."""
    name = username or unique_name()
    r = httpx.post(
        base_url + "/api/auth/register",
        json={"username": name, "password": PASSWORD, **extra},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return Account(
        base_url, name, body["user"], body["token"], body["refresh_token"], body["session_id"]
    )


def error_code(response: httpx.Response) -> str:
    """The ``error.code`` of an error response (and check the one error shape)."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    return str(body["error"]["code"])
