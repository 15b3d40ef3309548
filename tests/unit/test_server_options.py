"""``uvicorn_options``: proxy headers are trusted only from the proxies in ``forwarded_allow_ips``.

The options are checked by what uvicorn builds from them (``Config.load()`` wraps the app in its
proxy headers middleware or not), with requests from a listed proxy and from any other peer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn

from chatterbox.config import Settings
from chatterbox.server import uvicorn_options

Scope = dict[str, Any]


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, env="development", **overrides)  # type: ignore[call-arg]


def seen_by_app(options: dict[str, Any], peer: str, headers: dict[str, str]) -> Scope:
    """The scope the app receives for an HTTP request from ``peer`` under uvicorn's ``options``."""
    received: list[Scope] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        received.append(scope)

    options = dict(options)
    options.pop("log_level")  # uvicorn would set its loggers' levels in this test process
    config = uvicorn.Config(app, log_config=None, **options)
    config.load()
    scope: Scope = {
        "type": "http",
        "scheme": "http",
        "client": (peer, 40000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(config.loaded_app(scope, None, None))
    return received[0]


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


def test_without_the_setting_no_proxy_header_is_trusted(monkeypatch: Any) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's own variable must not matter
    options = uvicorn_options(settings())
    assert options["proxy_headers"] is False
    assert options["forwarded_allow_ips"] == []
    for peer in ("127.0.0.1", "10.1.2.3"):
        scope = seen_by_app(options, peer, FORWARDED)
        assert scope["client"] == (peer, 40000)
        assert scope["scheme"] == "http"


def test_with_the_setting_only_the_listed_proxies_are_trusted() -> None:
    options = uvicorn_options(settings(forwarded_allow_ips="127.0.0.1, 10.0.0.0/8"))
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["127.0.0.1", "10.0.0.0/8"]
    for proxy in ("127.0.0.1", "10.1.2.3"):
        scope = seen_by_app(options, proxy, FORWARDED)
        assert scope["client"] == ("203.0.113.7", 0)
        assert scope["scheme"] == "https"
        # What nginx sends when the client forged the header itself: the address nginx saw wins.
        forged = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
        assert seen_by_app(options, proxy, forged)["client"] == ("203.0.113.7", 0)
    # Any other peer: its headers are ignored.
    scope = seen_by_app(options, "192.0.2.9", FORWARDED)
    assert scope["client"] == ("192.0.2.9", 40000)
    assert scope["scheme"] == "http"


def test_the_other_options_do_not_change_with_the_setting() -> None:
    plain = uvicorn_options(settings())
    proxied = uvicorn_options(settings(forwarded_allow_ips="127.0.0.1"))
    differing = {key for key in plain.keys() | proxied.keys() if plain.get(key) != proxied.get(key)}
    assert differing == {"proxy_headers", "forwarded_allow_ips"}
