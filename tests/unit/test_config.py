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
