"""The tables. The database is the single source of truth; processes are disposable."""

from __future__ import annotations

import enum
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

from storage.statuses import AlertStatus, CheckInStatus, OutboxStatus, PatientStatus
from storage.text import CleanString, CleanText  # free text: no NUL, no unencodable characters (see there)


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


# Tables whose ids the staff chat's buttons carry: on SQLite, an id is never given again after its row
# was erased, or a press on an erased patient's card would act on whoever got the id next (0012).
NEVER_REUSED_IDS: dict[str, Any] = {"sqlite_autoincrement": True}


def utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Patient(SQLModel, table=True):
    """A patient known by the clinic's pseudonymous code; linked to Telegram when they accept an invite."""

    __table_args__ = NEVER_REUSED_IDS

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    language: str = Field(max_length=8)
    timezone: str = Field(max_length=64)
    status: str = Field(default=PatientStatus.INVITED, max_length=16)  # a PatientStatus
    # ISO 3166 code given at invite; None: the country of the patient's time zone (bot/diary/places.py).
    # It picks the crisis text with the right emergency numbers.
    country: str | None = Field(default=None, max_length=2)
    created_at: datetime = utc_column()
    consented_at: datetime | None = utc_column(nullable=True)
    # When a re-link last moved the record to another Telegram account, or a link brought a diary kept before (an
    # import) to its first: for a while after, that account's export and erasure wait (bot/diary/enrolment.py,
    # held_until), in case the link reached the wrong hands.
    moved_at: datetime | None = utc_column(nullable=True)


class FormerAccount(SQLModel, table=True):
    """A Telegram account a re-link moved a record away from (the patient's old phone, a second device, or whoever
    held a link in the wrong hands), and when: a stranger to the diary now, whose words of crisis staff are told of
    all the same. The record's, erased with it; the newest move from an account replaces an older one."""

    telegram_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True))
    left_at: datetime = utc_column()


class Invite(SQLModel, table=True):
    """A one-time enrolment link. Only the SHA-256 of the token is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False))
    language: str = Field(max_length=8)
    timezone: str = Field(max_length=64)
    checkin_times: str = Field(default="", max_length=64)
    country: str | None = Field(default=None, max_length=2)
    # A re-link (staff asked for it explicitly): whoever accepts it becomes this patient's account, also
    # when the patient was discharged (readmission). Any other invite works only for a patient with none.
    relink: bool = Field(default=False, sa_type=Boolean, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = utc_column()
    expires_at: datetime = utc_column()
    used_at: datetime | None = utc_column(nullable=True)
    declined_at: datetime | None = utc_column(nullable=True)  # someone pressed "No, thank you"


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
    status: str = Field(default=CheckInStatus.OPEN, max_length=16)  # a CheckInStatus
    # The item being asked now; None once the patient has reached the summary.
    step: str | None = Field(default=None, max_length=32)
    completed_at: datetime | None = utc_column(nullable=True)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    reminded_at: datetime | None = utc_column(nullable=True)
    # The patient's Telegram message the note came from, so that editing it edits the note.
    note_message_id: int | None = Field(default=None, sa_type=BigInteger)
    snoozed_at: datetime | None = utc_column(nullable=True)  # "Snooze 1 h" works once per check-in


class Answer(SQLModel, table=True):
    """One item's answer, stored the moment it is given. Upserted on (check-in, item)."""

    __table_args__ = (UniqueConstraint("checkin_id", "item", name="uq_answer_item"),)

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(sa_column=Column(ForeignKey("checkin.id", ondelete="CASCADE"), nullable=False, index=True))
    item: str = Field(max_length=32)
    value: str = Field(sa_type=CleanText)
    answered_at: datetime = utc_column()


