"""Per-patient cadences of the questionnaires offered beside the daily diary.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instrumentcadence",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("every_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("patient_id", "questionnaire"),
    )


def downgrade() -> None:
    op.drop_table("instrumentcadence")
