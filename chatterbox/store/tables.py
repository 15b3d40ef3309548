"""The relational schema, as SQLAlchemy Core ``Table`` objects on one ``MetaData``.

Portable types only (the same schema on SQLite and PostgreSQL). Every timestamp is a ``BIGINT`` count of milliseconds
since the Unix epoch (see :mod:`chatterbox.domain.clock`). Constraint and index names come from
:data:`NAMING_CONVENTION`, so migrations can refer to them by name on every backend.

The hand-written Alembic migration ``chatterbox/migrations/versions/0001_initial.py`` must create exactly
these tables; ``tests/integration/store/test_store_migrations.py`` checks that with Alembic's
``compare_metadata``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "NAMING_CONVENTION",
    "credentials",
    "memberships",
    "message_edits",
    "messages",
    "metadata",
    "receipts",
    "refresh_tokens",
    "room_events",
    "rooms",
    "sessions",
    "users",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint/index naming convention (stable names are needed to alter constraints later)."""

metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""The one ``MetaData`` holding every table."""

_ID = 40  # 'x_' + 20 base36 characters today; room for longer ids and names like 'r_general'.
_HASH = 64  # sha256 hex

users = Table(
    "users",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("username", String(32), nullable=False),
    # username.casefold(): uniqueness and lookups ignore case.
    Column("username_key", String(32), nullable=False),
    Column("display_name", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("username_key"),
)

credentials = Table(
    "credentials",
    metadata,
    Column(
        "user_id",
        String(_ID),
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("password_hash", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("user_id", String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # sha256 hex of the bearer secret; the raw token is never stored.
    Column("token_hash", String(_HASH), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Idle expiry is computed from last_used_at by the auth layer.
    Column("last_used_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # absolute expiry
    Column("revoked_at", BigInteger, nullable=True),
    Column("user_agent", String(512), nullable=True),
    Column("ip", String(64), nullable=True),
    UniqueConstraint("token_hash"),
    Index(None, "user_id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("family_id", String(_ID), nullable=False),
    Column(
        "session_id",
        String(_ID),
        ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("token_hash", String(_HASH), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    UniqueConstraint("token_hash"),
    Index(None, "family_id"),
    Index(None, "session_id"),
)

rooms = Table(
    "rooms",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(80), nullable=False),
    Column("topic", String(250), nullable=True),
    Column("created_by", String(_ID), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    # Seq of the room's latest durable event; the next event gets last_seq + 1.
    Column("last_seq", BigInteger, nullable=False, server_default="0"),
    # For DMs: 'u_a:u_b' with the two user ids sorted, so there is exactly one DM per pair.
    Column("dm_key", String(2 * _ID + 1), nullable=True),
    CheckConstraint("kind IN ('public', 'private', 'dm')", name="kind"),
    UniqueConstraint("dm_key"),
    Index(None, "kind"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("room_id", String(_ID), ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("joined_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("room_id", "user_id"),
    CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),
    Index(None, "user_id"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("room_id", String(_ID), ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("author_id", String(_ID), ForeignKey("users.id"), nullable=False),
    Column("body", Text, nullable=True),  # NULL once deleted
    Column("client_msg_id", String(64), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("edited_at", BigInteger, nullable=True),
    Column("deleted_at", BigInteger, nullable=True),
    # Also the history index: WHERE room_id = ? AND seq < ? ORDER BY seq DESC.
    UniqueConstraint("room_id", "seq"),
    # Idempotency key; NULLs are distinct on SQLite and PostgreSQL alike.
    UniqueConstraint("author_id", "client_msg_id"),
)

message_edits = Table(
    "message_edits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "message_id",
        String(_ID),
        ForeignKey("messages.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("body", Text, nullable=False),  # the version that this edit replaced
    Column("edited_at", BigInteger, nullable=False),
    Index(None, "message_id"),
)

room_events = Table(
    "room_events",
    metadata,
    Column("room_id", String(_ID), ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("message_id", String(_ID), ForeignKey("messages.id"), nullable=True),
    # The subject/actor; no FK: the log outlives users.
    Column("user_id", String(_ID), nullable=True),
    # JSON object text (membership events: role, by, reason).
    Column("payload", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("room_id", "seq"),
    CheckConstraint(
        "kind IN ('message.created', 'message.updated', 'message.deleted', "
        "'member.joined', 'member.left')",
        name="kind",
    ),
)

receipts = Table(
    "receipts",
    metadata,
    Column("room_id", String(_ID), ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("message_id", String(_ID), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("at", BigInteger, nullable=False),
    PrimaryKeyConstraint("room_id", "user_id", "state"),
    CheckConstraint("state IN ('delivered', 'seen')", name="state"),
)
