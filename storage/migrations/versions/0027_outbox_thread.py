"""The topic of a patient's chat (a bot's private chat in threaded mode has topics) that a message owed to them goes
to: the one they wrote in. Without it the crisis text went to the chat's main view, not the topic they were reading.
Rows from before hold none: they go to the main view, as they would have.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-23 22:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outboxmessage", sa.Column("thread_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), not by rebuilding the table: a rebuilt table would forget the highest id
    # ever given (0012).
    op.drop_column("outboxmessage", "thread_id")
