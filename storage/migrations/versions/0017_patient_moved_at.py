"""When a re-link last moved a patient's record to another Telegram account: that account's export and
erasure wait for a while after it (RELINK_HOLD_HOURS), in case the link reached someone else.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("patient", sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), not by rebuilding the table: a rebuilt table would forget the highest id
    # ever given (0012), and the next patient could take an erased one's id.
    op.drop_column("patient", "moved_at")
