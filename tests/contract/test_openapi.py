"""Schemathesis over ``/openapi.json`` against a real server: no 5xx, every response as documented.

Authenticated as a freshly registered user (bearer token). Some operations end the session the
test runs with (logout, ending sessions); before each case the token is checked and, when it no
longer works, another user is registered, so every operation is exercised authenticated.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chatterbox.app import create_app
from chatterbox.config import Settings
from tests.support.live_server import LiveServer

PASSWORD = "contract test passphrase 42"

SEMANTIC_422 = {
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/password"),
    ("GET", "/api/rooms/{room_id}/messages"),
}
"""Operations that also apply rules JSON Schema cannot state, answered 422 with the field named:
guessable passwords (zxcvbn) and reserved usernames; a ``before`` cursor this server did not issue;
a ``tz`` not in the IANA database. For these alone, a schema-valid request may be refused, so
schemathesis's ``positive_data_acceptance`` is skipped (every other check still runs)."""


class _Auth:
    """A bearer token that keeps working: re-registers when the current session has ended."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token: str | None = None
        self._names = (f"contract{n}" for n in itertools.count())

    def headers(self) -> dict[str, str]:
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            if self.token is not None:
                probe = client.get("/api/users/me", headers=self._bearer())
                if probe.status_code == 200:
                    return self._bearer()
            for name in self._names:
                r = client.post("/api/auth/register", json={"username": name, "password": PASSWORD})
                if r.status_code == 201:
                    self.token = r.json()["token"]
                    return self._bearer()
                assert r.status_code == 409, r.text  # the fuzzer may have taken the name
        raise AssertionError("unreachable")

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of our own: the fuzzer fills its database."""
    server = LiveServer(Path(tmp_path_factory.mktemp("openapi"))).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def auth(api_server: LiveServer) -> _Auth:
    """Credentials for the cases."""
    return _Auth(api_server.url)


# The document the server publishes (built here, identical: same code, default settings); the
# requests go to the live server. (``schemathesis.pytest.from_fixture`` does not work with pytest 9.)
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_openapi_contract(case: schemathesis.Case, api_server: LiveServer, auth: _Auth) -> None:
    """Every documented operation: valid and invalid inputs, all of schemathesis's checks."""
    excluded = []
    if (case.method.upper(), case.path) in SEMANTIC_422:
        excluded.append(positive_data_acceptance)
    case.call_and_validate(
        base_url=api_server.url, headers=auth.headers(), excluded_checks=excluded
    )
