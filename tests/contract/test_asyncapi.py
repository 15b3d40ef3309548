"""asyncapi.yaml and schema/ describe the same protocol: nothing missing, nothing dangling.

(The official parser's check, with zero errors and warnings, runs as `make check-asyncapi`.)
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import pytest
import yaml

from chatterbox.protocol.schemas import SchemaSet

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def asyncapi() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "asyncapi.yaml").read_text(encoding="utf-8"))
    return doc


def _payload_files(doc: dict[str, Any]) -> dict[str, str]:
    """Message key → schema file (relative to schema/) its payload points to."""
    out: dict[str, str] = {}
    for key, message in doc["components"]["messages"].items():
        payload = message["payload"]
        assert payload["schemaFormat"] == "application/schema+json;version=draft-07", key
        ref = payload["schema"]["$ref"]
        out[key] = posixpath.normpath(ref).removeprefix("schema/")
    return out


def test_version_and_channel(asyncapi: dict[str, Any]) -> None:
    assert str(asyncapi["asyncapi"]).startswith("3.")
    channels = asyncapi["channels"]
    assert [c["address"] for c in channels.values()] == ["/ws"]
    text = (ROOT / "asyncapi.yaml").read_text(encoding="utf-8")
    assert "chatterbox.v1" in text
    assert "/openapi.json" in text


def test_every_message_points_to_an_existing_schema(
    asyncapi: dict[str, Any], schemas: SchemaSet
) -> None:
    for key, rel in _payload_files(asyncapi).items():
        assert rel in schemas.documents, f"{key} → {rel} does not exist"


def test_every_frame_schema_is_reachable(asyncapi: dict[str, Any], schemas: SchemaSet) -> None:
    referenced = set(_payload_files(asyncapi).values())
    frame_files = {rel for rel in schemas.documents if rel.startswith(("client/", "server/"))}
    assert frame_files == referenced


def test_channel_lists_every_message(asyncapi: dict[str, Any]) -> None:
    channel = next(iter(asyncapi["channels"].values()))
    in_channel = {m["$ref"].rsplit("/", 1)[-1] for m in channel["messages"].values()}
    assert in_channel == set(asyncapi["components"]["messages"])


def test_operations_cover_both_directions(asyncapi: dict[str, Any], schemas: SchemaSet) -> None:
    files = _payload_files(asyncapi)
    received: set[str] = set()
    sent: set[str] = set()
    for op in asyncapi["operations"].values():
        keys = {m["$ref"].rsplit("/", 1)[-1] for m in op.get("messages", [])}
        (received if op["action"] == "receive" else sent).update(keys)
        reply = op.get("reply") or {}
        sent.update(m["$ref"].rsplit("/", 1)[-1] for m in reply.get("messages", []))
    assert {files[k] for k in received} == {r for r in files.values() if r.startswith("client/")}
    assert {files[k] for k in sent} == {r for r in files.values() if r.startswith("server/")}


def test_examples_are_the_schemas_examples(asyncapi: dict[str, Any], schemas: SchemaSet) -> None:
    files = _payload_files(asyncapi)
    for key, message in asyncapi["components"]["messages"].items():
        validator = schemas.validator(files[key])
        examples = message.get("examples", [])
        assert examples, key
        for example in examples:
            assert validator.is_valid(example["payload"]), (key, example.get("name"))
