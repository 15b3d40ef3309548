"""Fixtures shared by the contract tests."""

from __future__ import annotations

import shutil

import pytest

from chatterbox.protocol.schemas import SchemaSet, load_schema_set

from .frames import NODE_CHECKER


@pytest.fixture(scope="session")
def schemas() -> SchemaSet:
    """Every schema file, loaded once."""
    return load_schema_set()


@pytest.fixture(scope="session")
def node_available() -> None:
    """The browser validators are checked under Node; `make test` installs it."""
    if shutil.which("node") is None or not NODE_CHECKER.exists():
        pytest.fail("node and tools/validate-frames.mjs are required (run `make setup`)")
