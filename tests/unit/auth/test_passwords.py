"""Argon2id password hashing (few hashes: each costs ~50 ms)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters

from chatterbox.auth import passwords
from chatterbox.auth.passwords import (
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_dummy,
    verify_password,
)

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(PASSWORD)


def test_hash_is_argon2id_at_owasp_minimum(stored: str) -> None:
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    params = extract_parameters(stored)
    assert params.memory_cost == passwords.MEMORY_COST_KIB == 19456
    assert params.time_cost == passwords.TIME_COST == 2
    assert params.parallelism == passwords.PARALLELISM == 1
    assert params.salt_len == 16
    assert params.hash_len == 32


def test_verify_right_and_wrong(stored: str) -> None:
    assert verify_password(stored, PASSWORD) is True
    assert verify_password(stored, PASSWORD + " ") is False
    assert verify_password(stored, "") is False


@pytest.mark.parametrize(
    "bad_hash",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=19456,t=2,p=1$garbage",
        "$2b$12$abcdefghijklmnopqrstuuMZ6a6nKY3bFgTzd0nN4U6k0rDq5vO1y",  # bcrypt
        "5f4dcc3b5aa765d61d8327deb882cf99",  # md5
    ],
)
def test_verify_never_raises_on_invalid_hash(bad_hash: str) -> None:
    assert verify_password(bad_hash, PASSWORD) is False


def test_salted(stored: str) -> None:
    assert hash_password(PASSWORD) != stored


def test_unicode_normalisation(stored: str) -> None:
    composed = "café au lait 42!"
    decomposed = "cafe\u0301 au lait 42!"
    h = hash_password(composed)
    assert verify_password(h, decomposed) is True
    assert verify_password(stored, "ＣＯＲＲＥＣＴ") is False  # NFKC, but still another password


def test_needs_rehash(stored: str) -> None:
    assert needs_rehash(stored) is False
    weaker = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("x")
    assert needs_rehash(weaker) is True
    assert needs_rehash("garbage") is True


def test_old_parameters_still_verify() -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    assert verify_password(weaker, PASSWORD) is True


def test_dummy_hash_is_cached_and_current_parameters() -> None:
    h = dummy_hash()
    assert h is dummy_hash()
    assert needs_rehash(h) is False
    assert verify_dummy(PASSWORD) is False
    assert verify_dummy("") is False
