"""Fixtures for the store's unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """The store needs asyncio (its writer task uses asyncio primitives)."""
    return "asyncio"
