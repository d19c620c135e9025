"""When the crisis text went to a patient straight from the error handler, for an update whose message could
not be stored: kept in the update's row, so that a restart before a try stores the message does not queue
the crisis text a second time.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inboxupdate", sa.Column("crisis_text_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inboxupdate") as batch_op:
        batch_op.drop_column("crisis_text_at")
