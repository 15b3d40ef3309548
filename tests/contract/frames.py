"""Helpers for contract tests: frame generation from the schemas and the three validators.

The three validators that must always agree on a frame:

* the server's JSON Schema validator (jsonschema-rs, through :class:`chatterbox.protocol.codec.Codec`);
* the generated pydantic models (``chatterbox.protocol.models``), on their own;
* the generated browser validators (``static/js/protocol/validators.js``), run under Node.
"""

from __future__ import annotations

import json
import posixpath
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from schemathesis.generation import GenerationMode

from chatterbox.protocol.codec import integral_floats_to_int
from chatterbox.protocol.models.client import ClientFrame
from chatterbox.protocol.models.server import ServerFrame
from chatterbox.protocol.schemas import Direction, SchemaSet

ROOT = Path(__file__).resolve().parents[2]
NODE_CHECKER = ROOT / "tools" / "validate-frames.mjs"

_ADAPTERS: dict[Direction, TypeAdapter[Any]] = {
    "client": TypeAdapter(ClientFrame),
    "server": TypeAdapter(ServerFrame),
}


def _component_name(relpath: str) -> str:
    return relpath.replace("/", "__").removesuffix(".json")


def _rewrite(node: Any, base: str) -> Any:
    """Inline-able copy of a schema: relative file $refs become component refs."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref":
                target = posixpath.normpath(posixpath.join(posixpath.dirname(base), value))
                out[key] = "#/components/schemas/" + _component_name(target)
            elif key in {"$schema", "examples", "discriminator"}:
                continue
            else:
                out[key] = _rewrite(value, base)
        return out
    if isinstance(node, list):
        return [_rewrite(item, base) for item in node]
    return node


def wrapped_openapi(schemas: SchemaSet) -> dict[str, Any]:
    """The frame schemas wrapped as request bodies of a tiny OpenAPI 3.1 document.

    schemathesis has no AsyncAPI support; this lets its generators (positive and negative)
    produce frames from exactly the published schemas.
    """
    components = {
        _component_name(rel): _rewrite(doc, rel) for rel, doc in schemas.documents.items()
    }
    targets = ["client.json", "server.json", *sorted(r for r in schemas.documents if "/" in r)]
    paths = {
        f"/{rel}": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{_component_name(rel)}"}
                        }
                    },
                },
                "responses": {"200": {"description": "accepted"}},
            }
        }
        for rel in targets
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Chatterbox frames", "version": "1"},
        "paths": paths,
        "components": {"schemas": components},
    }


def frame_strategy(
    schemas: SchemaSet, relpath: str, mode: GenerationMode
) -> st.SearchStrategy[Any]:
    """Instances of one schema file (``client.json``, ``server/hello.json``): valid (POSITIVE)
    or schema-violating (NEGATIVE) bodies."""
    api = schemathesis.openapi.from_dict(wrapped_openapi(schemas))
    operation = api[f"/{relpath}"]["POST"]
    return operation.as_strategy(generation_mode=mode).map(lambda case: case.body)


def frames_of_every_type(
    schemas: SchemaSet, direction: Direction, mode: GenerationMode, per_type: int
) -> list[Any]:
    """About ``per_type`` frames of each frame type of a direction (every type is covered)."""
    out: list[Any] = []
    for relpath in schemas.frame_types(direction).values():
        out.extend(collect(frame_strategy(schemas, relpath, mode), per_type))
    return out


def collect(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """Draw about ``count`` examples from a strategy (no shrinking: we compare in batches)."""
    out: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(value: Any) -> None:
        out.append(value)

    draw()
    return out


def has_surrogates(value: Any) -> bool:
    """True if a lone surrogate appears anywhere: such text cannot travel in a WebSocket text frame."""
    text = json.dumps(value, ensure_ascii=False)
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def pydantic_accepts(direction: Direction, frame: Any) -> bool:
    """Whether the generated models, on their own, accept the frame."""
    try:
        _ADAPTERS[direction].validate_python(integral_floats_to_int(frame))
    except ValidationError:
        return False
    return True


def node_accepts(pairs: Iterable[tuple[Direction, Any]]) -> list[bool]:
    """Run the generated browser validators under Node on a batch of frames."""
    lines = "".join(json.dumps({"dir": d, "frame": f}, ensure_ascii=True) + "\n" for d, f in pairs)
    proc = subprocess.run(
        ["node", str(NODE_CHECKER)],
        input=lines,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    return [json.loads(line)["valid"] for line in proc.stdout.splitlines()]


def mutations(frame: dict[str, Any], required: Callable[[str], list[str]]) -> list[dict[str, Any]]:
    """Frames that are certainly invalid, derived from a valid one.

    Each drops a required field, adds an unknown field, or gives a field a value no schema in
    the protocol accepts (a closed object with an unknown key).
    """
    out: list[dict[str, Any]] = []
    out.append({**frame, "unexpected_field": 1})
    out.append({**frame, "type": frame["type"] + ".unknown"})
    for key in required(frame["type"]):
        if key in frame:
            out.append({k: v for k, v in frame.items() if k != key})
    for key in frame:
        if key != "type":
            out.append({**frame, key: {"$bad": True}})
    return out
