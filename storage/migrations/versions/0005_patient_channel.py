"""The channel between patients and their care team: every message kept and keyed by its update, staff
replies, a crisis alert per message, outbox priorities and copies, the patient's country.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ACTIVE = "status IN ('open', 'acknowledged', 'snoozed')"
NEW_ACTIVE = "status IN ('open', 'acknowledged', 'snoozed') AND rule NOT IN ('crisis_text', 'contact_request')"


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True))
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True))
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_message_id", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("patientmessage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("update_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("telegram_message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="text")
        )
        batch_op.add_column(
            sa.Column("filed_as", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="message")
        )
        batch_op.add_column(sa.Column("seen_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint("uq_patientmessage_update", ["update_id"])

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_message_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_alert_patient_message", "patientmessage", ["patient_message_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.drop_index("uq_alert_active", sqlite_where=sa.text(OLD_ACTIVE), postgresql_where=sa.text(OLD_ACTIVE))
        batch_op.create_index(
            "uq_alert_active",
            ["patient_id", "rule"],
            unique=True,
            sqlite_where=sa.text(NEW_ACTIVE),
            postgresql_where=sa.text(NEW_ACTIVE),
        )

    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("patient_message_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("source_chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("source_message_id", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            "fk_outbox_patient_message", "patientmessage", ["patient_message_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_due", ["status", "priority", "not_before", "id"], unique=False)

    op.create_table(
        "staffchatmessage",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", "message_id"),
    )
    with op.batch_alter_table("staffchatmessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staffchatmessage_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "pendingreply",
        sa.Column("staff_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_user_id", "chat_id"),
    )
    with op.batch_alter_table("pendingreply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pendingreply_patient_id"), ["patient_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pendingreply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pendingreply_patient_id"))
    op.drop_table("pendingreply")
    with op.batch_alter_table("staffchatmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staffchatmessage_patient_id"))
    op.drop_table("staffchatmessage")

    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_due", ["status", "not_before", "id"], unique=False)
        batch_op.drop_constraint("fk_outbox_patient_message", type_="foreignkey")
        batch_op.drop_column("source_message_id")
        batch_op.drop_column("source_chat_id")
        batch_op.drop_column("patient_message_id")
        batch_op.drop_column("priority")

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("uq_alert_active", sqlite_where=sa.text(NEW_ACTIVE), postgresql_where=sa.text(NEW_ACTIVE))
        batch_op.create_index(
            "uq_alert_active",
            ["patient_id", "rule"],
            unique=True,
            sqlite_where=sa.text(OLD_ACTIVE),
            postgresql_where=sa.text(OLD_ACTIVE),
        )
        batch_op.drop_constraint("fk_alert_patient_message", type_="foreignkey")
        batch_op.drop_column("patient_message_id")

    with op.batch_alter_table("patientmessage", schema=None) as batch_op:
        batch_op.drop_constraint("uq_patientmessage_update", type_="unique")
        batch_op.drop_column("seen_at")
        batch_op.drop_column("seen_by")
        batch_op.drop_column("filed_as")
        batch_op.drop_column("kind")
        batch_op.drop_column("telegram_message_id")
        batch_op.drop_column("update_id")

    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_column("note_message_id")
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.drop_column("country")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("country")