class CrisisPress(SQLModel, table=True):
    """A crisis answer (PHQ-9 item 9 above "not at all") pressed on a questionnaire that is no check-in of the
    presser's record: one left in their chat by a diary erased or moved to another account by a re-link, this
    account enrolled again since. Nothing is stored in that check-in (another record's, or none's); the highest
    answer heard per pressed check-in and item is kept here, so that pressing it again, or lower, raises no new
    crisis, as the answer kept in their own closed questionnaire does. The patient's, erased with them."""

    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True))
    # The check-in number the pressed button carries (no foreign key: it is another record's, or erased).
    checkin_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    item: str = Field(max_length=32, primary_key=True)
    value: str = Field(max_length=16)
    pressed_at: datetime = utc_column()


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


class Priority(enum.IntEnum):
    """Which owed message goes first. A crisis reply must not wait behind a 09:00 wave of check-ins."""

    URGENT = 0  # crisis replies and cards, escalations
    CONVERSATION = 1  # what patients and staff wrote to each other, other cards
    SCHEDULED = 2  # check-ins, reminders, digests


class OutboxMessage(SQLModel, table=True):
    """A message the bot owes, written before it is sent; the sender works through these rows."""

    # ix_outbox_chat: a row waits while an earlier one for its chat is owed (storage/outbox.py, claim_one);
    # without it that check reads the whole queue at each claim.
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "not_before", "id"),
        Index("ix_outbox_chat", "chat_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # checkin, reminder, staff (text to a staff chat), patient (text to a patient), received (the reply
    # to a patient's message, with "Please contact me"), copy (a patient's message copied to a staff
    # chat), alert (card), escalation, take_back (a message to delete: source_message_id in chat_id)
    kind: str = Field(max_length=16)
    priority: int = Field(default=Priority.CONVERSATION, sa_column_kwargs={"server_default": "1"})
    chat_id: int = Field(sa_type=BigInteger)
    checkin_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("checkin.id", ondelete="CASCADE"), nullable=True)
    )
    alert_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("alert.id", ondelete="CASCADE", name="fk_outbox_alert"), nullable=True),
    )
    # Messages about one patient (a forwarded message, a card, a reply to them): erased with the patient.
    patient_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE", name="fk_outbox_patient"), nullable=True),
    )
    # The patient's message this shows to staff: the message then carries Reply and Seen buttons.
    patient_message_id: int | None = Field(
        default=None,
        sa_column=Column(
            ForeignKey("patientmessage.id", ondelete="CASCADE", name="fk_outbox_patient_message"), nullable=True
        ),
    )
    text: str | None = Field(default=None, sa_type=CleanText)  # texts; check-ins and cards are rendered when sent
    # The formatting of `text` ("Take ~~two~~ one tablet" in a staff reply), as JSON: Telegram's entities (UTF-16).
    entities: str | None = Field(default=None, sa_type=Text)
    # copy: the patient's own message (photo, voice note, ...) that is copied into the staff chat
    source_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    source_message_id: int | None = Field(default=None, sa_type=BigInteger)
    # The topic of a patient's chat (threaded mode) it goes to: the one they wrote in. None: the chat's main view.
    thread_id: int | None = Field(default=None, sa_type=BigInteger)
    # Urgent words for the admins about a chat's trouble (the staff chat cannot be reached): the chat. Refused by an
    # admin's chat, such words go to the staff chat instead (bot/delivery/outbox.py), never to this one.
    about_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)  # an OutboxStatus
    attempts: int = 0
    not_before: datetime = utc_column()
    created_at: datetime = utc_column()
    claimed_at: datetime | None = utc_column(nullable=True)
    # The process whose sender took it (bot/delivery/owners.py): while that one runs, it is never taken for left by one
    # that died, however old its lease (the database away, it could not renew it). None: taken before this was kept.
    claimed_by: str | None = Field(default=None, max_length=128)
    sent_at: datetime | None = utc_column(nullable=True)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = Field(default=None, max_length=200)


