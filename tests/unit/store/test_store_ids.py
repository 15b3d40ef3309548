"""Store-assigned message ids: the protocol's format, ordered by creation time, unique."""

from __future__ import annotations

import re

from chatterbox.store.ids import new_message_id, new_message_ids

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


def test_the_first_nine_characters_are_the_millisecond_in_base36() -> None:
    for at in (0, 35, 36, 1_764_000_000_000, 36**9 - 1, 36**9 + 5):
        assert int(new_message_id(at)[2:11], 36) == at % 36**9


def test_the_random_part_uses_every_character() -> None:
    chars = "".join(new_message_id(1_764_000_000_000)[11:] for _ in range(2_000))
    assert set(chars) == set("0123456789abcdefghijklmnopqrstuvwxyz")
    # no character much over its share (4 of them come up 8 times in 256, the others 7)
    assert max(chars.count(c) for c in set(chars)) < 2 * len(chars) / 36


def test_a_groups_ids_share_the_format_and_time_and_differ() -> None:
    at = 1_764_000_000_000
    ids = new_message_ids(at, 5_000)
    assert len(ids) == len(set(ids)) == 5_000
    assert all(_PATTERN.fullmatch(i) and i[:11] == new_message_id(at)[:11] for i in ids)
    assert new_message_ids(at, 0) == []
    chars = "".join(i[11:] for i in ids)
    assert set(chars) == set("0123456789abcdefghijklmnopqrstuvwxyz")
