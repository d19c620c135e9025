"""Query functions for check-ins and their answers.

The per-answer path (get, upsert_answer, save_progress, answers) uses Core statements on the tables:
a button press costs a few small statements and no ORM unit of work.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import case, func, or_, select, true, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import summaries
from storage.core import execute, insert
from storage.models import Answer, CheckIn, CrisisPress, Patient, Schedule, table
from storage.statuses import CheckInStatus

CHECKINS = table(CheckIn)
ANSWERS = table(Answer)
PRESSES = table(CrisisPress)
IMPORTED = "import-"  # the slot of an imported check-in starts so, followed by its time
ASKED_FOR = "extra-"  # the slot of a check-in the patient asked for (/checkin) starts so


async def create(
    *,
    session: AsyncSession,
    patient_id: int,
    questionnaire: str,
    local_date: date,
    slot: str,
    started_at: datetime,
    closes_at: datetime,
    step: str | None,
    chat_id: int | None,
    status: CheckInStatus = CheckInStatus.OPEN,
) -> tuple[CheckIn, bool]:
    """Create the check-in for a slot, or return the one that exists (created=False)."""
    statement = (
        insert(session, CHECKINS)
        .values(
            patient_id=patient_id,
            questionnaire=questionnaire,
            local_date=local_date,
            slot=slot,
            started_at=started_at,
            closes_at=closes_at,
            step=step,
            chat_id=chat_id,
            status=status,
        )
        .on_conflict_do_nothing(index_elements=["patient_id", "local_date", "slot"])
        .returning(CHECKINS.c.id)
    )
    created = (await execute(session, statement)).first() is not None
    row = (
        await execute(
            session,
            select(CHECKINS).where(
                CHECKINS.c.patient_id == patient_id, CHECKINS.c.local_date == local_date, CHECKINS.c.slot == slot
            ),
        )
    ).one()
    return CheckIn(**row._mapping), created


async def create_many(*, session: AsyncSession, rows: list[dict[str, object]]) -> list[tuple[int, int, str]]:
    """Create check-ins for many slots; returns (id, patient id, status) of those that did not exist."""
    if not rows:
        return []
    statement = (
        insert(session, CHECKINS)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["patient_id", "local_date", "slot"])
        .returning(CHECKINS.c.id, CHECKINS.c.patient_id, CHECKINS.c.status)
    )
    created = [(int(i), int(p), str(s)) for i, p, s in (await execute(session, statement)).all()]
    # A check-in created missed (the patient cannot be reached, or it is long past) counts as due at once.
    await summaries.changed(
        session=session, patient_ids=[p for _, p, status in created if status == CheckInStatus.MISSED]
    )
    return created


async def close_earlier(*, session: AsyncSession, keep: dict[int, int], questionnaire: str, now: datetime) -> None:
    """Close each patient's open check-ins of this questionnaire other than the new one in `keep`
    (patient id -> check-in id)."""
    if keep:
        await execute(
            session,
            update(CHECKINS)
            .where(
                CHECKINS.c.patient_id.in_(list(keep)),
                CHECKINS.c.id.not_in(list(keep.values())),
                CHECKINS.c.questionnaire == questionnaire,
                CHECKINS.c.closes_at > now,
            )
            .values(closes_at=now),
        )


async def close_others(
    *, session: AsyncSession, patient_id: int, keep_id: int, questionnaire: str | None, now: datetime
) -> None:
    """A new check-in closes the patient's earlier open ones of the same questionnaire: only one daily
    check-in is answerable at a time (an offered questionnaire never closes the diary, nor the other way).
    questionnaire=None closes all of them."""
    statement = update(CHECKINS).where(
        CHECKINS.c.patient_id == patient_id, CHECKINS.c.id != keep_id, CHECKINS.c.closes_at > now
    )
    if questionnaire is not None:
        statement = statement.where(CHECKINS.c.questionnaire == questionnaire)
    await execute(session, statement.values(closes_at=now))


async def questionnaire_of(
    *, session: AsyncSession, checkin_id: int, patient_id: int, chat_id: int | None = None
) -> str | None:
    """Which questionnaire the patient's check-in asks; None when it is not theirs or does not exist, or (given
    `chat_id`) was asked in another chat."""
    statement = select(CHECKINS.c.questionnaire).where(CHECKINS.c.id == checkin_id, CHECKINS.c.patient_id == patient_id)
    if chat_id is not None:
        statement = statement.where(_asked_in(chat_id))
    return (await execute(session, statement)).scalar_one_or_none()


async def last_taken(*, session: AsyncSession, patient_id: int, questionnaire: str) -> date | None:
    """The local date the patient last answered or declined this questionnaire (missed offers do not
    count: it is offered again)."""
    result = await execute(
        session,
        select(func.max(CHECKINS.c.local_date)).where(
            CHECKINS.c.patient_id == patient_id,
            CHECKINS.c.questionnaire == questionnaire,
            (CHECKINS.c.status == CheckInStatus.SKIPPED) | CHECKINS.c.completed_at.is_not(None),
        ),
    )
    return result.scalar_one_or_none()


async def patients_completing(*, session: AsyncSession, questionnaires: list[str], since: datetime) -> list[int]:
    """The patients who completed one of these questionnaires since `since` (for the digest)."""
    result = await execute(
        session,
        select(CHECKINS.c.patient_id)
        .where(CHECKINS.c.questionnaire.in_(questionnaires), CHECKINS.c.completed_at >= since)
        .distinct(),
    )
    return [int(patient_id) for patient_id in result.scalars()]


async def with_patient(*, session: AsyncSession, checkin_id: int) -> tuple[CheckIn, Patient] | None:
    checkin = await session.get(CheckIn, checkin_id)
    if checkin is None:
        return None
    patient = await session.get(Patient, checkin.patient_id)
    assert patient is not None
    return checkin, patient


def _asked_in(chat_id: int) -> Any:
    """A check-in asked in this chat (or in none: made before check-ins kept their chat)."""
    return or_(CHECKINS.c.chat_id.is_(None), CHECKINS.c.chat_id == chat_id)


async def waiting_for_answer(
    *, session: AsyncSession, patient_id: int, questionnaire: str, now: datetime, chat_id: int
) -> CheckIn | None:
    """The patient's newest check-in of this questionnaire open at `now` and still asking a question (not
    at its summary) in `chat_id`, the chat the answer was written in. One opened after `now` is not it: a
    message handled late belongs to the check-in that was open when it was written. Nor is one a re-link has
    moved to another account's chat: asked there now, it is not answered from the account the record left."""
    row = (
        await execute(
            session,
            select(CHECKINS)
            .where(
                CHECKINS.c.patient_id == patient_id,
                CHECKINS.c.questionnaire == questionnaire,
                CHECKINS.c.status == CheckInStatus.OPEN,
                CHECKINS.c.step.is_not(None),
                CHECKINS.c.started_at <= now,
                CHECKINS.c.closes_at > now,
                _asked_in(chat_id),
            )
            .order_by(CHECKINS.c.started_at.desc(), CHECKINS.c.id.desc())
            .limit(1),
        )
    ).first()
    return CheckIn(**row._mapping) if row else None


