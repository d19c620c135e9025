"""When an update's handling first failed while the database answered: an update that keeps failing so for
an hour is set aside, and the hour must be counted across restarts, or a poison update is tried for ever.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inboxupdate", sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inboxupdate") as batch_op:
        batch_op.drop_column("failing_since")
