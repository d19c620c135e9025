"""Query functions for the safety-screening question staff last asked each patient (bot/care_team/screening.py).

A question is told from a newer one by its first outbox message (`first_outbox_id`): what marks one answered or
closes it changes that question only, never one a colleague asked meanwhile."""

from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute, insert
from storage.models import OutboxMessage, PatientMessage, ScreeningQuestion, table

QUESTIONS = table(ScreeningQuestion)
MESSAGES = table(PatientMessage)
OUTBOX = table(OutboxMessage)


async def asked(*, session: AsyncSession, patient_id: int) -> ScreeningQuestion | None:
    row = (await execute(session, select(QUESTIONS).where(QUESTIONS.c.patient_id == patient_id))).first()
    return ScreeningQuestion(**row._mapping) if row else None


async def ask(*, session: AsyncSession, question: ScreeningQuestion, waiting_since: datetime) -> None:
    """Remember the question asked, in place of the one before; or joined to it while that one still waits for the
    patient's first word (asked after `waiting_since`, unanswered, not closed, no message of theirs since), each
    answer worrying as to either. Decided in the one statement, on the row as it stands when written: two staff
    members asking at the same moment both count."""
    # A new question is neither answered nor closed (model_dump leaves out the fields not set).
    values = question.model_dump() | {"closes_at": question.closes_at, "answered_at": question.answered_at}
    statement = insert(session, QUESTIONS).values(**values)
    new = statement.excluded
    joined = and_(
        QUESTIONS.c.answered_at.is_(None),
        QUESTIONS.c.asked_at > waiting_since,
        or_(QUESTIONS.c.closes_at.is_(None), QUESTIONS.c.closes_at > question.asked_at),
        QUESTIONS.c.after_message_id == new.after_message_id,
    )
    changed = {name: value for name, value in values.items() if name != "patient_id"} | {
        "yes_worries": case((joined, or_(QUESTIONS.c.yes_worries, new.yes_worries)), else_=new.yes_worries),
        "no_worries": case((joined, or_(QUESTIONS.c.no_worries, new.no_worries)), else_=new.no_worries),
        "question": case((joined, QUESTIONS.c.question.concat(" ").concat(new.question)), else_=new.question),
        "first_outbox_id": case((joined, QUESTIONS.c.first_outbox_id), else_=new.first_outbox_id),
    }
    await execute(session, statement.on_conflict_do_update(index_elements=["patient_id"], set_=changed))


def _the(question: ScreeningQuestion) -> ColumnElement[bool]:
    return and_(QUESTIONS.c.patient_id == question.patient_id, QUESTIONS.c.first_outbox_id == question.first_outbox_id)


async def answered(*, session: AsyncSession, question: ScreeningQuestion, now: datetime) -> None:
    """The question's worrying answer was heard (not a newer question's, asked meanwhile)."""
    await execute(session, update(QUESTIONS).where(_the(question)).values(answered_at=now))


async def close(*, session: AsyncSession, question: ScreeningQuestion, at: datetime) -> None:
    """The patient's words stop being read as the question's answer at `at` (sooner, if so already)."""
    closes = case((QUESTIONS.c.closes_at < at, QUESTIONS.c.closes_at), else_=at)
    await execute(session, update(QUESTIONS).where(_the(question)).values(closes_at=closes))


async def brought(*, session: AsyncSession, question: ScreeningQuestion, chat_id: int, message_id: int) -> bool:
    """Whether the patient's message `message_id` in chat `chat_id` is one that brought them the question."""
    found = await execute(
        session,
        select(OUTBOX.c.id).where(
            OUTBOX.c.id.between(question.first_outbox_id, question.last_outbox_id),
            OUTBOX.c.patient_id == question.patient_id,
            OUTBOX.c.kind == "patient",
            OUTBOX.c.chat_id == chat_id,
            OUTBOX.c.message_id == message_id,
        ),
    )
    return found.first() is not None


async def newest_message(*, session: AsyncSession, patient_id: int) -> int:
    """The number of the patient's newest stored message (0: none)."""
    found = await execute(session, select(func.max(MESSAGES.c.id)).where(MESSAGES.c.patient_id == patient_id))
    return int(found.scalar_one() or 0)


async def messages_between(*, session: AsyncSession, patient_id: int, after: int, before: int | None = None) -> int:
    """How many messages the patient sent the care team (their own: not forwards, notes, typed answers, requests or
    edits) stored after message `after` (and before message `before`)."""
    where = [
        MESSAGES.c.patient_id == patient_id,
        MESSAGES.c.id > after,
        MESSAGES.c.filed_as == "message",
        MESSAGES.c.kind != "edit",
        MESSAGES.c.forwarded.is_(False),
    ]
    if before is not None:
        where.append(MESSAGES.c.id < before)
    return int((await execute(session, select(func.count()).where(*where))).scalar_one())
