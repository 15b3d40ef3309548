"""Password hashing with Argon2id at OWASP's minimum parameters.

Parameters (OWASP Password Storage Cheat Sheet, the first Argon2id option): ``m=19456`` KiB (19 MiB),
``t=2``, ``p=1``, 16-byte salt, 32-byte tag. Hashes are PHC strings (``$argon2id$v=19$m=…``) that
carry their own parameters, so raising the cost later only needs :func:`needs_rehash` at login.

Decisions:

- Passwords are normalised to Unicode NFKC before hashing and verifying (NIST SP 800-63B §5.1.1.2),
  so the same password typed on two keyboards (e.g. a precomposed "é" versus "e" + combining
  accent) verifies.
- :func:`verify_password` never raises on a wrong password or a malformed/foreign hash: it returns
  ``False``. Login code has one branch.
- When the user does not exist, call :func:`verify_dummy` so the response takes about as long as a
  real verification and does not reveal whether the account exists. The dummy hash is computed once,
  lazily (the first call costs one extra hash), with the same parameters as real hashes.
"""

from __future__ import annotations

import secrets
import unicodedata
from functools import cache
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import Argon2Error, InvalidHashError

__all__ = [
    "MEMORY_COST_KIB",
    "PARALLELISM",
    "TIME_COST",
    "dummy_hash",
    "hash_password",
    "needs_rehash",
    "verify_dummy",
    "verify_password",
]

MEMORY_COST_KIB: Final = 19_456
"""Argon2 memory cost in KiB (19 MiB), OWASP's minimum for Argon2id."""
TIME_COST: Final = 2
"""Argon2 iterations."""
PARALLELISM: Final = 1
"""Argon2 lanes."""

_HASHER: Final = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_COST_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """Hash ``password`` with Argon2id and a fresh random salt; returns the PHC string to store."""
    return _HASHER.hash(_normalise(password))


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; ``False`` (never an exception) otherwise.

    A malformed hash, a hash of another algorithm or unsupported parameters also give ``False``.
    """
    try:
        return _HASHER.verify(stored_hash, _normalise(password))
    except (Argon2Error, ValueError, TypeError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with other parameters than the current ones.

    Call after a successful :func:`verify_password` and store a fresh :func:`hash_password` if so.
    A hash that cannot be parsed also needs a rehash (``True``).
    """
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


@cache
def dummy_hash() -> str:
    """A hash of a random, unknowable password, with the current parameters (computed once)."""
    return _HASHER.hash(secrets.token_urlsafe(32))


def verify_dummy(password: str) -> bool:
    """Spend the time of one verification against :func:`dummy_hash`; always returns ``False``.

    Use it when the login name is unknown, so the timing does not reveal which accounts exist.
    """
    verify_password(dummy_hash(), password)
    return False
