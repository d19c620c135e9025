"""The clinic's view of its patients: who is enrolled, their recent diary, open invites, discharge.

Every read of patient data and every change is written to the audit log with who did it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.care_team.staff_chat import StaffChat
from bot.care_team.text_limits import TEXT_LIMIT, split, units
from bot.diary.chart import WINDOW
from bot.diary.enrolment import held_until
from bot.diary.questionnaire import Questionnaire
from bot.diary.scheduler import Scheduler, UnknownPatient
from bot.diary.scores import Answered, answered_since
from storage import audit, checkins, infusions, invites, outbox, patients, schedules
from storage.checkins import Entry
from storage.database import Database
from storage.statuses import PatientStatus, ShownStatus

RECENT = timedelta(days=14)
SCORES_SINCE = timedelta(days=180)


@dataclass(frozen=True)
class PatientLine:
    code: str
    status: str  # invited, declined, active, paused, unreachable, discharged
    last_checkin_at: datetime | None


@dataclass(frozen=True)
class RecentDiary:
    patient_id: int
    code: str
    status: str
    timezone: str
    days: list[Entry]  # the answered check-ins of the last 14 days, listed in numbers
    entries: list[Entry]  # the last 30 days for the chart, missed check-ins with no answers, oldest first
    infusions: list[date]
    answered: list[Answered]  # scored questionnaires answered in the last months, oldest first


def shown_status(status: str, paused_until: datetime | None, now: datetime, *, declined: bool = False) -> str:
    if status == PatientStatus.ACTIVE and paused_until is not None and paused_until > now:
        return ShownStatus.PAUSED
    if status == PatientStatus.INVITED and declined:
        return ShownStatus.DECLINED
    return status


async def overview(database: Database, *, actor_id: int, now: datetime) -> list[PatientLine]:
    async with database.session() as session:
        rows = await patients.overview(session=session)
        await audit.record(session=session, actor_id=actor_id, action="list_patients", now=now)
    return [
        PatientLine(r.code, shown_status(r.status, r.paused_until, now, declined=r.declined), r.last_checkin_at)
        for r in rows
    ]


async def recent(
    database: Database, *, code: str, actor_id: int, now: datetime, questionnaires: Iterable[Questionnaire] = ()
) -> RecentDiary:
    """The last 30 days of the diary, infusions, and the questionnaires answered in the last months."""
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        if patient is None or patient.id is None:
            raise UnknownPatient(code)
        entries = await checkins.diary_since(session=session, patient_id=patient.id, since=now - WINDOW)
        given = await infusions.since(session=session, patient_id=patient.id, since=(now - WINDOW).date())
        answered = await answered_since(session, questionnaires, patient_id=patient.id, since=now - SCORES_SINCE)
        schedule = await schedules.get(session=session, patient_id=patient.id)
        await audit.record(session=session, actor_id=actor_id, action="view_patient", patient_code=code, now=now)
    status = shown_status(patient.status, schedule.paused_until if schedule else None, now)
    days = [e for e in entries if e.answers and e.started_at >= now - RECENT]
    return RecentDiary(
        patient.id, patient.code, status, patient.timezone, days, entries, [d for d, _ in given], answered
    )


async def discharge(database: Database, *, code: str, actor_id: int | None, now: datetime) -> bool:
    """Stop the schedule and keep the record; False when already discharged."""
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        if patient is None or patient.id is None:
            raise UnknownPatient(code)
        if patient.status == PatientStatus.DISCHARGED:
            return False
        await patients.set_status(session=session, patient_id=patient.id, status=PatientStatus.DISCHARGED)
        await schedules.stop(session=session, patient_id=patient.id)
        await invites.revoke(session=session, patient_id=patient.id)
        await checkins.close_others(  # none kept
            session=session, patient_id=patient.id, keep_id=0, questionnaire=None, now=now
        )
        await audit.record(session=session, actor_id=actor_id, action="discharge", patient_code=code, now=now)
    return True


async def open_invites(database: Database, *, now: datetime) -> list[tuple[str, datetime]]:
    """(patient code, expires) of the invites that still work."""
    async with database.session() as session:
        return [(code, expires) for code, _, expires in await invites.open_invites(session=session, now=now)]


async def revoke(database: Database, *, code: str, actor_id: int | None, now: datetime) -> bool:
    """Make the patient's open invite links stop working; False when there was none."""
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        if patient is None or patient.id is None:
            raise UnknownPatient(code)
        if not await invites.revoke(session=session, patient_id=patient.id):
            return False
        await audit.record(session=session, actor_id=actor_id, action="revoke_invite", patient_code=code, now=now)
    return True


