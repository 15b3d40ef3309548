"""Store-assigned message ids: the protocol's format, ordered by creation time, unique."""

from __future__ import annotations

import re

from chatterbox.store.ids import new_message_id

_PATTERN = re.compile(r"m_[0-9a-z]{20}")  # schema/common/message_id.json allows 6-32 characters


def test_format() -> None:
    for at in (0, 1, 1_764_000_000_000, 36**9 - 1):
        assert _PATTERN.fullmatch(new_message_id(at))


def test_ids_sort_by_creation_millisecond() -> None:
    now = 1_764_000_000_000
    ids = [new_message_id(now + step) for step in range(0, 5000, 7)]
    assert ids == sorted(ids)


def test_ids_of_one_millisecond_are_unique() -> None:
    ids = {new_message_id(1_764_000_000_000) for _ in range(20_000)}
    assert len(ids) == 20_000
