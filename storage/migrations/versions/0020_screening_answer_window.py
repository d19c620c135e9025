"""The safety-screening question's answer window (bot/care_team/screening.py): when it closes early (a staff reply
after the patient wrote, a reassuring answer), and the messages that brought the question to the patient, whose
Telegram reply answers it. Edits of staff replies never reach the patient, so the staff message that asked it is no
longer kept.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-22 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A question asked before: its messages are not known (0), so no Telegram reply is taken for its answer.
    op.add_column("screeningquestion", sa.Column("first_outbox_id", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("screeningquestion", sa.Column("last_outbox_id", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("screeningquestion", sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True))
    # Dropped in place (SQLite 3.35+).
    op.drop_column("screeningquestion", "chat_id")
    op.drop_column("screeningquestion", "message_id")


def downgrade() -> None:
    op.add_column("screeningquestion", sa.Column("chat_id", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("screeningquestion", sa.Column("message_id", sa.BigInteger(), nullable=False, server_default="0"))
    op.drop_column("screeningquestion", "closes_at")
    op.drop_column("screeningquestion", "last_outbox_id")
    op.drop_column("screeningquestion", "first_outbox_id")
