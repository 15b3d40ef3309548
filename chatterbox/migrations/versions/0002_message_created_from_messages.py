"""A new message is its ``messages`` row: drop the ``message.created`` rows of ``room_events``.

The event log was one ``room_events`` row per event, a new message included; a message's seq is
already in ``messages`` (``UNIQUE (room_id, seq)``), so that row was a second table and a second
index written for every message (``docs/benchmarks.md``). ``events_since`` now merges ``messages``
with the other events; this removes the rows it no longer reads. Downgrade puts them back.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Delete the ``message.created`` events (the messages themselves stay)."""
    op.execute("DELETE FROM room_events WHERE kind = 'message.created'")


def downgrade() -> None:
    """Recreate one ``message.created`` event per message, as 0001's code wrote them."""
    op.execute(
        "INSERT INTO room_events (room_id, seq, kind, message_id, user_id, payload, created_at) "
        "SELECT room_id, seq, 'message.created', id, author_id, NULL, created_at FROM messages"
    )
