"""Request models: closed objects; the display-name pattern agrees with the policy."""

from __future__ import annotations

from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError

from chatterbox.api.models import DISPLAY_NAME_PATTERN, RegisterRequest, RoomCreate, UserUpdate
from chatterbox.auth.policy import PolicyError, check_display_name

# Checked the way requests are: pydantic's regex engine, where `$` is the end of the text (Python's
# `re` would also let `$` match before a final newline, which no validator of ours does).
_PATTERN = TypeAdapter(Annotated[str, Field(pattern=DISPLAY_NAME_PATTERN)])


def _matches(name: str) -> bool:
    try:
        _PATTERN.validate_python(name)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("Alice", True),
        (" Alice ", True),
        ("👩‍💻 dev", True),
        ("", False),
        ("   ", False),
        ("\u00ad", False),
        ("\u200b\u200b", False),
        ("a\u202eb", False),
        ("a\nb", False),
        ("0\n", False),
        ("a\u2028b", False),
        ("\U000e0001", False),
    ],
)
def test_pattern_examples(name: str, ok: bool) -> None:
    assert _matches(name) is ok


@given(st.text(max_size=12))
def test_the_pattern_accepts_only_what_the_policy_accepts(name: str) -> None:
    try:
        check_display_name(name)
        policy_ok = True
    except PolicyError:
        policy_ok = False
    if _matches(name):
        assert policy_ok, repr(name)


def test_request_models_are_closed() -> None:
    with pytest.raises(ValidationError):
        RegisterRequest.model_validate(
            {"username": "alice", "password": "x" * 12, "id": "u_1234567"}
        )
    with pytest.raises(ValidationError):
        UserUpdate.model_validate({"display_name": "A", "created_at": "2026-01-01T00:00:00.000Z"})
    with pytest.raises(ValidationError):
        RoomCreate.model_validate({"kind": "dm", "name": "x"})
    with pytest.raises(ValidationError):
        RoomCreate.model_validate({"kind": "public", "name": "x", "topic": "a\x00b"})