# Rules about one message (each crisis message, each request to be contacted) get an alert each;
# every other rule has at most one active alert per patient.
PER_MESSAGE_RULES = ("crisis_text", "contact_request")
# The index's condition, as its migration wrote it: ACTIVE_ALERT_STATUSES, in SQL.
ACTIVE_ALERT = "status IN ('open', 'acknowledged', 'snoozed') AND rule NOT IN ('crisis_text', 'contact_request')"


class Alert(SQLModel, table=True):
    """What a rule found for a patient, and what staff did about it. At most one active per (patient, rule):
    a new finding updates the active alert instead of opening a second one. A crisis message or a request
    to be contacted is an alert of its own, every time."""

    __table_args__ = (
        Index(
            "uq_alert_active",
            "patient_id",
            "rule",
            unique=True,
            sqlite_where=text(ACTIVE_ALERT),
            postgresql_where=text(ACTIVE_ALERT),
        ),
        NEVER_REUSED_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True))
    rule: str = Field(max_length=32)
    tier: str = Field(max_length=16)  # urgent, amber, digest
    status: str = Field(default=AlertStatus.OPEN, max_length=16)  # an AlertStatus
    details: str = Field(default="{}", sa_type=CleanText)  # JSON: the numbers that made the rule fire
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
    # The patient's message a crisis or contact alert is about (acknowledging it tells them it was seen).
    patient_message_id: int | None = Field(
        default=None,
        sa_column=Column(
            ForeignKey("patientmessage.id", ondelete="SET NULL", name="fk_alert_patient_message"), nullable=True
        ),
    )
    # Rules that fired at one check-in share one card: this alert is shown, and acted on, on that
    # alert's card. None: it has its own.
    card_alert_id: int | None = None


class Infusion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("patient_id", "given_on", name="uq_infusion_day"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True))
    given_on: date
    kind: str = Field(default="", sa_type=CleanString(64))
    recorded_at: datetime = utc_column()
    recorded_by: int | None = Field(default=None, sa_type=BigInteger)  # None: imported


class StaffMember(SQLModel, table=True):
    """Someone who may act on alerts (staff) and configure the diary (admin)."""

    telegram_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    role: str = Field(max_length=16)  # staff, admin
    name: str = Field(default="", sa_type=CleanString(64))  # as Telegram last showed it; shown on alert cards
    added_at: datetime = utc_column()


class PatientMessage(SQLModel, table=True):
    """Everything a patient sent outside the buttons: messages for the care team, typed notes and answers,
    photos, voice notes and the rest, and edits. Keyed by the update it came in, so a replayed update
    takes effect once."""

    __table_args__ = (UniqueConstraint("update_id", name="uq_patientmessage_update"), NEVER_REUSED_IDS)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True))
    received_at: datetime = utc_column()
    text: str = Field(sa_type=CleanText)  # the text or caption ("" for a voice note without one)
    crisis: bool = Field(default=False, sa_type=Boolean)
    digested_at: datetime | None = utc_column(nullable=True)
    update_id: int | None = Field(default=None, sa_type=BigInteger)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    # text, forwarded (text), photo, voice, ..., edit, or crisis_answer (a questionnaire's crisis answer, pressed)
    kind: str = Field(default="text", max_length=16)
    forwarded: bool = Field(default=False, sa_type=Boolean)  # from someone (a text, a photo...): not the patient's own
    # The file a photo, video, document... held (Telegram's file_unique_id, the same for the same file): an edit
    # tells by it whether the file was replaced or only the words under it formatted.
    file_unique_id: str | None = Field(default=None, sa_type=Text)
    # message: passed to the staff chat; note: a check-in's note; answer: a number typed at a question
    filed_as: str = Field(default="message", max_length=16)
    seen_by: int | None = Field(default=None, sa_type=BigInteger)
    seen_at: datetime | None = utc_column(nullable=True)


