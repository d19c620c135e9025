"""An index on the outbox by chat: a row is claimed only when no earlier row for its chat is still owed,
and without it that check read the whole queue at each claim (18-35 ms with 100,000 rows queued).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_chat", "outboxmessage", ["chat_id", "status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_chat", table_name="outboxmessage")
