"""Which process's sender took an outbox row: a process that started as the database came back took the rows a
running one had sent as it went away (their sending not yet written down, their leases run out) for left by a dead
one, and sent them again. Rows from before hold none.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-24 01:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outboxmessage", sa.Column("claimed_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), not by rebuilding the table: a rebuilt table would forget the highest id
    # ever given (0012).
    op.drop_column("outboxmessage", "claimed_by")
