"""The frame codec: bytes → JSON → schema validation → generated model, and model → bytes. No I/O.

Inbound frames are checked against the JSON Schema itself (jsonschema-rs, compiled once), then
parsed into the generated pydantic models. A frame that cannot be accepted yields a
:class:`FrameError` carrying everything the ``error`` frame needs: a stable code, a message, the
command's ``id`` when it could be read, and for schema failures the JSON Pointer of the offending
field. Answers to the awkward cases (documented in ``docs/protocol.md``):

* text over ``max_frame_bytes`` (64 KiB) → ``frame_too_large`` (the WebSocket layer normally
  closes such a connection with 1009 before the codec sees the frame);
* a binary frame → ``binary_frame``; not JSON → ``invalid_json``;
* JSON without a known ``type`` → ``unknown_type`` (pointer ``/type``);
* anything else the schema rejects → ``invalid_frame`` with its pointer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import SchemaValidator

from chatterbox.protocol.models.client import ClientFrame
from chatterbox.protocol.models.server import ServerFrame
from chatterbox.protocol.schemas import Direction, SchemaSet, load_schema_set

__all__ = [
    "MAX_FRAME_BYTES",
    "Codec",
    "FrameError",
    "encode",
    "encode_json",
    "integral_floats_to_int",
    "json_pointer",
]

MAX_FRAME_BYTES: Final = 64 * 1024
"""The largest text frame the server reads, in bytes of UTF-8."""


@dataclass(frozen=True, slots=True)
class FrameError:
    """Why a frame was refused: becomes an ``error`` frame with these fields."""

    code: str
    """One of ``schema/common/error_code.json``."""
    message: str
    """A human-readable explanation."""
    re: str | None = None
    """The command's ``id``, when it could be read."""
    pointer: str | None = None
    """JSON Pointer (RFC 6901) of the offending field, for ``invalid_frame`` / ``unknown_type``."""

    def to_frame(self) -> dict[str, Any]:
        """The ``error`` frame as a JSON-ready dict."""
        return {
            "type": "error",
            "re": self.re,
            "code": self.code,
            "message": self.message,
            "pointer": self.pointer,
            "retry_after_ms": None,
        }


