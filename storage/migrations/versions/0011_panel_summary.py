"""The patient panel's summary row per patient, kept up to date as the diary changes.

No backfill: a patient without a row gets one computed at the panel's next load.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "panelsummary",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fresh_until", sa.BigInteger(), nullable=True),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rules", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("due", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("last_pain", sa.Integer(), nullable=True),
        sa.Column("usual_pain", sa.Float(), nullable=True),
        sa.Column("trend", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("infusion_on", sa.Date(), nullable=True),
        sa.Column("relief_now", sa.Float(), nullable=True),
        sa.Column("pains", sa.Text(), nullable=False),
        sa.Column("sittings", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("patient_id"),
    )


def downgrade() -> None:
    op.drop_table("panelsummary")
