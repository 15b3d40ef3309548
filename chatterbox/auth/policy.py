"""Account input rules: usernames, display names and passwords.

Every check raises :class:`PolicyError` with the offending ``field`` (``username``,
``display_name`` or ``password``) and a human ``message``; the API layer turns it into a 422 that
names the field. On success the checks return the value to store (or, for passwords, a
:class:`PasswordStrength`).

Decisions:

- **Usernames** follow ``schema/common/username.json``: 3–32 ASCII characters, letters, digits and
  ``_ . -``, starting with a letter or digit. They keep the case the user typed; uniqueness is on
  :func:`username_key` (casefold), so ``Alice`` and ``alice`` cannot both exist. Names in
  :data:`RESERVED_USERNAMES` (compared by key, exact match) are refused at registration because
  they could impersonate the service or its staff (``admin``, ``system``…) or collide with mention
  keywords (``everyone``, ``here``). Existing accounts are not affected by later additions.
- **Display names** are NFC-normalised and stripped of surrounding whitespace, then must be 1–64
  code points, contain something visible, and contain no control characters (Unicode ``Cc``), no
  line/paragraph separators and no bidirectional overrides/isolates (which can make a name render
  as someone else's). Zero-width joiners stay allowed: emoji sequences need them.
- **Passwords** follow NIST SP 800-63B: 8–256 code points, any characters (spaces and emoji
  included), no composition rules, no periodic expiry. Guessable passwords are refused with
  zxcvbn: a score below :data:`MIN_PASSWORD_SCORE` (3 of 4) is rejected, with the username, the
  display name (and its words) and the service name as context, so ``alice2024`` for ``alice`` is
  weak. zxcvbn's run time grows steeply with length (~1 s for 256 characters), so only the first
  :data:`ZXCVBN_MAX_CHARS` characters are scored: a password whose first 72 characters are strong
  is strong. zxcvbn keeps the user inputs in a module global, so calls are serialised with a lock.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any, Final

import zxcvbn

__all__ = [
    "DISPLAY_NAME_MAX",
    "MIN_PASSWORD_SCORE",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "RESERVED_USERNAMES",
    "USERNAME_RE",
    "ZXCVBN_MAX_CHARS",
    "PasswordStrength",
    "PolicyError",
    "check_display_name",
    "check_password",
    "check_username",
    "username_key",
]

USERNAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,31}")
"""The ``Username`` schema pattern (use with ``fullmatch``)."""

RESERVED_USERNAMES: Final = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "system",
        "chatterbox",
        "support",
        "help",
        "staff",
        "moderator",
        "mod",
        "security",
        "official",
        "postmaster",
        "webmaster",
        "hostmaster",
        "abuse",
        "noreply",
        "no-reply",
        "api",
        "www",
        "bot",
        "everyone",
        "here",
        "channel",
        "all",
        "null",
        "undefined",
        "anonymous",
        "nobody",
        "deleted",
    }
)
"""Username keys nobody may register."""

DISPLAY_NAME_MAX: Final = 64
"""Longest display name, in code points."""
PASSWORD_MIN: Final = 8
"""Shortest password, in code points (NIST SP 800-63B minimum)."""
PASSWORD_MAX: Final = 256
"""Longest password, in code points (NIST: at least 64 must be allowed)."""
MIN_PASSWORD_SCORE: Final = 3
"""Lowest acceptable zxcvbn score (0–4)."""
ZXCVBN_MAX_CHARS: Final = 72
"""How many leading characters of a password zxcvbn scores."""

_SERVICE_WORDS: Final = ("chatterbox", "chat")
_BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SEPARATORS: Final = frozenset("\u2028\u2029\x85")
_ZXCVBN_LOCK: Final = threading.Lock()


class PolicyError(ValueError):
    """An input breaks a rule; ``field`` names it, ``message`` says why (for people)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        """The input field at fault: ``username``, ``display_name`` or ``password``."""
        self.message = message
        """A human explanation, suitable for showing next to the field."""


@dataclass(frozen=True, slots=True)
class PasswordStrength:
    """The zxcvbn verdict for an accepted password."""

    score: int
    """zxcvbn score, 0 (guessable) to 4 (very unguessable)."""
    guesses_log10: float
    """Estimated log10 of the number of guesses needed."""


def username_key(username: str) -> str:
    """The case-insensitive uniqueness key of a username (its casefold)."""
    return username.casefold()


def check_username(username: str) -> str:
    """Validate a new username; returns it unchanged (case preserved) or raises PolicyError."""
    if not 3 <= len(username) <= 32:
        raise PolicyError("username", "Usernames are 3 to 32 characters long.")
    if USERNAME_RE.fullmatch(username) is None:
        raise PolicyError(
            "username",
            "Use letters, digits and _ . - only, starting with a letter or digit.",
        )
    if username_key(username) in RESERVED_USERNAMES:
        raise PolicyError("username", "This username is reserved.")
    return username


def _forbidden_in_display_name(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS or ch in _SEPARATORS


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def check_display_name(display_name: str) -> str:
    """Validate a display name; returns the value to store (NFC, stripped) or raises PolicyError."""
    if any(_forbidden_in_display_name(ch) for ch in display_name):
        raise PolicyError("display_name", "Display names cannot contain control characters.")
    name = unicodedata.normalize("NFC", display_name).strip()
    if not name or all(_invisible(ch) for ch in name):
        raise PolicyError("display_name", "Display names cannot be blank.")
    if len(name) > DISPLAY_NAME_MAX:
        raise PolicyError(
            "display_name", f"Display names are at most {DISPLAY_NAME_MAX} characters long."
        )
    return name


def _user_inputs(username: str | None, display_name: str | None) -> list[str]:
    inputs: list[str] = list(_SERVICE_WORDS)
    for value in (username, display_name):
        if value:
            inputs.append(value)
            inputs.extend(part for part in re.split(r"[\s_.-]+", value) if len(part) >= 3)
    return inputs


def _score(password: str, user_inputs: list[str]) -> dict[str, Any]:
    with _ZXCVBN_LOCK:
        result: dict[str, Any] = zxcvbn.zxcvbn(
            password[:ZXCVBN_MAX_CHARS], user_inputs=user_inputs, max_length=ZXCVBN_MAX_CHARS
        )
    return result


def _weak_message(feedback: dict[str, Any]) -> str:
    parts = ["This password is too easy to guess."]
    warning = str(feedback.get("warning") or "").strip()
    if warning:
        parts.append(warning)
    parts.extend(str(s).strip() for s in feedback.get("suggestions") or [] if str(s).strip())
    return " ".join(parts)


def check_password(
    password: str, *, username: str | None = None, display_name: str | None = None
) -> PasswordStrength:
    """Validate a new password (length, then guessability); raises PolicyError if refused.

    ``username`` and ``display_name`` are the account's, so a password built from them is weak.
    """
    if len(password) < PASSWORD_MIN:
        raise PolicyError("password", f"Use at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise PolicyError("password", f"Use at most {PASSWORD_MAX} characters.")
    result = _score(password, _user_inputs(username, display_name))
    score = int(result["score"])
    if score < MIN_PASSWORD_SCORE:
        raise PolicyError("password", _weak_message(result.get("feedback") or {}))
    return PasswordStrength(score=score, guesses_log10=float(result["guesses_log10"]))