async def shown_in(*, session: AsyncSession, patient_id: int, chat_id: int, message_id: int) -> CheckIn | None:
    """The patient's check-in that this message of the diary shows (its questions, as they now stand): the newest of
    those it has shown (a PHQ-2 that steps up goes on as a PHQ-9 in the same message)."""
    row = (
        await execute(
            session,
            select(CHECKINS)
            .where(
                CHECKINS.c.patient_id == patient_id,
                CHECKINS.c.chat_id == chat_id,
                CHECKINS.c.message_id == message_id,
            )
            .order_by(CHECKINS.c.id.desc())
            .limit(1),
        )
    ).first()
    return CheckIn(**row._mapping) if row else None


async def with_note_from(*, session: AsyncSession, patient_id: int, message_id: int, now: datetime) -> CheckIn | None:
    """The open check-in whose note came from this Telegram message."""
    row = (
        await execute(
            session,
            select(CHECKINS).where(
                CHECKINS.c.patient_id == patient_id,
                CHECKINS.c.note_message_id == message_id,
                CHECKINS.c.closes_at > now,
            ),
        )
    ).first()
    return CheckIn(**row._mapping) if row else None


async def open_since(*, session: AsyncSession, patient_id: int, at: datetime, now: datetime) -> CheckIn | None:
    """The patient's newest check-in started by `at` and not yet closed at `now`: the one a note typed at `at`
    went to, when it is still open."""
    row = (
        await execute(
            session,
            select(CHECKINS)
            .where(CHECKINS.c.patient_id == patient_id, CHECKINS.c.started_at <= at, CHECKINS.c.closes_at > now)
            .order_by(CHECKINS.c.started_at.desc(), CHECKINS.c.id.desc())
            .limit(1),
        )
    ).first()
    return CheckIn(**row._mapping) if row else None