class StaffChatMessage(SQLModel, table=True):
    """Which patient a message the bot posted for staff is about, so that a staff member's reply to it
    (or to the prompt the Reply button posts) reaches that patient; and which patient a staff member's
    own message went to as a reply, so that an edit of it can be answered. `staff_user_id`: only this staff
    member's replies to it are for the patient (the prompt Reply posts for them, "Your reply is on its way")."""

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True))
    created_at: datetime = utc_column()
    staff_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # A staff member's reply: the SHA-256 of its words as sent (never the words), so that an edit Telegram sends for
    # a change no one made (a link's preview, a first reaction) is told from a correction. None for the bot's own.
    words_digest: str | None = Field(default=None, max_length=64)


class ScreeningQuestion(SQLModel, table=True):
    """The safety-screening question staff last asked a patient in the chat ("Are you having any thoughts of ending
    your life?", "Are you safe tonight?"), so that the patient's answer after it is heard as crisis language
    when it is the worrying one (bot/care_team/screening.py), also after a restart. One row a patient: a newer
    question replaces it, or joins it when asked before the patient wrote."""

    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True))
    asked_at: datetime = utc_column()
    yes_worries: bool = Field(default=False, sa_type=Boolean)  # a yes to it is the worrying answer
    no_worries: bool = Field(default=False, sa_type=Boolean)  # a no to it is
    question: str = Field(sa_type=CleanText)  # staff's words that ask it, as the card shows them
    # The patient's newest message when it was asked (0: none): their messages after it may answer it. Counted by
    # number, not time: two messages may carry one instant.
    after_message_id: int = Field(default=0)
    # The messages that brought it to the patient (outbox ids, from the first reply that asked it to the last; 0: not
    # known): a Telegram reply to one of them answers it. The first also tells this question from a newer one.
    first_outbox_id: int = Field(default=0)
    last_outbox_id: int = Field(default=0)
    # When the patient's words stop being read as its answer before its day is out: at once when staff write to them
    # after they wrote, or asked something else; a few minutes after a reassuring answer ("no, never").
    closes_at: datetime | None = utc_column(nullable=True)
    # When the patient's worrying answer was heard: nothing after it is read as one (follow-ups are, for half an hour,
    # as after any crisis message).
    answered_at: datetime | None = utc_column(nullable=True)


class PendingReply(SQLModel, table=True):
    """A staff member pressed Reply: their next message in that chat goes to the patient. `topic`: the forum topic
    it holds in (the thread of the rest of a long reply written there), None for General or a chat without topics."""

    staff_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True))
    expires_at: datetime = utc_column()
    topic: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class InboxUpdate(SQLModel, table=True):
    """A raw Telegram update, written before Telegram is told we have it.

    The payload is cleared once processed, so a processed row holds only its number and times.
    """

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: str | None = Field(default=None, sa_type=CleanText)
    received_at: datetime = utc_column()
    processed_at: datetime | None = utc_column(nullable=True, index=True)
    # When its handling first failed while the database answered (see bot/delivery/inbox.py): an hour of
    # that, counted across restarts, sets it aside.
    failing_since: datetime | None = utc_column(nullable=True)
    # When the person got the crisis text straight from the error handler (their message could not be
    # stored): a later try, in this process or after a restart, does not queue it again.
    crisis_text_at: datetime | None = utc_column(nullable=True)
    # The process that stored or took it, and until when it is that one's while it runs (see bot/delivery/owners.py):
    # another takes it only once that one has ended or its lease ran out. None: stored before these were kept.
    owner: str | None = Field(default=None, max_length=128)
    leased_until: datetime | None = utc_column(nullable=True)


class AuditEvent(SQLModel, table=True):
    """Who read, exported or changed what, and when. Append-only, except that erasing a patient
    replaces their code here with "erased" (the event stays, the person goes)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_column(index=True)
    actor_id: int | None = Field(default=None, sa_type=BigInteger)  # Telegram user; None: the command line
    action: str = Field(max_length=32)
    patient_code: str | None = Field(default=None, max_length=32, index=True)
    detail: str = Field(default="", max_length=200)  # never answer values, notes or names


class InstrumentCadence(SQLModel, table=True):
    """A patient's own cadence for a questionnaire offered by itself (PHQ-2, pain interference, CRPS
    signs), set by an admin over the clinic's (INSTRUMENTS); 0 days: never offered to this patient."""

    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True))
    questionnaire: str = Field(max_length=32, primary_key=True)
    every_days: int


