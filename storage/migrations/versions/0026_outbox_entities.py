"""The formatting of a message owed (a staff reply's strikethrough, bold, links: "Take ~~two~~ one tablet" says
one), kept with its words until it is sent: the words alone changed what the reply said. Rows from before hold none:
they go as plain words, as they would have.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-23 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outboxmessage", sa.Column("entities", sa.Text(), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+), not by rebuilding the table: a rebuilt table would forget the highest id
    # ever given (0012).
    op.drop_column("outboxmessage", "entities")
