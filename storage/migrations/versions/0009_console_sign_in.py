"""The web console's sign-in: single-use links asked for with /console, and signed-in browsers.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consolelink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("consolelink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consolelink_created_at"), ["created_at"], unique=False)
    op.create_table(
        "consolesession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_hash"),
    )
    with op.batch_alter_table("consolesession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consolesession_last_seen_at"), ["last_seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_consolesession_telegram_user_id"), ["telegram_user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consolesession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consolesession_telegram_user_id"))
        batch_op.drop_index(batch_op.f("ix_consolesession_last_seen_at"))
    op.drop_table("consolesession")
    with op.batch_alter_table("consolelink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consolelink_created_at"))
    op.drop_table("consolelink")
