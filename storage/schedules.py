"""Query functions for schedules: the scheduler's state lives here, not in memory."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute, insert
from storage.models import Patient, Schedule, table

SCHEDULES = table(Schedule)
PATIENTS = table(Patient)


@dataclass(frozen=True)
class Due:
    """A schedule whose next slot is due, with what the dispatcher needs of its patient."""

    schedule: Schedule
    chat_id: int | None
    status: str


async def get(*, session: AsyncSession, patient_id: int) -> Schedule | None:
    row = (await execute(session, select(SCHEDULES).where(SCHEDULES.c.patient_id == patient_id))).first()
    return Schedule(**row._mapping) if row else None


async def put(
    *,
    session: AsyncSession,
    patient_id: int,
    times: str,
    days: str,
    timezone: str,
    next_local_date: date | None,
    next_slot: str | None,
    next_due_at: datetime | None,
) -> None:
    """Create or replace the patient's schedule (pause and quiet hours are kept)."""
    values = {
        "times": times,
        "days": days,
        "timezone": timezone,
        "next_local_date": next_local_date,
        "next_slot": next_slot,
        "next_due_at": next_due_at,
    }
    statement = insert(session, SCHEDULES).values(patient_id=patient_id, **values)
    await execute(session, statement.on_conflict_do_update(index_elements=["patient_id"], set_=values))


async def claim_due(*, session: AsyncSession, now: datetime, limit: int) -> list[Due]:
    """Due schedules, locked for this transaction. On PostgreSQL, rows another process holds are
    skipped (SKIP LOCKED), so several processes share a wave without sending twice. Their patients are
    taken with them, before the check-ins referring to them are written: an erasure locks the patient and
    then deletes the schedule, and a schedule taken alone had each wait for the other (PostgreSQL failed
    one of them, the erasure or the whole batch). One whose patient is being changed or erased is skipped:
    the next tick has it."""
    statement = (
        select(SCHEDULES, PATIENTS.c.chat_id, PATIENTS.c.status)
        .join(PATIENTS, PATIENTS.c.id == SCHEDULES.c.patient_id)
        .where(SCHEDULES.c.next_due_at <= now)
        .order_by(SCHEDULES.c.next_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True, of=[SCHEDULES, PATIENTS])  # FOR NO KEY UPDATE
    )
    rows = (await execute(session, statement)).all()
    due = []
    for row in rows:
        fields = dict(row._mapping)
        chat_id, status = fields.pop("chat_id"), fields.pop("status")
        due.append(Due(Schedule(**fields), chat_id, status))
    return due


async def advance(
    *,
    session: AsyncSession,
    patient_id: int,
    next_local_date: date | None,
    next_slot: str | None,
    next_due_at: datetime | None,
) -> None:
    await execute(
        session,
        update(SCHEDULES)
        .where(SCHEDULES.c.patient_id == patient_id)
        .values(next_local_date=next_local_date, next_slot=next_slot, next_due_at=next_due_at),
    )


async def advance_many(*, session: AsyncSession, slots: list[tuple[int, date, str, datetime]]) -> None:
    """Move many schedules, (patient id, local date, slot, due instant) each, in one statement."""
    if not slots:
        return
    statement = (
        update(SCHEDULES)
        .where(SCHEDULES.c.patient_id == bindparam("pid"))
        .values(next_local_date=bindparam("day"), next_slot=bindparam("slot"), next_due_at=bindparam("due"))
    )
    await execute(
        session,
        statement,
        [{"pid": pid, "day": day, "slot": slot, "due": due} for pid, day, slot, due in slots],
    )


async def stop(*, session: AsyncSession, patient_id: int) -> None:
    """No more check-ins until the schedule is started again (blocked, discharged)."""
    await advance(session=session, patient_id=patient_id, next_local_date=None, next_slot=None, next_due_at=None)


async def set_paused_until(*, session: AsyncSession, patient_id: int, until: datetime | None) -> None:
    await execute(session, update(SCHEDULES).where(SCHEDULES.c.patient_id == patient_id).values(paused_until=until))


async def earliest_due(*, session: AsyncSession) -> datetime | None:
    result = await execute(session, select(func.min(SCHEDULES.c.next_due_at)))
    value = result.scalar()
    return value if isinstance(value, datetime) else None


async def set_quiet_hours(*, session: AsyncSession, patient_id: int, quiet_hours: str | None) -> None:
    await execute(
        session, update(SCHEDULES).where(SCHEDULES.c.patient_id == patient_id).values(quiet_hours=quiet_hours)
    )
