"""Query functions for the safety-screening question staff last asked each patient (bot/care_team/screening.py)."""

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute, insert
from storage.models import PatientMessage, ScreeningQuestion, table

QUESTIONS = table(ScreeningQuestion)
MESSAGES = table(PatientMessage)


async def asked(*, session: AsyncSession, patient_id: int) -> ScreeningQuestion | None:
    row = (await execute(session, select(QUESTIONS).where(QUESTIONS.c.patient_id == patient_id))).first()
    return ScreeningQuestion(**row._mapping) if row else None


async def ask(*, session: AsyncSession, question: ScreeningQuestion) -> None:
    """Remember the question asked (in place of the one before)."""
    values = question.model_dump()
    statement = insert(session, QUESTIONS).values(**values)
    changed = {name: value for name, value in values.items() if name != "patient_id"}
    await execute(session, statement.on_conflict_do_update(index_elements=["patient_id"], set_=changed))


async def forget(*, session: AsyncSession, patient_id: int) -> None:
    await execute(session, delete(QUESTIONS).where(QUESTIONS.c.patient_id == patient_id))


async def answered(*, session: AsyncSession, patient_id: int, now: datetime) -> None:
    await execute(session, update(QUESTIONS).where(QUESTIONS.c.patient_id == patient_id).values(answered_at=now))


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
