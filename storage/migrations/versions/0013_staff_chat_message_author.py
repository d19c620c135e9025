"""The bot's "Write your reply to P-0001" and "Your reply is on its way to P-0001" are for one staff member:
only their replies to them go to the patient; a colleague's reply to them is talk among staff.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("staffchatmessage", sa.Column("staff_user_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staffchatmessage") as batch_op:
        batch_op.drop_column("staff_user_id")
