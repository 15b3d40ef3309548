"""The app builds its WebSocket frame dispatcher in its lifespan, not on the first connection.

Compiling the protocol's validators and models costs ~4 MiB and a few milliseconds; paid at start-up
it is neither charged to the first user who connects nor a late failure when ``schema/`` is broken.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatterbox.app import create_app
from chatterbox.config import Settings
from chatterbox.protocol import schemas
from chatterbox.realtime import dispatch
from chatterbox.realtime.dispatch import Dispatcher

pytestmark = pytest.mark.anyio


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        env="development", database_url=f"sqlite+aiosqlite:///{tmp_path / 'chatterbox.db'}"
    )


async def test_dispatcher_is_built_at_start_up_for_this_apps_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Dispatcher] = []
    real_init = Dispatcher.__init__

    def spy(self: Dispatcher, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        built.append(self)

    monkeypatch.setattr(dispatch.Dispatcher, "__init__", spy)
    app = create_app(_settings(tmp_path))
    assert built == []
    async with app.router.lifespan_context(app):
        assert built == [app.state.dispatcher]
        assert app.state.dispatcher.hub is app.state.hub
        assert "message.send" in app.state.dispatcher.codec.types
    # A second app (as tests and multi-app hosts make) gets its own, bound to its own hub.
    other = create_app(_settings(tmp_path / "other"))
    async with other.router.lifespan_context(other):
        assert other.state.dispatcher is not app.state.dispatcher
        assert other.state.dispatcher.hub is other.state.hub
    assert len(built) == 2


async def test_a_missing_schema_folder_fails_the_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-schema"
    empty.mkdir()

    def missing() -> Path:
        raise FileNotFoundError("the protocol's schema/ folder was not found")

    schemas.load_schema_set.cache_clear()
    monkeypatch.setattr(schemas, "find_schema_dir", missing)
    try:
        app = create_app(_settings(tmp_path))
        with pytest.raises(FileNotFoundError, match="schema/ folder"):
            async with app.router.lifespan_context(app):
                pass  # pragma: no cover - start-up must fail
    finally:
        schemas.load_schema_set.cache_clear()
