"""A crisis answer pressed on a questionnaire left in the chat by a diary the account had before (erased, or moved
away by a re-link): the highest heard per pressed check-in and item, so that pressing it again raises no new crisis.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-23 01:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crisispress",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("pressed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("patient_id", "checkin_id", "item"),
    )


def downgrade() -> None:
    op.drop_table("crisispress")
