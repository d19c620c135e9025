"""The forum topic a Reply pressed, or the rest of a long reply awaited, holds in: the rest of a reply written in a
topic, which Telegram's app sends as a message of its own answering nothing, goes on there; talk in another topic
after a Reply pressed in General does not. Rows from before hold none (General), as they were read.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-23 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("pendingreply", sa.Column("topic", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("pendingreply", "topic")
