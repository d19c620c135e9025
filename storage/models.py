"""The tables. The database is the single source of truth; processes are disposable."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the backend keeps (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Patient(SQLModel, table=True):
    """A patient known by the clinic's pseudonymous code; linked to Telegram when they accept an invite."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    language: str = Field(max_length=8)
    timezone: str = Field(max_length=64)
    status: str = Field(default="invited", max_length=16)  # invited, active, unreachable, discharged
    created_at: datetime = utc_column()
    consented_at: datetime | None = utc_column(nullable=True)


class Invite(SQLModel, table=True):
    """A one-time enrolment link. Only the SHA-256 of the token is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False))
    language: str = Field(max_length=8)
    timezone: str = Field(max_length=64)
    checkin_times: str = Field(default="", max_length=64)
    created_at: datetime = utc_column()
    expires_at: datetime = utc_column()
    used_at: datetime | None = utc_column(nullable=True)


class CheckIn(SQLModel, table=True):
    """One questionnaire sitting. Unique per (patient, local date, slot) so no slot is ever asked twice."""

    __table_args__ = (
        UniqueConstraint("patient_id", "local_date", "slot", name="uq_checkin_slot"),
        Index("ix_checkin_open", "status", "closes_at"),  # the tick's search for newly missed check-ins
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True))
    questionnaire: str = Field(max_length=32)
    local_date: date
    slot: str = Field(max_length=32)
    started_at: datetime = utc_column()
    closes_at: datetime = utc_column()
    # open: answerable until closes_at; missed: never sent (too late) or never answered; skipped: "Skip today".
    status: str = Field(default="open", max_length=16)
    # The item being asked now; None once the patient has reached the summary.
    step: str | None = Field(default=None, max_length=32)
    completed_at: datetime | None = utc_column(nullable=True)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    reminded_at: datetime | None = utc_column(nullable=True)


class Answer(SQLModel, table=True):
    """One item's answer, stored the moment it is given. Upserted on (check-in, item)."""

    __table_args__ = (UniqueConstraint("checkin_id", "item", name="uq_answer_item"),)

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(sa_column=Column(ForeignKey("checkin.id", ondelete="CASCADE"), nullable=False, index=True))
    item: str = Field(max_length=32)
    value: str = Field(sa_type=Text)
    answered_at: datetime = utc_column()


class Schedule(SQLModel, table=True):
    """A patient's check-in times in their own zone, and the next slot due (the scheduler's whole state)."""

    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True))
    times: str = Field(max_length=64)  # "09:00,20:00"
    days: str = Field(max_length=32)  # "mon-sun" or "mon,wed,fri"
    timezone: str = Field(max_length=64)
    quiet_hours: str | None = Field(default=None, max_length=11)  # "22:00-07:00"; None: the clinic's
    paused_until: datetime | None = utc_column(nullable=True)
    # The next slot: its local date and time, and the UTC instant it is due. NULL when not sending.
    next_local_date: date | None = None
    next_slot: str | None = Field(default=None, max_length=5)
    next_due_at: datetime | None = utc_column(nullable=True, index=True)


class OutboxMessage(SQLModel, table=True):
    """A message the bot owes, written before it is sent; the sender works through these rows."""

    __table_args__ = (Index("ix_outbox_due", "status", "not_before", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # checkin, reminder, staff (text), alert (card), escalation
    chat_id: int = Field(sa_type=BigInteger)
    checkin_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("checkin.id", ondelete="CASCADE"), nullable=True)
    )
    alert_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("alert.id", ondelete="CASCADE", name="fk_outbox_alert"), nullable=True),
    )
    # Staff texts about one patient (a forwarded message): erased with the patient.
    patient_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE", name="fk_outbox_patient"), nullable=True),
    )
    text: str | None = Field(default=None, sa_type=Text)  # staff texts; check-ins and cards are rendered when sent
    # pending -> sending -> sent; or uncertain (may have arrived), blocked (403), failed (400).
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    not_before: datetime = utc_column()
    created_at: datetime = utc_column()
    claimed_at: datetime | None = utc_column(nullable=True)
    sent_at: datetime | None = utc_column(nullable=True)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = Field(default=None, max_length=200)


