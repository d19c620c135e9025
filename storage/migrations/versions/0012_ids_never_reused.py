"""On SQLite, patients, alerts and patients' messages never get the id of one erased before them.

Their ids travel in the staff chat's buttons (Reply, Acknowledge, Seen). SQLite gives a new row the
highest id in use plus one, so after an erasure deleted the newest patient with their alerts, the next
patient and alert got the same ids, and a press on the erased patient's card in the staff chat acted on
someone else's alert. AUTOINCREMENT remembers the highest id ever given. (PostgreSQL's sequences never
give an id twice: nothing to do there.) A table is rebuilt to change this; its rows keep their ids.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("patient", "alert", "patientmessage")
ACTIVE = "status IN ('open', 'acknowledged', 'snoozed') AND rule NOT IN ('crisis_text', 'contact_request')"


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TABLES:
        with op.batch_alter_table(
            name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ) as batch_op:
            if name == "alert":  # a partial index: made again with its condition, not copied without it
                batch_op.drop_index("uq_alert_active", sqlite_where=sa.text(ACTIVE))
                batch_op.create_index(
                    "uq_alert_active", ["patient_id", "rule"], unique=True, sqlite_where=sa.text(ACTIVE)
                )


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
