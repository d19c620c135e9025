"""The file a patient's photo, video or document held (Telegram's file_unique_id): Telegram sends an edit when only
the words under it are formatted, which changes nothing staff would see; a file replaced in an edit has another id.
Messages stored before hold none: their edits are passed on as before.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-23 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("patientmessage", sa.Column("file_unique_id", sa.Text(), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), not by rebuilding the table: a rebuilt table would forget the highest id
    # ever given (0012), and the next message could take an erased one's id.
    op.drop_column("patientmessage", "file_unique_id")
