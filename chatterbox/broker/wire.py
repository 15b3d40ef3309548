"""The bytes an :class:`~chatterbox.broker.base.Envelope` travels as between processes (pure).

A compact JSON array, ``[origin, kind, text, room_id, seq, user_id, detail, rooms, users]``
(a process of the previous release sends no ``users``: read as empty): ``origin``
is the publishing process (a subscriber skips its own envelopes, which it already delivered
locally); the frame ``text`` is carried as is, so receivers fan it out without re-encoding it.
"""

from __future__ import annotations

from typing import cast, get_args

import orjson

from chatterbox.broker.base import Envelope, EnvelopeKind

__all__ = ["WireError", "decode", "encode"]

_KINDS = frozenset(get_args(EnvelopeKind))


class WireError(ValueError):
    """The bytes are not an envelope (another program publishing on the channel, a bug)."""


def encode(origin: str, envelope: Envelope) -> bytes:
    """The wire form of ``envelope`` published by process ``origin``."""
    return orjson.dumps(
        [
            origin,
            envelope.kind,
            envelope.text,
            envelope.room_id,
            envelope.seq,
            envelope.user_id,
            envelope.detail,
            envelope.rooms,
            envelope.users,
        ]
    )


def decode(data: bytes | str) -> tuple[str, Envelope]:
    """``(origin, envelope)`` from :func:`encode`'s output; :class:`WireError` if malformed."""
    try:
        fields = orjson.loads(data)
        if isinstance(fields, list) and len(fields) == 8:
            fields.append(None)
        origin, kind, text, room_id, seq, user_id, detail, rooms, users = fields
    except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
        raise WireError(f"not an envelope: {exc}") from exc
    if kind not in _KINDS or not isinstance(text, str) or not isinstance(seq, int):
        raise WireError(f"not an envelope: kind {kind!r}")
    envelope = Envelope(
        kind=cast(EnvelopeKind, kind),
        text=text,
        room_id=room_id,
        seq=seq,
        user_id=user_id,
        detail=detail,
        rooms=tuple(rooms or ()),
        users=tuple(users or ()),
    )
    return str(origin), envelope
