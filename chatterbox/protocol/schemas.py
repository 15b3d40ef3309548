"""Loading the protocol's JSON Schemas (``schema/``) and compiling validators from them, once.

The schema files are the single source of the protocol. They are read from the repository's
``schema/`` folder (or from the copy installed beside the package) and registered under stable
URIs so that their relative ``$ref`` s resolve. No I/O happens after start-up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs

__all__ = [
    "BASE_URI",
    "Direction",
    "SchemaSet",
    "find_schema_dir",
    "load_schema_set",
]

BASE_URI = "https://chatterbox.invalid/schema/"
"""Every schema file is registered as ``BASE_URI + <path relative to schema/>``."""

Direction = Literal["client", "server"]
"""``client``: frames a client sends (commands). ``server``: frames the server sends."""


def find_schema_dir() -> Path:
    """Locate the ``schema/`` folder: the repository's, or the one shipped inside the package."""
    here = Path(__file__).resolve()
    for candidate in (here.parent / "schema", here.parents[2] / "schema"):
        if (candidate / "client.json").is_file():
            return candidate
    raise FileNotFoundError("the protocol's schema/ folder was not found")


def _iter_schema_files(root: Path) -> Iterator[Path]:
    yield from sorted(root.rglob("*.json"))


@dataclass(frozen=True)
class SchemaSet:
    """All schema documents, keyed by their path relative to ``schema/`` (``server/ack.json``)."""

    root: Path
    documents: dict[str, dict[str, Any]]
    registry: jsonschema_rs.Registry = field(repr=False)

    def uri(self, relpath: str) -> str:
        """The URI a schema file is registered under."""
        return BASE_URI + relpath

    def validator(self, relpath: str) -> jsonschema_rs.Draft7Validator:
        """Compile a draft-07 validator for one schema file (``client.json``, ``server/ack.json``)."""
        return jsonschema_rs.Draft7Validator({"$ref": self.uri(relpath)}, registry=self.registry)

    def frame_types(self, direction: Direction) -> dict[str, str]:
        """Map each frame ``type`` of a direction to its schema file (``message.send`` → path)."""
        union = self.documents[f"{direction}.json"]
        out: dict[str, str] = {}
        for branch in union["oneOf"]:
            relpath = branch["$ref"]
            const = self.documents[relpath]["properties"]["type"]["const"]
            out[const] = relpath
        return out


@cache
def load_schema_set(root: Path | None = None) -> SchemaSet:
    """Read every schema file below ``root`` (default: :func:`find_schema_dir`) into a registry."""
    root = root or find_schema_dir()
    documents = {
        path.relative_to(root).as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in _iter_schema_files(root)
    }
    registry = jsonschema_rs.Registry(
        resources=[(BASE_URI + rel, doc) for rel, doc in documents.items()]
    )
    return SchemaSet(root=root, documents=documents, registry=registry)