def json_pointer(path: list[str | int] | tuple[str | int, ...]) -> str:
    """Render a path as an RFC 6901 JSON Pointer (``['a', 0, 'b/c']`` → ``/a/0/b~1c``)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def encode_json(obj: Any) -> bytes:
    """Serialize a JSON-ready value compactly (what goes on the wire)."""
    return orjson.dumps(obj)


def encode(frame: BaseModel) -> bytes:
    """Serialize a generated model compactly; fields the sender never set are left out."""
    return frame.model_dump_json(exclude_unset=True, by_alias=True).encode()


class Codec:
    """Validates and parses one direction's frames. Build once at start-up; thread-safe."""

    def __init__(
        self,
        direction: Direction = "client",
        *,
        schemas: SchemaSet | None = None,
        max_frame_bytes: int = MAX_FRAME_BYTES,
    ) -> None:
        self.direction: Direction = direction
        """Which union this codec reads: ``client`` (commands) or ``server`` (events)."""
        self.max_frame_bytes = max_frame_bytes
        """Frames over this many UTF-8 bytes are refused with ``frame_too_large``."""
        self._schemas = schemas or load_schema_set()
        self._union = self._schemas.validator(f"{direction}.json")
        self._by_type = {
            t: self._schemas.validator(rel)
            for t, rel in self._schemas.frame_types(direction).items()
        }
        model: Any = ClientFrame if direction == "client" else ServerFrame
        self._adapter: TypeAdapter[Any] = TypeAdapter(model)
        # pydantic-core's validator itself: TypeAdapter.validate_python adds ~0.4 µs per frame.
        validator = self._adapter.validator
        self._validate: Callable[[Any], Any] = (
            validator.validate_python
            if isinstance(validator, SchemaValidator)
            else self._adapter.validate_python
        )
        # The command-id rule comes from the schema itself (fullmatch: `$` must not admit "\n").
        self._command_id = re.compile(self._schemas.documents["common/command_id.json"]["pattern"])

    @property
    def types(self) -> frozenset[str]:
        """Every frame ``type`` of this direction."""
        return frozenset(self._by_type)

    def is_valid(self, obj: Any) -> bool:
        """Whether a decoded JSON value is a valid frame of this direction (schema check only)."""
        return bool(self._union.is_valid(obj))

    def decode(self, data: str | bytes) -> BaseModel | FrameError:
        """Turn one WebSocket message into a frame model, or the error to answer it with.

        ``str`` is a text frame; ``bytes`` a binary frame, which the protocol does not use.
        """
        if isinstance(data, bytes | bytearray | memoryview):
            return FrameError("binary_frame", "Binary frames are not accepted; send JSON text")
        # Cheap bound first: a str of n code points is at most 4n UTF-8 bytes.
        if len(data) * 4 > self.max_frame_bytes and len(data.encode()) > self.max_frame_bytes:
            return FrameError(
                "frame_too_large", f"Frames are limited to {self.max_frame_bytes} bytes"
            )
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            return FrameError("invalid_json", "Frame is not valid JSON")
        return self.parse(obj)

    def parse(self, obj: Any) -> BaseModel | FrameError:
        """Validate a decoded JSON value and build its model."""
        if self._union.is_valid(obj):
            try:
                frame: BaseModel = self._validate(obj)
            except ValidationError:
                # JSON Schema counts 2.0 as an integer; the strict models do not. The schema is
                # the contract, so integral floats are read as integers (rare: JS never sends them).
                frame = self._validate(integral_floats_to_int(obj))
            return frame
        return self.explain(obj)

    def _read_id(self, obj: dict[str, Any]) -> str | None:
        value = obj.get("id")
        if isinstance(value, str) and self._command_id.fullmatch(value):
            return value
        return None

    def explain(self, obj: Any) -> FrameError:
        """Describe why ``obj`` is not a valid frame (slow path: only for invalid frames)."""
        if not isinstance(obj, dict):
            return FrameError("invalid_frame", "A frame must be a JSON object", pointer="")
        re_ = self._read_id(obj)
        frame_type = obj.get("type")
        if not isinstance(frame_type, str):
            return FrameError(
                "invalid_frame", "Missing or non-string 'type'", re=re_, pointer="/type"
            )
        validator = self._by_type.get(frame_type)
        if validator is None:
            return FrameError(
                "unknown_type", f"Unknown frame type {frame_type[:64]!r}", re=re_, pointer="/type"
            )
        for err in validator.iter_errors(obj):
            path: list[str | int] = list(err.instance_path)
            kind: Any = err.kind  # the attributes depend on the kind of error
            if kind.name == "additionalProperties" and kind.unexpected:
                path.append(sorted(kind.unexpected)[0])
                message = f"Unexpected field {path[-1]!r}"
            elif kind.name == "required":
                path.append(kind.property)
                message = f"Missing required field {kind.property!r}"
            elif kind.name == "pattern":
                message = f"Invalid value at {json_pointer(path) or '/'}: wrong format or blank"
            else:
                message = _short(err.message)
            return FrameError("invalid_frame", message, re=re_, pointer=json_pointer(path))
        # The union rejected it but the branch accepts: cannot happen with a discriminated union.
        return FrameError("invalid_frame", "Frame does not match the schema", re=re_, pointer="")


def integral_floats_to_int(obj: Any) -> Any:
    """JSON Schema counts 2.0 as an integer (and JavaScript cannot tell them apart)."""
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    if isinstance(obj, dict):
        return {k: integral_floats_to_int(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [integral_floats_to_int(v) for v in obj]
    return obj


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"