async def answer_given_at(
    *, session: AsyncSession, patient_id: int, at: datetime, now: datetime
) -> tuple[CheckIn, str] | None:
    """The open check-in and the item whose answer was stored at `at` (the instant a typed answer came),
    or None: the check-in is closed, or the answer was changed since (it has a later time)."""
    row = (
        await execute(
            session,
            select(CHECKINS, ANSWERS.c.item)
            .join(ANSWERS, ANSWERS.c.checkin_id == CHECKINS.c.id)
            .where(CHECKINS.c.patient_id == patient_id, ANSWERS.c.answered_at == at, CHECKINS.c.closes_at > now)
            .limit(1),
        )
    ).first()
    if row is None:
        return None
    fields = dict(row._mapping)
    item = str(fields.pop("item"))
    return CheckIn(**fields), item


async def set_note_message(*, session: AsyncSession, checkin_id: int, message_id: int) -> None:
    await execute(session, update(CHECKINS).where(CHECKINS.c.id == checkin_id).values(note_message_id=message_id))


async def lock(*, session: AsyncSession, checkin_id: int) -> None:
    """Hold the check-in's row until the transaction ends, as move_to's UPDATE does for an open one (PostgreSQL;
    SQLite writes one transaction at a time)."""
    await execute(session, select(CHECKINS.c.id).where(CHECKINS.c.id == checkin_id).with_for_update())


async def move_to(
    *,
    session: AsyncSession,
    checkin_id: int,
    patient_id: int,
    step: str | None,
    now: datetime,
    chat_id: int | None = None,
) -> CheckIn | None:
    """Move the patient's open check-in to a step; None if it is closed, not theirs, or asked in another chat than
    `chat_id` (the one pressed in; None: any).

    One guarded UPDATE: the ownership and open checks and the change cannot drift apart (a re-link that moves the
    check-in to the new account's chat between the press and here leaves the old account's press nothing to
    move). Reaching the summary (step None) marks it completed, keeping the first completion time when they edit
    later.
    """
    result = await execute(
        session,
        update(CHECKINS)
        .where(
            CHECKINS.c.id == checkin_id,
            CHECKINS.c.patient_id == patient_id,
            CHECKINS.c.closes_at > now,
            _in_chat(chat_id),
        )
        .values(step=step, completed_at=func.coalesce(CHECKINS.c.completed_at, now if step is None else None))
        .returning(*CHECKINS.c),
    )
    row = result.first()
    if row is None:
        return None
    checkin = CheckIn(**row._mapping)
    if step is None and checkin.questionnaire == "daily":  # completed: adherence counts it
        await summaries.changed(session=session, patient_ids=[patient_id])
    return checkin


def _in_chat(chat_id: int | None) -> Any:
    """`_asked_in(chat_id)`, or any chat when None."""
    return true() if chat_id is None else _asked_in(chat_id)


async def snooze(
    *, session: AsyncSession, checkin_id: int, patient_id: int, now: datetime, chat_id: int | None = None
) -> CheckIn | None:
    """Mark the patient's open check-in snoozed, once; None when closed, not theirs, snoozed before, or asked in
    another chat than `chat_id` (the one pressed in; None: any). The chat is checked in the UPDATE itself: a re-link
    committing after a check read first has moved the check-in to the new account, not for the old one to put off."""
    result = await execute(
        session,
        update(CHECKINS)
        .where(
            CHECKINS.c.id == checkin_id,
            CHECKINS.c.patient_id == patient_id,
            CHECKINS.c.closes_at > now,
            CHECKINS.c.status == CheckInStatus.OPEN,
            CHECKINS.c.snoozed_at.is_(None),
            _in_chat(chat_id),
        )
        .values(snoozed_at=now)
        .returning(*CHECKINS.c),
    )
    row = result.first()
    return CheckIn(**row._mapping) if row else None


