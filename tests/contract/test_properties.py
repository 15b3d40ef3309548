"""Property tests: frames generated from the schemas, checked by all three validators.

For every generated valid frame the server's validator, the generated pydantic models and the
generated browser validators must all accept; for every invalid one (schemathesis' negative
mode, plus targeted mutations of valid frames) all three must reject. Any disagreement is a bug
in one of them. Valid frames also round-trip: model → bytes → model is the identity.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from schemathesis.generation import GenerationMode

from chatterbox.protocol.codec import Codec, encode
from chatterbox.protocol.schemas import Direction, SchemaSet

from .frames import (
    collect,
    frame_strategy,
    frames_of_every_type,
    has_surrogates,
    mutations,
    node_accepts,
    pydantic_accepts,
)

DIRECTIONS: list[Direction] = ["client", "server"]
PER_TYPE = {"client": 30, "server": 12}


def _wire(frame: Any) -> Any:
    """What the receiver decodes: the frame after a trip through JSON text."""
    return orjson.loads(json.dumps(frame, ensure_ascii=False).encode())


def _verdicts(direction: Direction, frames: list[Any], codec: Codec) -> list[tuple[bool, ...]]:
    node = node_accepts((direction, f) for f in frames)
    return [
        (codec.is_valid(f), pydantic_accepts(direction, f), n)
        for f, n in zip(frames, node, strict=True)
    ]


@pytest.mark.usefixtures("node_available")
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_valid_frames_are_accepted_by_all_three(schemas: SchemaSet, direction: Direction) -> None:
    codec = Codec(direction, schemas=schemas)
    frames = [
        _wire(f)
        for f in frames_of_every_type(
            schemas, direction, GenerationMode.POSITIVE, PER_TYPE[direction]
        )
        if not has_surrogates(f)
    ]
    # ...and through the union, as a receiver sees them.
    frames += [
        _wire(f)
        for f in collect(frame_strategy(schemas, f"{direction}.json", GenerationMode.POSITIVE), 50)
        if not has_surrogates(f)
    ]
    types = {f["type"] for f in frames}
    assert types == set(codec.types), f"generation missed {set(codec.types) - types}"
    bad = [
        (f, v) for f, v in zip(frames, _verdicts(direction, frames, codec), strict=True)
        if v != (True, True, True)
    ]  # fmt: skip
    assert not bad, bad[:3]


@pytest.mark.usefixtures("node_available")
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_negative_frames_are_rejected_by_all_three(
    schemas: SchemaSet, direction: Direction
) -> None:
    codec = Codec(direction, schemas=schemas)
    raw = frames_of_every_type(schemas, direction, GenerationMode.NEGATIVE, PER_TYPE[direction])
    raw += collect(frame_strategy(schemas, f"{direction}.json", GenerationMode.NEGATIVE), 50)
    frames = [_wire(f) for f in raw if not isinstance(f, bytes) and not has_surrogates(f)]
    # Non-JSON payloads (random bytes) are answered, never crash the codec.
    for payload in (f for f in raw if isinstance(f, bytes)):
        error = codec.decode(payload)
        assert getattr(error, "code", None) == "binary_frame"
        as_text = codec.decode(payload.decode("latin-1"))
        assert getattr(as_text, "code", None) in {"invalid_json", "invalid_frame", "unknown_type"}
    assert frames
    disagreements = [
        (f, v) for f, v in zip(frames, _verdicts(direction, frames, codec), strict=True)
        if len(set(v)) != 1
    ]  # fmt: skip
    assert not disagreements, disagreements[:3]
    # schemathesis' negative mode targets the schema: nearly all must be invalid for all three.
    rejected = sum(1 for f in frames if not codec.is_valid(f))
    assert rejected >= 0.9 * len(frames)


@pytest.mark.usefixtures("node_available")
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_mutated_frames_are_rejected_by_all_three(schemas: SchemaSet, direction: Direction) -> None:
    codec = Codec(direction, schemas=schemas)
    types = schemas.frame_types(direction)

    def required(frame_type: str) -> list[str]:
        return list(schemas.documents[types[frame_type]]["required"])

    base = [
        _wire(f)
        for f in frames_of_every_type(schemas, direction, GenerationMode.POSITIVE, 5)
        if not has_surrogates(f)
    ]
    frames = [m for f in base for m in mutations(f, required)]
    assert len(frames) > 100
    accepted = [
        (f, v) for f, v in zip(frames, _verdicts(direction, frames, codec), strict=True)
        if any(v)
    ]  # fmt: skip
    assert not accepted, accepted[:3]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_model_bytes_model_round_trip(schemas: SchemaSet, direction: Direction) -> None:
    codec = Codec(direction, schemas=schemas)
    frames = [
        _wire(f)
        for f in frames_of_every_type(schemas, direction, GenerationMode.POSITIVE, 10)
        if not has_surrogates(f)
    ]
    for frame in frames:
        model = codec.parse(frame)
        data = encode(model)  # type: ignore[arg-type]
        assert orjson.loads(data) == frame  # bytes carry exactly the frame
        again = codec.decode(data.decode())
        assert again == model
        assert codec.is_valid(orjson.loads(data))
