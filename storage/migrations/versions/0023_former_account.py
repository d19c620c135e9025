"""The Telegram account a re-link moved a record away from, so that its words of crisis reach staff.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-23 02:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "formeraccount",
        sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("telegram_user_id"),
    )
    op.create_index(op.f("ix_formeraccount_patient_id"), "formeraccount", ["patient_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_formeraccount_patient_id"), table_name="formeraccount")
    op.drop_table("formeraccount")
