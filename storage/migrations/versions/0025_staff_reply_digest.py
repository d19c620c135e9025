"""The SHA-256 of a staff member's reply as it went to the patient (never its words): Telegram sends an edit for a
change no one made (a link's preview made later, a first reaction), and the staff member was told that their
correction does not reach the patient for a reply they never touched. Rows from before hold none: any edit of those
is answered as before.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-23 17:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "staffchatmessage", sa.Column("words_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("staffchatmessage", "words_digest")