async def keep_open_until(*, session: AsyncSession, checkin_id: int, closes_at: datetime) -> None:
    """A check-in put off to later stays answerable for a while after it is sent again."""
    await execute(
        session,
        update(CHECKINS)
        .where(CHECKINS.c.id == checkin_id, CHECKINS.c.closes_at < closes_at)
        .values(closes_at=closes_at),
    )


async def snoozed(
    *, session: AsyncSession, checkin_id: int, patient_id: int, now: datetime, chat_id: int | None = None
) -> bool:
    """Whether the patient's check-in is open and was snoozed already (given `chat_id`: asked in that chat)."""
    result = await execute(
        session,
        select(CHECKINS.c.id).where(
            CHECKINS.c.id == checkin_id,
            CHECKINS.c.patient_id == patient_id,
            CHECKINS.c.closes_at > now,
            CHECKINS.c.snoozed_at.is_not(None),
            _in_chat(chat_id),
        ),
    )
    return result.first() is not None


async def skipped(*, session: AsyncSession, checkin_id: int, patient_id: int, chat_id: int | None = None) -> bool:
    """Whether the patient's check-in was skipped (Skip today, or an offered questionnaire declined); given
    `chat_id`, one asked in that chat."""
    result = await execute(
        session,
        select(CHECKINS.c.id).where(
            CHECKINS.c.id == checkin_id,
            CHECKINS.c.patient_id == patient_id,
            CHECKINS.c.status == CheckInStatus.SKIPPED,
            _in_chat(chat_id),
        ),
    )
    return result.first() is not None


async def skip(
    *, session: AsyncSession, checkin_id: int, patient_id: int, now: datetime, chat_id: int | None = None
) -> bool:
    """Close the patient's open check-in as skipped; False when closed, not theirs, or asked in another chat than
    `chat_id` (None: any), checked in the UPDATE itself, as `snooze` does."""
    result = await execute(
        session,
        update(CHECKINS)
        .where(
            CHECKINS.c.id == checkin_id,
            CHECKINS.c.patient_id == patient_id,
            CHECKINS.c.closes_at > now,
            CHECKINS.c.status == CheckInStatus.OPEN,
            _in_chat(chat_id),
        )
        .values(status=CheckInStatus.SKIPPED, closes_at=now),
    )
    if result.rowcount:
        await summaries.changed(session=session, patient_ids=[patient_id])
    return bool(result.rowcount)


async def needing_reminder(
    *, session: AsyncSession, questionnaire: str, started_before: datetime, now: datetime, limit: int
) -> list[tuple[int, int, str, str | None]]:
    """Open check-ins of the questionnaire sent before `started_before`, not answered at all and not yet reminded,
    of patients whose check-ins are not paused (/pause asks for none from then on): (check-in id, chat id,
    the patient's time zone, their own quiet hours or None)."""
    answered = select(ANSWERS.c.id).where(ANSWERS.c.checkin_id == CHECKINS.c.id).exists()
    patients, schedules = table(Patient), table(Schedule)
    result = await execute(
        session,
        select(CHECKINS.c.id, CHECKINS.c.chat_id, patients.c.timezone, schedules.c.quiet_hours)
        .join(patients, patients.c.id == CHECKINS.c.patient_id)
        .outerjoin(schedules, schedules.c.patient_id == CHECKINS.c.patient_id)
        .where(
            CHECKINS.c.status == CheckInStatus.OPEN,
            CHECKINS.c.questionnaire == questionnaire,
            CHECKINS.c.started_at <= started_before,
            CHECKINS.c.closes_at > now,
            CHECKINS.c.reminded_at.is_(None),
            CHECKINS.c.message_id.is_not(None),
            ~answered,
            or_(schedules.c.paused_until.is_(None), schedules.c.paused_until <= now),
        )
        .limit(limit),
    )
    return [(int(cid), int(chat), str(zone), quiet) for cid, chat, zone, quiet in result.all()]


async def mark_missed(*, session: AsyncSession, now: datetime) -> None:
    """Check-ins that closed with no answer at all are missed."""
    answered = select(ANSWERS.c.id).where(ANSWERS.c.checkin_id == CHECKINS.c.id).exists()
    missed = await execute(
        session,
        update(CHECKINS)
        .where(CHECKINS.c.status == CheckInStatus.OPEN, CHECKINS.c.closes_at <= now, ~answered)
        .values(status=CheckInStatus.MISSED)
        .returning(CHECKINS.c.patient_id, CHECKINS.c.questionnaire),
    )
    await summaries.changed(session=session, patient_ids=[p for p, name in missed.all() if name == "daily"])


