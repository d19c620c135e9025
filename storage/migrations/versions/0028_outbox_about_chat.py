"""Of urgent words for the admins, the chat whose trouble they tell of (the staff chat that cannot be reached): refused
by an admin's own chat, such words go to the staff chat instead, and never these. Rows from before hold none.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-23 22:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outboxmessage", sa.Column("about_chat_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), not by rebuilding the table: a rebuilt table would forget the highest id
    # ever given (0012).
    op.drop_column("outboxmessage", "about_chat_id")
