"""Initial schema: users, credentials, sessions, refresh tokens, rooms, memberships, messages, edits,
room events, receipts.

Written by hand to match ``chatterbox/store/tables.py`` (a test compares the two with Alembic's
``compare_metadata``). Constraint names follow ``tables.NAMING_CONVENTION``.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(40)
_HASH = sa.String(64)


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "users",
        sa.Column("id", _ID, nullable=False),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("username_key", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username_key", name="uq_users_username_key"),
    )
    op.create_table(
        "credentials",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_credentials"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_credentials_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "sessions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("token_hash", _HASH, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_sessions_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_sessions_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("id", _ID, nullable=False),
        sa.Column("family_id", _ID, nullable=False),
        sa.Column("session_id", _ID, nullable=False),
        sa.Column("token_hash", _HASH, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name="fk_refresh_tokens_session_id_sessions",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"])
    op.create_table(
        "rooms",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("topic", sa.String(250), nullable=True),
        sa.Column("created_by", _ID, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("dm_key", sa.String(81), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rooms"),
        sa.CheckConstraint("kind IN ('public', 'private', 'dm')", name="ck_rooms_kind"),
        sa.UniqueConstraint("dm_key", name="uq_rooms_dm_key"),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_rooms_created_by_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_rooms_kind", "rooms", ["kind"])
    op.create_table(
        "memberships",
        sa.Column("room_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("joined_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("room_id", "user_id", name="pk_memberships"),
        sa.CheckConstraint("role IN ('owner', 'admin', 'member')", name="ck_memberships_role"),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name="fk_memberships_room_id_rooms", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "messages",
        sa.Column("id", _ID, nullable=False),
        sa.Column("room_id", _ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("author_id", _ID, nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("client_msg_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("edited_at", sa.BigInteger(), nullable=True),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("room_id", "seq", name="uq_messages_room_id_seq"),
        sa.UniqueConstraint(
            "author_id", "client_msg_id", name="uq_messages_author_id_client_msg_id"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name="fk_messages_room_id_rooms", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name="fk_messages_author_id_users"),
    )
    op.create_table(
        "message_edits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edited_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_edits"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_message_edits_message_id_messages",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_message_edits_message_id", "message_edits", ["message_id"])
    op.create_table(
        "room_events",
        sa.Column("room_id", _ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message_id", _ID, nullable=True),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("room_id", "seq", name="pk_room_events"),
        sa.CheckConstraint(
            "kind IN ('message.created', 'message.updated', 'message.deleted', "
            "'member.joined', 'member.left')",
            name="ck_room_events_kind",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name="fk_room_events_room_id_rooms", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_room_events_message_id_messages"
        ),
    )
    op.create_table(
        "receipts",
        sa.Column("room_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("room_id", "user_id", "state", name="pk_receipts"),
        sa.CheckConstraint("state IN ('delivered', 'seen')", name="ck_receipts_state"),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name="fk_receipts_room_id_rooms", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_receipts_user_id_users", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    """Drop every table (children first)."""
    for table in (
        "receipts",
        "room_events",
        "message_edits",
        "messages",
        "memberships",
        "rooms",
        "refresh_tokens",
        "sessions",
        "credentials",
        "users",
    ):
        op.drop_table(table)