async def claim_reminders(*, session: AsyncSession, checkin_ids: list[int], now: datetime) -> set[int]:
    """Mark these check-ins reminded; returns those that were not yet (the ones to remind). Two processes
    that found the same check-ins at once take turns on their rows, and the second finds them reminded."""
    if not checkin_ids:
        return set()
    result = await execute(
        session,
        update(CHECKINS)
        .where(CHECKINS.c.id.in_(checkin_ids), CHECKINS.c.reminded_at.is_(None))
        .values(reminded_at=now)
        .returning(CHECKINS.c.id),
    )
    return {int(row[0]) for row in result.all()}


async def any_answered(*, session: AsyncSession, patient_id: int) -> bool:
    """Whether the patient has an answer at all (imported from the clinic's earlier records, say): check-ins only
    asked, missed by a patient invited but not yet enrolled, hold nothing."""
    answered = select(ANSWERS.c.id).join(CHECKINS, ANSWERS.c.checkin_id == CHECKINS.c.id)
    result = await execute(session, answered.where(CHECKINS.c.patient_id == patient_id).limit(1))
    return result.first() is not None


async def close_answered(*, session: AsyncSession, patient_id: int, now: datetime) -> None:
    """Close the patient's open check-ins that hold an answer (begun, or finished and still open for edits), as a
    newer check-in closes an older one: their answers stay in the record. For a record that moves to another
    account (a re-link), which must not be shown what was answered on the account it leaves."""
    answered = select(ANSWERS.c.id).where(ANSWERS.c.checkin_id == CHECKINS.c.id).exists()
    await execute(
        session,
        update(CHECKINS)
        .where(CHECKINS.c.patient_id == patient_id, CHECKINS.c.closes_at > now, answered)
        .values(closes_at=now),
    )


async def move_open_to_chat(*, session: AsyncSession, patient_id: int, chat_id: int, now: datetime) -> list[int]:
    """The patient's record moved to another account (a re-link): their open check-ins are that account's from
    now on (its reminders, a snooze, a step-up go there). Their messages stay on the account left behind, where
    no one can answer them, and its message numbers are not the new account's: both are forgotten. Returns the
    check-ins still asking a question, to be sent anew to the new account."""
    result = await execute(
        session,
        update(CHECKINS)
        .where(CHECKINS.c.patient_id == patient_id, CHECKINS.c.status == CheckInStatus.OPEN, CHECKINS.c.closes_at > now)
        .values(chat_id=chat_id, message_id=None, note_message_id=None)
        .returning(CHECKINS.c.id, CHECKINS.c.step),
    )
    return sorted(int(checkin_id) for checkin_id, step in result.all() if step is not None)


async def set_message(*, session: AsyncSession, checkin_id: int, chat_id: int, message_id: int) -> None:
    await execute(
        session, update(CHECKINS).where(CHECKINS.c.id == checkin_id).values(chat_id=chat_id, message_id=message_id)
    )


async def upsert_answer(*, session: AsyncSession, checkin_id: int, item: str, value: str, now: datetime) -> None:
    statement = insert(session, ANSWERS).values(checkin_id=checkin_id, item=item, value=value, answered_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["checkin_id", "item"], set_={"value": value, "answered_at": now}
    )
    await execute(session, statement)
    if item == "pain":
        await summaries.changed_checkin(session=session, checkin_id=checkin_id)


async def crisis_pressed(*, session: AsyncSession, patient_id: int, checkin_id: int, item: str) -> str | None:
    """The highest crisis answer the patient pressed on this item of a check-in not theirs (CrisisPress), or None."""
    result = await execute(
        session,
        select(PRESSES.c.value).where(
            PRESSES.c.patient_id == patient_id, PRESSES.c.checkin_id == checkin_id, PRESSES.c.item == item
        ),
    )
    return result.scalar_one_or_none()


async def set_crisis_pressed(
    *, session: AsyncSession, patient_id: int, checkin_id: int, item: str, value: str, now: datetime
) -> None:
    statement = insert(session, PRESSES).values(
        patient_id=patient_id, checkin_id=checkin_id, item=item, value=value, pressed_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["patient_id", "checkin_id", "item"], set_={"value": value, "pressed_at": now}
    )
    await execute(session, statement)