class WrongToken(SQLModel, table=True):
    """An invite token that did not work, by whom and when: the limit on guessing. Rows older than the
    limit's window are deleted as new ones arrive, so nothing about a guesser is kept for long."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_type=BigInteger, index=True)
    at: datetime = utc_column(index=True)


class HandledUpdate(SQLModel, table=True):
    """An update whose effect has been made, written in the same transaction as the effect, for the
    effects that are not idempotent by themselves (a staff reply, an invite): a replayed update finds
    its row and does nothing twice. Deleted with the processed inbox rows."""

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = utc_column(index=True)


class Counter(SQLModel, table=True):
    """Named tallies for things we must not store details of (e.g. messages from strangers)."""

    name: str = Field(primary_key=True, max_length=64)
    value: int = 0


class ConsoleLink(SQLModel, table=True):
    """A single-use sign-in link to the web console, asked for with /console: bound to one staff member
    and the role they had then, valid for minutes. Only the SHA-256 of its token is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    telegram_user_id: int = Field(sa_type=BigInteger)
    role: str = Field(max_length=16)
    created_at: datetime = utc_column(index=True)
    expires_at: datetime = utc_column()
    used_at: datetime | None = utc_column(nullable=True)


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds the session id; only its SHA-256 is kept, so a copy of the
    database signs nobody in. Ends after a long idle spell, at sign-out, or when the person leaves staff."""

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(max_length=64, unique=True)
    telegram_user_id: int = Field(sa_type=BigInteger, index=True)
    created_at: datetime = utc_column()
    last_seen_at: datetime = utc_column(index=True)


class ClinicSetting(SQLModel, table=True):
    """A clinic-wide choice made in the running bot rather than in its environment (the staff chat, set
    with /staffchat). Changed only together with the audit row that records it."""

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=256)
    changed_at: datetime = utc_column()


class PanelSummary(SQLModel, table=True):
    """What the console's patient panel shows of one patient's diary, kept up to date as it changes so
    that the panel reads one row per patient, not everyone's diary (bot/diary/summary.py). Computed
    from the diary alone: deleting a row (or the table) loses nothing; it is computed again."""

    patient_id: int = Field(sa_column=Column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True))
    # Raised by every change to the patient's check-ins, answers or infusions, in that change's
    # transaction, with fresh_until cleared: a summary computed from what was read before is then not
    # written over it (the write names the version it read).
    version: int = Field(default=1)
    # Until when the figures hold (microseconds since 1970, UTC: a number compares fastest on a panel
    # of thousands); None: the diary changed and the figures must be computed from it again.
    fresh_until: int | None = Field(default=None, sa_type=BigInteger)
    timezone: str = Field(default="", max_length=64)  # the patient's, which "today" of the relief used
    rules: str = Field(default="", max_length=32)  # the relief_waning settings the relief was computed with
    due: int = 0
    answered: int = 0
    last_pain: int | None = None
    usual_pain: float | None = None
    trend: str | None = Field(default=None, max_length=8)
    infusion_on: date | None = None  # the latest infusion
    relief_now: float | None = None
    # The scores and check-ins the figures are computed from, encoded by storage/summaries.py: when the
    # clock moves past fresh_until, the figures are computed from these again without reading the diary.
    pains: str = Field(default="", sa_type=Text)
    sittings: str = Field(default="", sa_type=Text)


def table(model: type[SQLModel]) -> Table:
    """The model's Core table. Hot paths use it: Core statements skip the ORM's unit of work."""
    result: Table = model.__table__  # type: ignore[attr-defined]
    return result