async def mark_unreachable(
    database: Database, *, chat_id: int, now: datetime, staff_chat: StaffChat, staff_text: Callable[[str], str]
) -> int | None:
    """The patient in this chat blocked the bot: their schedule stops until they /start again, and the
    staff chat is told (`staff_text(code)`). Returns the patient's id when this is news."""
    async with database.session() as session:
        return await unreachable_in(session, chat_id=chat_id, now=now, staff_chat=staff_chat, staff_text=staff_text)


async def unreachable_in(
    session: AsyncSession,
    *,
    chat_id: int,
    now: datetime,
    staff_chat: StaffChat,
    staff_text: Callable[[str], str],
    refused: Callable[[str], str] | None = None,
) -> int | None:
    """mark_unreachable, in the caller's transaction (the outbox records the refused message in it: call this
    first, so that the patient is kept before a row about them is changed, in the order an erasure takes
    them; see storage.patients.keep). `refused(code)`: what staff are told of words for the patient that
    Telegram refused (403), whether or not the block is news, so that they know which reply did not arrive
    (after the news, in the same message)."""
    patient = await patients.by_chat(session=session, chat_id=chat_id)
    if patient is None or patient.id is None or not await patients.keep(session=session, patient_id=patient.id):
        return None
    if patient.status == PatientStatus.DISCHARGED:
        return None
    news = patient.status != PatientStatus.UNREACHABLE
    told = []
    if news:
        await patients.set_status(session=session, patient_id=patient.id, status=PatientStatus.UNREACHABLE)
        await schedules.stop(session=session, patient_id=patient.id)
        told.append(staff_text(patient.code))
    if refused is not None:
        told.append(refused(patient.code))
    # The words of a long reply with the notice above them are more than one message holds: in parts.
    if told:
        staff_chat_id = await staff_chat.destination(session)
        for part in split("\n".join(told), TEXT_LIMIT):
            await outbox.enqueue(
                session=session, kind="staff", chat_id=staff_chat_id, text=part, patient_id=patient.id, now=now
            )
    return patient.id if news else None


# Words refused longer ago than this say when they were written, when they go at last.
LATE = timedelta(hours=1)


def _dated(text: str, queued_at: datetime, *, now: datetime, sent_late: Callable[[datetime], str]) -> str:
    """`text` under the line saying when it was written, when that was LATE ago or more (and the two fit in
    one message: a reply that fills one, rare, goes as it was)."""
    line = sent_late(queued_at)
    if now - queued_at < LATE or text.startswith(f"{line}\n"):  # refused again after a comeback: dated already
        return text
    late = f"{line}\n{text}"
    return late if units(late) <= TEXT_LIMIT else text


async def reachable_again(
    database: Database,
    *,
    patient_id: int,
    now: datetime,
    scheduler: Scheduler,
    staff_chat: StaffChat,
    staff_text: Callable[[str, int], str],
    sent_late: Callable[[datetime], str],
    hold: timedelta,
) -> int | None:
    """A patient who had blocked the bot can be reached again (they unblocked it, or wrote to it): their
    check-ins start again from the next slot, what Telegram refused to send them since they blocked it (a
    staff reply, the crisis text) is owed again, in order, and staff are told (`staff_text(code, how many)`),
    all in one transaction. Once: of two updates saying so at once, one does it. Words written more than
    LATE ago go under `sent_late(when written)`, so that the patient reads them as of then; those written before
    a re-link moved the record here wait for its `hold` to end (held_until). A /pause is kept.
    Returns how many messages are owed again, or None when the patient was not unreachable."""
    async with database.session() as session:
        # The patient's row first (the update locks it), in the order an erasure takes them.
        if not await patients.change_status(
            session=session, patient_id=patient_id, old=PatientStatus.UNREACHABLE, new=PatientStatus.ACTIVE
        ):
            return None
        patient = await patients.by_id(session=session, patient_id=patient_id)
        if patient is None:
            return None
        await scheduler.resume_in(session, patient_id=patient_id, now=now)
        owed = 0
        until = held_until(patient, now=now, hold=hold)
        held = (patient.moved_at, until) if until is not None and patient.moved_at is not None else None
        if patient.chat_id is not None:
            owed = await outbox.send_again_refused(
                session=session,
                patient_id=patient_id,
                chat_id=patient.chat_id,
                now=now,
                dated=lambda queued_at, text: _dated(text, queued_at, now=now, sent_late=sent_late),
                held=held,
            )
        await outbox.enqueue(
            session=session,
            kind="staff",
            chat_id=await staff_chat.destination(session),
            text=staff_text(patient.code, owed),
            patient_id=patient_id,
            now=now,
        )
    return owed