async def answers(*, session: AsyncSession, checkin_id: int) -> dict[str, str]:
    result = await execute(session, select(ANSWERS.c.item, ANSWERS.c.value).where(ANSWERS.c.checkin_id == checkin_id))
    return {item: value for item, value in result.all()}


async def last_answered_at(*, session: AsyncSession, checkin_id: int) -> datetime | None:
    """When the check-in's latest answer was given (its next question shown then); None before the first."""
    result = await execute(session, select(func.max(ANSWERS.c.answered_at)).where(ANSWERS.c.checkin_id == checkin_id))
    return result.scalar_one_or_none()


@dataclass(frozen=True)
class Entry:
    """A check-in with its answers, as history and charts see it."""

    checkin_id: int
    started_at: datetime
    answers: dict[str, str]


async def entries_since(
    *, session: AsyncSession, patient_id: int, since: datetime, questionnaire: str = "daily"
) -> list[Entry]:
    """Check-ins of the questionnaire with at least one answer, oldest first."""
    result = await execute(
        session,
        select(CHECKINS.c.id, CHECKINS.c.started_at, ANSWERS.c.item, ANSWERS.c.value)
        .join(ANSWERS, ANSWERS.c.checkin_id == CHECKINS.c.id)
        .where(
            CHECKINS.c.patient_id == patient_id,
            CHECKINS.c.questionnaire == questionnaire,
            CHECKINS.c.started_at >= since,
        )
        .order_by(CHECKINS.c.started_at, CHECKINS.c.id),
    )
    entries: dict[int, Entry] = {}
    for checkin_id, started_at, item, value in result.all():
        entry = entries.setdefault(cast(int, checkin_id), Entry(cast(int, checkin_id), started_at, {}))
        entry.answers[item] = value
    return list(entries.values())


def _missed_by_the_patient() -> Any:
    """A missed check-in the patient was asked: one that reached their chat, or one imported as missed.
    Those the bot never sent (due while it was down, or to a patient who had blocked it) are stored as
    missed but are not the patient's silence."""
    return (CHECKINS.c.status == CheckInStatus.MISSED) & (
        CHECKINS.c.message_id.is_not(None) | CHECKINS.c.slot.startswith(IMPORTED)
    )


def never_sent() -> Any:
    """A check-in stored as missed that never reached the patient: not theirs to count (adherence)."""
    return (CHECKINS.c.status == CheckInStatus.MISSED) & ~_missed_by_the_patient()


async def diary_since(*, session: AsyncSession, patient_id: int, since: datetime) -> list[Entry]:
    """What the trend rules read: answered daily check-ins with their answers, and missed ones with none
    (status in `Entry.answers` is empty). Oldest first; open unanswered and skipped ones are left out,
    and so are check-ins the bot never sent."""
    answered = await entries_since(session=session, patient_id=patient_id, since=since)
    missed = await execute(
        session,
        select(CHECKINS.c.id, CHECKINS.c.started_at).where(
            CHECKINS.c.patient_id == patient_id,
            CHECKINS.c.questionnaire == "daily",
            CHECKINS.c.started_at >= since,
            _missed_by_the_patient(),
        ),
    )
    entries = answered + [Entry(int(i), at, {}) for i, at in missed.all()]
    entries.sort(key=lambda e: (e.started_at, e.checkin_id))
    return entries


@dataclass(frozen=True)
class Sitting:
    """A daily check-in as adherence counts it, answered or not."""

    slot: str  # a scheduled time ("09:00"), "extra-…" (ASKED_FOR) for one the patient asked for, "import-…"
    status: str
    answered: bool
    closes_at: datetime


async def daily_sittings(*, session: AsyncSession, patient_id: int, since: datetime, until: datetime) -> list[Sitting]:
    """Every daily check-in started in [since, until], oldest first, with whether it has an answer; not
    those the bot never sent (a check-in due while it was down is not one the patient missed)."""
    answered = select(ANSWERS.c.id).where(ANSWERS.c.checkin_id == CHECKINS.c.id).exists()
    result = await execute(
        session,
        select(CHECKINS.c.slot, CHECKINS.c.status, answered, CHECKINS.c.closes_at)
        .where(
            CHECKINS.c.patient_id == patient_id,
            CHECKINS.c.questionnaire == "daily",
            CHECKINS.c.started_at >= since,
            CHECKINS.c.started_at <= until,
            ~never_sent(),
        )
        .order_by(CHECKINS.c.started_at, CHECKINS.c.id),
    )
    return [Sitting(str(slot), str(status), bool(has), closes) for slot, status, has, closes in result.all()]