ACTIVE_ALERT = "status IN ('open', 'acknowledged', 'snoozed')"


class Alert(SQLModel, table=True):
    """What a rule found for a patient, and what staff did about it. At most one active per (patient, rule):
    a new finding updates the active alert instead of opening a second one."""

    __table_args__ = (
        Index(
            "uq_alert_active",
            "patient_id",
            "rule",
            unique=True,
            sqlite_where=text(ACTIVE_ALERT),
            postgresql_where=text(ACTIVE_ALERT),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True))
    rule: str = Field(max_length=32)
    tier: str = Field(max_length=16)  # urgent, amber, digest
    # open -> acknowledged -> resolved; snoozed: quiet until snoozed_until. Digest alerts are resolved
    # once a digest has listed them.
    status: str = Field(default="open", max_length=16)
    details: str = Field(default="{}", sa_type=Text)  # JSON: the numbers that made the rule fire
    event_at: datetime = utc_column()  # the entry (or message) the newest finding came from
    opened_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    acknowledged_by: int | None = Field(default=None, sa_type=BigInteger)
    acknowledged_at: datetime | None = utc_column(nullable=True)
    snoozed_by: int | None = Field(default=None, sa_type=BigInteger)
    snoozed_until: datetime | None = utc_column(nullable=True)
    resolved_by: int | None = Field(default=None, sa_type=BigInteger)
    resolved_at: datetime | None = utc_column(nullable=True)
    card_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    card_message_id: int | None = Field(default=None, sa_type=BigInteger)
    escalations: int = 0
    next_escalation_at: datetime | None = utc_column(nullable=True, index=True)


class Infusion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("patient_id", "given_on", name="uq_infusion_day"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True))
    given_on: date
    kind: str = Field(default="", max_length=64)
    recorded_at: datetime = utc_column()
    recorded_by: int | None = Field(default=None, sa_type=BigInteger)  # None: imported


class StaffMember(SQLModel, table=True):
    """Someone who may act on alerts (staff) and configure the diary (admin)."""

    telegram_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    role: str = Field(max_length=16)  # staff, admin
    name: str = Field(default="", max_length=64)  # as Telegram last showed it; shown on alert cards
    added_at: datetime = utc_column()


class PatientMessage(SQLModel, table=True):
    """Free text a patient wrote outside a check-in: forwarded to staff, counted in the digest."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True))
    received_at: datetime = utc_column()
    text: str = Field(sa_type=Text)
    crisis: bool = Field(default=False, sa_type=Boolean)
    digested_at: datetime | None = utc_column(nullable=True)


class InboxUpdate(SQLModel, table=True):
    """A raw Telegram update, written before Telegram is told we have it.

    The payload is cleared once processed, so a processed row holds only its number and times.
    """

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: str | None = Field(default=None, sa_type=Text)
    received_at: datetime = utc_column()
    processed_at: datetime | None = utc_column(nullable=True, index=True)


class AuditEvent(SQLModel, table=True):
    """Who read, exported or changed what, and when. Append-only, except that erasing a patient
    replaces their code here with "erased" (the event stays, the person goes)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_column(index=True)
    actor_id: int | None = Field(default=None, sa_type=BigInteger)  # Telegram user; None: the command line
    action: str = Field(max_length=32)
    patient_code: str | None = Field(default=None, max_length=32, index=True)
    detail: str = Field(default="", max_length=200)  # never answer values, notes or names


class Counter(SQLModel, table=True):
    """Named tallies for things we must not store details of (e.g. messages from strangers)."""

    name: str = Field(primary_key=True, max_length=64)
    value: int = 0


def table(model: type[SQLModel]) -> Table:
    """The model's Core table. Hot paths use it: Core statements skip the ORM's unit of work."""
    result: Table = model.__table__  # type: ignore[attr-defined]
    return result
