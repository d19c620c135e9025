"""Re-link invites and declines, a check-in snoozed once, wrong tokens counted in the database, and a
ledger of updates whose effect was made.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relink", sa.Boolean(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snoozed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "wrongtoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wrongtoken", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wrongtoken_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_wrongtoken_telegram_user_id"), ["telegram_user_id"], unique=False)
    op.create_table(
        "handledupdate",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    with op.batch_alter_table("handledupdate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handledupdate_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handledupdate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handledupdate_at"))
    op.drop_table("handledupdate")
    with op.batch_alter_table("wrongtoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wrongtoken_telegram_user_id"))
        batch_op.drop_index(batch_op.f("ix_wrongtoken_at"))
    op.drop_table("wrongtoken")
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_column("snoozed_at")
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.drop_column("declined_at")
        batch_op.drop_column("relink")
