"""Which process stored or took an unfinished update, and until when it is that one's: a process starting replayed
every unfinished update, those a running process was still trying too, and they were handled twice. Rows from before
hold none (taken at start-up as before).

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-24 00:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inboxupdate", sa.Column("owner", sa.String(length=128), nullable=True))
    op.add_column("inboxupdate", sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), as 0028's column is.
    op.drop_column("inboxupdate", "leased_until")
    op.drop_column("inboxupdate", "owner")
