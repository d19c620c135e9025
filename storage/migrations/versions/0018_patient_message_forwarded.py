"""Whether a patient's message was forwarded from someone (a text, or a photo with its caption): a friend's crisis
words forwarded are heard, but do not open the half hour in which the patient's own follow-ups ("tonight") are read
as crisis language. Forwarded texts were told apart by their kind; a forwarded photo was not.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("patientmessage", sa.Column("forwarded", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE patientmessage SET forwarded = true WHERE kind = 'forwarded'")


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), not by rebuilding the table: a rebuilt table would forget the highest id
    # ever given (0012), and the next message could take an erased one's id.
    op.drop_column("patientmessage", "forwarded")