async def import_entries(
    *,
    session: AsyncSession,
    patient_id: int,
    questionnaire: str,
    entries: list[tuple[datetime, date, dict[str, str]]],
) -> int:
    """Store imported check-ins, (time, local date, answers) each; no answers: a missed one.
    Each is keyed by its time, so a row imported before is skipped, whatever local date it was given
    then (the patient's time zone may have changed since). Returns how many were new."""
    if not entries:
        return 0
    slots = [f"{IMPORTED}{at.isoformat()}"[:32] for at, _, _ in entries]
    imported = await execute(
        session,
        select(CHECKINS.c.slot).where(CHECKINS.c.patient_id == patient_id, CHECKINS.c.slot.in_(slots)),
    )
    before = set(imported.scalars())
    entries = [entry for entry, slot in zip(entries, slots, strict=True) if slot not in before]
    if not entries:
        return 0
    rows = [
        {
            "patient_id": patient_id,
            "questionnaire": questionnaire,
            "local_date": local_date,
            "slot": f"{IMPORTED}{at.isoformat()}"[:32],
            "started_at": at,
            "closes_at": at,
            "status": CheckInStatus.OPEN if answers else CheckInStatus.MISSED,
            "step": None,
            "completed_at": at if answers else None,
        }
        for at, local_date, answers in entries
    ]
    created = await execute(
        session,
        insert(session, CHECKINS)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["patient_id", "local_date", "slot"])
        .returning(CHECKINS.c.id, CHECKINS.c.slot),
    )
    ids = {str(slot): int(checkin_id) for checkin_id, slot in created.all()}
    answer_rows = [
        {"checkin_id": ids[row["slot"]], "item": item, "value": value, "answered_at": at}  # type: ignore[index]
        for row, (at, _, answers) in zip(rows, entries, strict=True)
        if row["slot"] in ids
        for item, value in answers.items()
    ]
    if answer_rows:
        await execute(session, ANSWERS.insert(), answer_rows)
    await summaries.changed(session=session, patient_ids=[patient_id])
    return len(ids)


async def entries_of_patients(
    *,
    session: AsyncSession,
    patient_ids: Sequence[int],
    since: datetime,
    questionnaire: str,
    items: Sequence[str],
    missed: bool = False,
) -> dict[int, list[Entry]]:
    """`entries_since` for many patients at once, by patient id, oldest first, with the answers to `items`;
    with `missed`, the missed check-ins too, with no answers, as `diary_since` reads them. One row per
    check-in (its answers side by side): a clinic's year is a million answers, and rows cost more than
    columns."""
    answered = func.count(ANSWERS.c.id) > 0
    statement = (
        select(
            CHECKINS.c.patient_id,
            CHECKINS.c.id,
            CHECKINS.c.started_at,
            *(func.max(case((ANSWERS.c.item == item, ANSWERS.c.value))).label(f"a{n}") for n, item in enumerate(items)),
        )
        .outerjoin(ANSWERS, ANSWERS.c.checkin_id == CHECKINS.c.id)
        .where(
            CHECKINS.c.patient_id.in_(patient_ids),
            CHECKINS.c.questionnaire == questionnaire,
            CHECKINS.c.started_at >= since,
        )
        .group_by(
            CHECKINS.c.id,
            CHECKINS.c.patient_id,
            CHECKINS.c.started_at,
            CHECKINS.c.status,
            CHECKINS.c.message_id,
            CHECKINS.c.slot,
        )
        .having(or_(answered, _missed_by_the_patient()) if missed else answered)
        .order_by(CHECKINS.c.patient_id, CHECKINS.c.started_at, CHECKINS.c.id)
    )
    found: dict[int, list[Entry]] = {}
    for patient_id, checkin_id, started_at, *values in (await execute(session, statement)).all():
        answers = {item: value for item, value in zip(items, values, strict=True) if value is not None}
        found.setdefault(int(patient_id), []).append(Entry(int(checkin_id), started_at, answers))
    return found
