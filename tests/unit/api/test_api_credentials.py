"""The credential rules shared by REST and the WebSocket upgrade (pure functions)."""

from __future__ import annotations

import pytest

from chatterbox.api.deps import Credentials, origin_allowed, read_credentials
from chatterbox.config import Settings

COOKIE = "chatterbox_session"


@pytest.mark.parametrize(
    ("headers", "cookies", "expected"),
    [
        ({}, {}, Credentials(None, None)),
        ({}, {COOKIE: "c"}, Credentials("c", "cookie")),
        ({"authorization": "Bearer t"}, {}, Credentials("t", "bearer")),
        ({"authorization": "bearer   t "}, {}, Credentials("t", "bearer")),
        # The header is used alone, even when it is useless and a cookie is there.
        ({"authorization": "Bearer t"}, {COOKIE: "c"}, Credentials("t", "bearer")),
        ({"authorization": "Basic eDp5"}, {COOKIE: "c"}, Credentials(None, "bearer")),
        ({"authorization": "Bearer"}, {COOKIE: "c"}, Credentials(None, "bearer")),
        ({"authorization": "Bearer a b"}, {}, Credentials(None, "bearer")),
        ({}, {"other": "c"}, Credentials(None, None)),
        ({}, {COOKIE: ""}, Credentials(None, None)),
    ],
)
def test_read_credentials(
    headers: dict[str, str], cookies: dict[str, str], expected: Credentials
) -> None:
    assert read_credentials(headers, cookies, COOKIE) == expected


def test_origin_allowlist() -> None:
    settings = Settings(allowed_origins=["http://127.0.0.1:8000", "https://chat.example.com/"])
    assert origin_allowed("http://127.0.0.1:8000", settings)
    assert origin_allowed("https://chat.example.com", settings)
    assert origin_allowed("HTTPS://CHAT.EXAMPLE.COM", settings)
    assert not origin_allowed("http://localhost:8000", settings)
    assert not origin_allowed("https://chat.example.com.evil.net", settings)
    assert not origin_allowed("null", settings)
    assert not origin_allowed(None, settings)
    assert not origin_allowed("", settings)
