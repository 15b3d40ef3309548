"""Request and response bodies of the REST API.

Shapes the WebSocket protocol also has (``User``, ``Room``, ``HistoryPage`` and within it
``Message``) are the generated protocol models themselves, re-exported here, so REST and WS cannot
drift. Every request model forbids unknown fields (422): a client cannot set a server-owned field
(ids, authors, timestamps, roles of its own) by adding it to a body.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatterbox.protocol.models.common.history_page import HistoryPage
from chatterbox.protocol.models.common.room import Room
from chatterbox.protocol.models.common.user import User

__all__ = [
    "DISPLAY_NAME_PATTERN",
    "ROOM_ID_PATTERN",
    "SESSION_ID_PATTERN",
    "TIMESTAMP_PATTERN",
    "TOPIC_PATTERN",
    "USERNAME_PATTERN",
    "USER_ID_PATTERN",
    "AuthResponse",
    "HistoryPage",
    "InviteRequest",
    "LoginRequest",
    "Member",
    "PasswordChangeRequest",
    "PasswordChanged",
    "PublicRoom",
    "RefreshRequest",
    "RegisterRequest",
    "RoleUpdate",
    "Room",
    "RoomCreate",
    "SessionInfo",
    "Status",
    "User",
    "UserUpdate",
]

_BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _escape(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _char_class(excluded: Callable[[str], bool]) -> str:
    """A negated regex class of every code point for which ``excluded`` holds (as ranges)."""
    parts: list[str] = []
    start = None
    for cp in range(sys.maxunicode + 2):
        hit = cp <= sys.maxunicode and excluded(chr(cp))
        if hit and start is None:
            start = cp
        elif not hit and start is not None:
            end = cp - 1
            parts.append(_escape(start) if start == end else f"{_escape(start)}-{_escape(end)}")
            start = None
    return "[^" + "".join(parts) + "]"


def _forbidden(ch: str) -> bool:
    # chatterbox.auth.policy: control characters, line separators, bidi overrides/isolates
    return unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS or ch in "\u2028\u2029"


def _visible_text_pattern() -> str:
    """Text with at least one visible character and no forbidden one (the display-name policy)."""
    allowed = _char_class(_forbidden)
    visible = _char_class(
        lambda ch: _forbidden(ch) or ch.isspace() or unicodedata.category(ch) == "Cf"
    )
    return f"^{allowed}*{visible}{allowed}*$"


USERNAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,31}$"
"""``schema/common/username.json``."""
USER_ID_PATTERN: Final = r"^u_[0-9a-z]{6,32}$"
"""``schema/common/user_id.json``."""
ROOM_ID_PATTERN: Final = r"^r_[0-9a-z]{3,32}$"
"""``schema/common/room_id.json``."""
SESSION_ID_PATTERN: Final = r"^s_[0-9a-z]{6,32}$"
"""Session ids (``s_…``)."""
TIMESTAMP_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"
"""``schema/common/timestamp.json``."""
DISPLAY_NAME_PATTERN: Final = _visible_text_pattern()
"""A display name: something visible, no control, line-separator or bidi-override characters."""
TOPIC_PATTERN: Final = r"^[^\x00-\x1f\x7f-\x9f]*$"
"""A topic: no control characters."""

_Strict = ConfigDict(extra="forbid")

Username = Annotated[str, Field(pattern=USERNAME_PATTERN, examples=["alice"])]
Timestamp = Annotated[
    str,
    Field(
        pattern=TIMESTAMP_PATTERN,
        description="UTC, RFC 3339 with milliseconds",
        examples=["2026-11-27T09:14:03.512Z"],
    ),
]
DisplayName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=DISPLAY_NAME_PATTERN, examples=["Alice Martin"])
]
RoomName = Annotated[
    str, Field(min_length=1, max_length=80, pattern=DISPLAY_NAME_PATTERN, examples=["design"])
]
NewPassword = Annotated[
    str,
    Field(
        min_length=8,
        max_length=256,
        description="8 to 256 characters, any characters; guessable passwords are refused (zxcvbn).",
        examples=["correct horse battery staple"],
    ),
]


# -- requests ---------------------------------------------------------------------------------------


class RegisterRequest(BaseModel):
    """Create an account."""

    model_config = _Strict

    username: Username
    display_name: DisplayName | None = Field(default=None, description="Defaults to the username.")
    password: NewPassword


class LoginRequest(BaseModel):
    """Log in with a username (any case) and password."""

    model_config = _Strict

    username: Annotated[str, Field(min_length=1, max_length=64, examples=["alice"])]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class RefreshRequest(BaseModel):
    """Exchange a refresh token (single use) for a new session and refresh token."""

    model_config = _Strict

    refresh_token: Annotated[str, Field(min_length=1, max_length=256)]


class PasswordChangeRequest(BaseModel):
    """Change the password; every other session ends."""

    model_config = _Strict

    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: NewPassword


class UserUpdate(BaseModel):
    """Fields of your own account you may change."""

    model_config = _Strict

    display_name: DisplayName


class RoomCreate(BaseModel):
    """A new public or private room; you become its owner."""

    model_config = _Strict

    kind: Literal["public", "private"]
    name: RoomName
    topic: Annotated[str, Field(max_length=250, pattern=TOPIC_PATTERN)] | None = None


class InviteRequest(BaseModel):
    """Add a user to the room (owners and admins)."""

    model_config = _Strict

    username: Username


class RoleUpdate(BaseModel):
    """A member's new role (owners only)."""

    model_config = _Strict

    role: Literal["owner", "admin", "member"]


# -- responses --------------------------------------------------------------------------------------


class AuthResponse(BaseModel):
    """A new session: the token is also set as the HttpOnly session cookie."""

    model_config = _Strict

    user: User
    session_id: Annotated[str, Field(pattern=SESSION_ID_PATTERN)]
    token: str = Field(description="Session token for `Authorization: Bearer`.")
    refresh_token: str = Field(description="Single-use refresh token (`/api/auth/refresh`).")
    expires_at: Timestamp = Field(description="When the session ends at the latest.")


class SessionInfo(BaseModel):
    """One of your login sessions."""

    model_config = _Strict

    id: Annotated[str, Field(pattern=SESSION_ID_PATTERN)]
    created_at: Timestamp
    last_used_at: Timestamp
    expires_at: Timestamp
    user_agent: str | None
    ip: str | None
    current: bool = Field(description="The session this request was made with.")


class PasswordChanged(BaseModel):
    """The password was changed."""

    model_config = _Strict

    sessions_ended: Annotated[int, Field(ge=0, description="Other sessions that were ended.")]


class PublicRoom(BaseModel):
    """A public room in the directory."""

    model_config = _Strict

    id: Annotated[str, Field(pattern=ROOM_ID_PATTERN)]
    name: str
    topic: str | None
    member_count: Annotated[int, Field(ge=0)]
    is_member: bool
    joinable: bool = Field(description="Whether you may join it now.")


class Member(BaseModel):
    """A member of a room."""

    model_config = _Strict

    user: User
    role: Literal["owner", "admin", "member"]
    joined_at: Timestamp


class Status(BaseModel):
    """A status report."""

    model_config = _Strict

    status: str = Field(examples=["ok"])
