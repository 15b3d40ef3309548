"""Username, display name and password rules."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatterbox.auth.policy import (
    PASSWORD_MAX,
    RESERVED_USERNAMES,
    PolicyError,
    check_display_name,
    check_password,
    check_username,
    username_key,
)

# --- usernames ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["abc", "alice", "Alice_Martin", "a.b-c", "0day", "x" * 32, "A1_"])
def test_valid_usernames(name: str) -> None:
    assert check_username(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "ab",
        "x" * 33,
        "_alice",
        ".alice",
        "-alice",
        "al ice",
        "alice!",
        "alicé",
        "аlice",  # Cyrillic а
        "alice\n",
        "ali\x00ce",
        "ａｌｉｃｅ",  # fullwidth
    ],
)
def test_invalid_usernames(name: str) -> None:
    with pytest.raises(PolicyError) as exc:
        check_username(name)
    assert exc.value.field == "username"
    assert exc.value.message


@pytest.mark.parametrize("name", ["admin", "Admin", "ROOT", "System", "chatterbox", "everyone"])
def test_reserved_usernames(name: str) -> None:
    with pytest.raises(PolicyError, match="reserved"):
        check_username(name)


def test_reserved_names_are_keys_and_match_the_pattern_or_are_unreachable() -> None:
    for name in RESERVED_USERNAMES:
        assert name == username_key(name)


def test_username_key_is_case_insensitive() -> None:
    assert username_key("Alice") == username_key("alice") == username_key("ALICE") == "alice"


def test_policy_error_is_value_error() -> None:
    err = PolicyError("username", "nope")
    assert isinstance(err, ValueError)
    assert str(err) == "username: nope"


SCHEMA_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")


@given(st.text(max_size=40))
def test_username_check_agrees_with_schema_pattern(name: str) -> None:
    # The schema pattern uses `$`, which also matches before a final "\n": we are stricter there.
    schema_ok = SCHEMA_PATTERN.fullmatch(name) is not None
    try:
        check_username(name)
        ok = True
    except PolicyError as exc:
        ok = False
        if "reserved" in exc.message:
            assert schema_ok
            return
    assert ok == schema_ok


# --- display names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_name", "stored"),
    [
        ("Alice Martin", "Alice Martin"),
        ("  Alice  ", "Alice"),
        ("A", "A"),
        ("Zoë", "Zoë"),
        ("Zoe\u0308", "Zoë"),  # NFC
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # ZWJ allowed
        ("李小龍", "李小龍"),
        ("x" * 64, "x" * 64),
    ],
)
def test_valid_display_names(given_name: str, stored: str) -> None:
    assert check_display_name(given_name) == stored


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "blank"),
        ("   ", "blank"),
        ("\u3000\u00a0", "blank"),
        ("\u200b\ufeff", "blank"),
        ("x" * 65, "at most"),
        ("Alice\nMartin", "control"),
        ("Alice\tMartin", "control"),
        ("Alice\x00", "control"),
        ("\x1b[31mAlice", "control"),
        ("Alice\u202eniloc", "control"),  # right-to-left override
        ("Alice\u2066x", "control"),
        ("Alice\u2028Martin", "control"),
    ],
)
def test_invalid_display_names(name: str, why: str) -> None:
    with pytest.raises(PolicyError, match=why) as exc:
        check_display_name(name)
    assert exc.value.field == "display_name"


# --- passwords ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "alice-in-chains-42!",
        "Zebra quantum 9 lettuce",
        "🦊🌵🎺🧀 violet quarry",
        "x" * 60 + "Qz9!kP2#mW7&",  # long is fine as long as the start is strong
        "plum7$Varnish€tango",
    ],
)
def test_strong_passwords(password: str) -> None:
    result = check_password(password, username="bob", display_name="Bob Smith")
    assert result.score >= 3
    assert result.guesses_log10 > 0


@pytest.mark.parametrize(
    "password",
    ["password", "password1", "qwertyuiop", "12345678", "iloveyou", "aaaaaaaaaaaa", "Tr0ub4dour&3"],
)
def test_common_passwords_rejected(password: str) -> None:
    with pytest.raises(PolicyError) as exc:
        check_password(password)
    assert exc.value.field == "password"
    assert exc.value.message.startswith("This password is too easy to guess.")


def test_feedback_is_included() -> None:
    with pytest.raises(PolicyError) as exc:
        check_password("password1")
    assert "very common password" in exc.value.message


def test_username_and_display_name_make_a_password_weak() -> None:
    pw = "Marguerite2024!"
    with pytest.raises(PolicyError):
        check_password(pw, username="marguerite")
    with pytest.raises(PolicyError):
        check_password("duvalier1987", display_name="Jean Duvalier")


def test_service_name_is_guessable() -> None:
    with pytest.raises(PolicyError):
        check_password("chatterbox2024")


def test_length_limits() -> None:
    with pytest.raises(PolicyError, match="at least 8"):
        check_password("Xk9#mQ2")
    with pytest.raises(PolicyError, match=f"at most {PASSWORD_MAX}"):
        check_password("Xk9#mQ2!" * 40)
    # The upper cap is not below 64 (NIST SP 800-63B), and exactly the cap is accepted.
    assert PASSWORD_MAX >= 64
    assert check_password("Xk9#mQ2!vT" + "ab" * 123).score >= 3


def test_length_counts_code_points_not_bytes() -> None:
    with pytest.raises(PolicyError, match="at least 8"):
        check_password("🦊🌵🎺🧀🐙🍄🚲")  # 7 code points, 28 UTF-8 bytes
