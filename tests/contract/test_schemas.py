"""Static checks of the protocol's JSON Schemas (schema/)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import referencing

from chatterbox.protocol.schemas import BASE_URI, SchemaSet

# The outline in DESIGN.md / the protocol issue: every one of these must exist.
CLIENT_TYPES = {
    "message.send", "message.edit", "message.delete", "typing", "receipt", "history",
    "resume", "presence.set", "ping",
}  # fmt: skip
SERVER_TYPES = {
    "hello", "ack", "error", "message.created", "message.updated", "message.deleted",
    "receipt", "member.joined", "member.left", "history", "typing", "presence", "resync", "pong",
}  # fmt: skip
ERROR_CODES = {
    "invalid_json", "invalid_frame", "unknown_type", "frame_too_large", "binary_frame",
    "duplicate_id", "forbidden", "not_found", "conflict", "message_deleted", "invalid_receipt",
    "rate_limited", "internal_error", "unavailable",
}  # fmt: skip
# Fields only the server may set: a command carrying any of them must be refused (the
# Rocket.Chat CVE-2026-106075 class: a client forging author, timestamps, ids or seq).
SERVER_OWNED = {"author", "author_id", "user_id", "created_at", "edited_at", "deleted_at", "seq"}


def _registry(schemas: SchemaSet) -> referencing.Registry[Any]:
    resources = [
        (BASE_URI + rel, referencing.Resource.from_contents(doc, referencing.jsonschema.DRAFT7))
        for rel, doc in schemas.documents.items()
    ]
    return referencing.Registry().with_resources(resources)


def _walk_objects(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            if key not in {"examples", "default", "const", "enum"}:
                found.extend(_walk_objects(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found.extend(_walk_objects(item, f"{path}/{i}"))
    return found


def test_every_event_of_the_outline_is_present(schemas: SchemaSet) -> None:
    assert set(schemas.frame_types("client")) == CLIENT_TYPES
    assert set(schemas.frame_types("server")) == SERVER_TYPES
    assert set(schemas.documents["common/error_code.json"]["enum"]) == ERROR_CODES


def test_every_file_is_valid_draft7_with_title_description_examples(schemas: SchemaSet) -> None:
    for rel, doc in schemas.documents.items():
        assert doc.get("$schema") == "http://json-schema.org/draft-07/schema#", rel
        jsonschema.Draft7Validator.check_schema(doc)
        assert doc.get("title"), f"{rel}: no title"
        assert doc.get("description"), f"{rel}: no description"
        assert doc.get("examples"), f"{rel}: no examples"
        assert "$id" not in doc, f"{rel}: absolute $id breaks bundling"


def test_titles_are_unique_class_names(schemas: SchemaSet) -> None:
    titles = [doc["title"] for doc in schemas.documents.values()]
    assert len(titles) == len(set(titles))
    assert all(t.isidentifier() and t[0].isupper() for t in titles)


def test_every_example_validates(schemas: SchemaSet) -> None:
    registry = _registry(schemas)
    checked = 0
    for rel, doc in schemas.documents.items():
        validator = jsonschema.Draft7Validator({"$ref": BASE_URI + rel}, registry=registry)
        rs_validator = schemas.validator(rel)
        for example in doc["examples"]:
            errors = [e.message for e in validator.iter_errors(example)]
            assert not errors, f"{rel}: {errors}"
            assert rs_validator.is_valid(example), rel
            checked += 1
    assert checked >= len(schemas.documents)


def test_examples_cover_every_frame_type(schemas: SchemaSet) -> None:
    for direction in ("client", "server"):
        for frame_type, rel in schemas.frame_types(direction).items():
            examples = schemas.documents[rel]["examples"]
            assert all(e["type"] == frame_type for e in examples), rel


def test_no_object_schema_is_left_open(schemas: SchemaSet) -> None:
    for rel, doc in schemas.documents.items():
        for path, node in _walk_objects(doc):
            extra = node.get("additionalProperties", True)
            if "oneOf" in node and "properties" not in node:
                continue  # a union: each branch is checked on its own
            if extra is False:
                continue
            # A map (e.g. resume's rooms) may allow extra keys only when their names are constrained.
            assert isinstance(extra, dict) and "propertyNames" in node, f"{rel}{path} is open"


def test_unions_are_discriminated_by_type(schemas: SchemaSet) -> None:
    for direction in ("client", "server"):
        union = schemas.documents[f"{direction}.json"]
        assert union["discriminator"] == {"propertyName": "type"}
        assert union["type"] == "object"
        for branch in union["oneOf"]:
            target = schemas.documents[branch["$ref"]]
            assert "type" in target["required"]
            assert "const" in target["properties"]["type"]


def test_commands_carry_an_id_and_no_server_owned_field(schemas: SchemaSet) -> None:
    for frame_type, rel in schemas.frame_types("client").items():
        doc = schemas.documents[rel]
        assert "id" in doc["required"], frame_type
        assert not SERVER_OWNED & set(doc["properties"]), (frame_type, rel)


@pytest.mark.parametrize("field", sorted(SERVER_OWNED | {"id_override", "room_seq"}))
def test_forged_server_fields_are_rejected(schemas: SchemaSet, field: str) -> None:
    validator = schemas.validator("client.json")
    for rel in schemas.frame_types("client").values():
        for example in schemas.documents[rel]["examples"]:
            forged = {**example, field: "u_attacker0" if field.endswith("id") else 1}
            assert not validator.is_valid(forged), (rel, field)


def test_limits_are_in_the_schema(schemas: SchemaSet) -> None:
    body = schemas.documents["common/body.json"]
    assert body["maxLength"] == 4000 and body["minLength"] == 1 and body["pattern"]
    limit = schemas.documents["client/history.json"]["properties"]["limit"]
    assert limit["maximum"] == 100 and limit["minimum"] == 1
    validator = schemas.validator("client.json")
    send = schemas.documents["client/message_send.json"]["examples"][0]
    assert validator.is_valid({**send, "body": "x" * 4000})
    assert not validator.is_valid({**send, "body": "x" * 4001})
    assert validator.is_valid({**send, "body": "\U0001f600" * 4000})  # code points, not bytes
    for blank in ["", " ", "\n\t ", "\u00a0\u2003\u3000", "\ufeff"]:
        assert not validator.is_valid({**send, "body": blank}), json.dumps(blank)


def test_optional_properties_without_a_default_admit_null(schemas: SchemaSet) -> None:
    """datamodel-codegen types an optional property that has no default as ``X | None = None``,
    so the generated model takes an explicit ``null``: the schema must take it too, or the
    server's validator and the models disagree on that frame (the property tests' negative
    frames found ``history.before: null``)."""
    registry = _registry(schemas)
    checked = []
    for rel, doc in schemas.documents.items():
        for path, node in _walk_objects(doc):
            required = set(node.get("required", []))
            for name, sub in node.get("properties", {}).items():
                if name in required or "default" in sub:
                    continue
                pointer = f"{BASE_URI}{rel}#{path}/properties/{name}"
                validator = jsonschema.Draft7Validator({"$ref": pointer}, registry=registry)
                assert validator.is_valid(None), f"{rel}{path}/properties/{name} refuses null"
                checked.append(pointer)
    assert any(p.endswith("client/history.json#/properties/before") for p in checked), checked
