"""Settings: environment variables, and no default secret outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chatterbox.config import DEFAULT_SECRET, Settings


def test_development_allows_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATTERBOX_SECRET_KEY", raising=False)
    monkeypatch.delenv("CHATTERBOX_ENV", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.env == "development"
    assert settings.secret_key == DEFAULT_SECRET


@pytest.mark.parametrize("env", ["test", "production"])
def test_default_secret_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.delenv("CHATTERBOX_SECRET_KEY", raising=False)
    monkeypatch.setenv("CHATTERBOX_ENV", env)
    with pytest.raises(ValidationError, match="CHATTERBOX_SECRET_KEY"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("CHATTERBOX_SECRET_KEY", "a-long-private-random-value-123")
    assert Settings(_env_file=None).env == env  # type: ignore[call-arg]


def test_short_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATTERBOX_SECRET_KEY", "short")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATTERBOX_MAX_FRAME_BYTES", "1024")
    monkeypatch.setenv("CHATTERBOX_ALLOWED_ORIGINS", '["https://chat.example.com"]')
    monkeypatch.setenv("CHATTERBOX_SQLITE_SYNCHRONOUS", "FULL")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.max_frame_bytes == 1024
    assert settings.allowed_origins == ["https://chat.example.com"]
    assert settings.sqlite_synchronous == "FULL"
    monkeypatch.setenv("CHATTERBOX_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_registration_throttle_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATTERBOX_REGISTER_BURST", raising=False)
    monkeypatch.delenv("CHATTERBOX_REGISTER_PER_HOUR", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.register_burst, settings.register_per_hour) == (10, 10.0)
    monkeypatch.setenv("CHATTERBOX_REGISTER_BURST", "3")
    monkeypatch.setenv("CHATTERBOX_REGISTER_PER_HOUR", "0.5")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.register_burst, settings.register_per_hour) == (3, 0.5)
    for name, value in (("BURST", "0"), ("PER_HOUR", "0"), ("PER_HOUR", "inf")):
        monkeypatch.setenv(f"CHATTERBOX_REGISTER_{name}", value)
        with pytest.raises(ValidationError):
            Settings(_env_file=None)  # type: ignore[call-arg]
        monkeypatch.delenv(f"CHATTERBOX_REGISTER_{name}")


def test_forwarded_allow_ips_is_empty_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATTERBOX_FORWARDED_ALLOW_IPS", raising=False)
    assert Settings(_env_file=None).forwarded_allow_ips == []  # type: ignore[call-arg]
    monkeypatch.setenv("CHATTERBOX_FORWARDED_ALLOW_IPS", " ")
    assert Settings(_env_file=None).forwarded_allow_ips == []  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("127.0.0.1", ["127.0.0.1"]),
        # Comma separated like uvicorn's FORWARDED_ALLOW_IPS, spaces and empty entries tolerated,
        # each entry canonical (uvicorn compares addresses, not strings, but logs read better).
        (" 127.0.0.1 , 10.0.0.0/8,,0:0::1,", ["127.0.0.1", "10.0.0.0/8", "::1"]),
        ("2001:DB8::/32", ["2001:db8::/32"]),
        ('["192.0.2.1", "fd00::/8"]', ["192.0.2.1", "fd00::/8"]),  # a JSON list, as other lists
    ],
)
def test_forwarded_allow_ips_are_read(
    monkeypatch: pytest.MonkeyPatch, value: str, parsed: list[str]
) -> None:
    monkeypatch.setenv("CHATTERBOX_FORWARDED_ALLOW_IPS", value)
    assert Settings(_env_file=None).forwarded_allow_ips == parsed  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*", "'\\*' is refused"),  # every peer trusted: any client picks its own address
        ("127.0.0.1,*", "'\\*' is refused"),
        ("nginx", "'nginx' is not an IP address or network"),  # uvicorn: a literal, never matched
        ("localhost", "'localhost' is not an IP address.*host names are not resolved"),
        ("10.0.0.1/8", "'10.0.0.1/8' is not an IP address or network.*host bits set"),
        ("256.0.0.1", "'256.0.0.1' is not an IP address"),
        ("127.0.0.1;10.0.0.1", "'127.0.0.1;10.0.0.1' is not an IP address"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not an IP address or network"),
    ],
)
def test_bad_forwarded_allow_ips_are_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("CHATTERBOX_FORWARDED_ALLOW_IPS", value)
    with pytest.raises(ValidationError, match=f"CHATTERBOX_FORWARDED_ALLOW_IPS: {message}"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="CHATTERBOX_FORWARDED_ALLOW_IPS"):
        Settings(_env_file=None, forwarded_allow_ips=value.split(","))  # type: ignore[call-arg]


def test_gc_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATTERBOX_GC_THRESHOLDS", raising=False)
    assert Settings(_env_file=None).gc_thresholds == (5_000, 20, 100)  # type: ignore[call-arg]
    for text in ("700,10,10", "[700, 10, 10]", " 700 , 10 , 10 "):
        monkeypatch.setenv("CHATTERBOX_GC_THRESHOLDS", text)
        assert Settings(_env_file=None).gc_thresholds == (700, 10, 10)  # type: ignore[call-arg]
    for bad in ("0,10,10", "700,10", "700,10,10,10", "a,b,c", "700,-1,10"):
        monkeypatch.setenv("CHATTERBOX_GC_THRESHOLDS", bad)
        with pytest.raises(ValidationError):
            Settings(_env_file=None)  # type: ignore[call-arg]
