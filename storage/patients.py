"""Query functions for patients."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy import select as select_rows
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute, insert
from storage.models import CheckIn, FormerAccount, Invite, Patient, Schedule, table
from storage.statuses import PatientStatus


async def by_telegram_user(*, session: AsyncSession, telegram_user_id: int) -> Patient | None:
    """Runs for every update (the sender gate), so it is a Core select, detached from the session."""
    patients = table(Patient)
    row = (await execute(session, select_rows(patients).where(patients.c.telegram_user_id == telegram_user_id))).first()
    return Patient(**row._mapping) if row else None


async def by_code(*, session: AsyncSession, code: str) -> Patient | None:
    result = await session.exec(select(Patient).where(Patient.code == code))
    return result.first()


async def statuses(*, session: AsyncSession, codes: list[str]) -> dict[str, str]:
    """The status of each of these codes that is a patient's already (invited, active, ...)."""
    found = await session.exec(select(Patient.code, Patient.status).where(col(Patient.code).in_(codes)))
    return dict(found.all())


async def get_or_create(*, session: AsyncSession, code: str, language: str, timezone: str, now: datetime) -> Patient:
    patient = await by_code(session=session, code=code)
    if patient is None:
        patient = Patient(code=code, language=language, timezone=timezone, created_at=now)
        session.add(patient)
        await session.flush()
    return patient


async def locked(*, session: AsyncSession, code: str, language: str, timezone: str, now: datetime) -> Patient:
    """The patient with this code, made when new, and locked (FOR UPDATE) until the transaction ends:
    two staff making a link for one code at the same instant, or a link accepted while another is
    made, take their turns, so the second sees what the first did (on PostgreSQL; SQLite has one
    writer at a time anyway). A code new to both is made once: the second finds the first's row."""
    made = insert(session, table(Patient)).values(code=code, language=language, timezone=timezone, created_at=now)
    await execute(session, made.on_conflict_do_nothing(index_elements=["code"]))
    statement = select(Patient).where(Patient.code == code).with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).one()


async def lock(*, session: AsyncSession, patient_id: int) -> Patient | None:
    """The patient, locked as `locked` locks them, read again after the lock is taken."""
    statement = (
        select(Patient).where(Patient.id == patient_id).with_for_update().execution_options(populate_existing=True)
    )
    return (await session.exec(statement)).first()


async def keep(*, session: AsyncSession, patient_id: int) -> bool:
    """Whether the patient is still there, their row then kept from erasure until the transaction ends (FOR
    KEY SHARE: what a row referring to them takes, which holds up no other change of theirs). For a
    transaction that changes a row of theirs (an alert) and then adds one referring to them: an erasure
    locks the patient and then deletes those rows, so taking the patient first takes turns with it, where
    the other order has each wait for the other (PostgreSQL ends the deadlock by failing one of them)."""
    patient = table(Patient)
    statement = select_rows(patient.c.id).where(patient.c.id == patient_id).with_for_update(read=True, key_share=True)
    return (await execute(session, statement)).first() is not None


async def set_language(*, session: AsyncSession, patient_id: int, language: str) -> None:
    patient = await session.get(Patient, patient_id)
    if patient is not None:
        patient.language = language


async def by_chat(*, session: AsyncSession, chat_id: int) -> Patient | None:
    result = await session.exec(select(Patient).where(Patient.chat_id == chat_id))
    return result.first()


async def set_status(*, session: AsyncSession, patient_id: int, status: PatientStatus) -> None:
    patient = await session.get(Patient, patient_id)
    if patient is not None:
        patient.status = status


async def change_status(*, session: AsyncSession, patient_id: int, old: PatientStatus, new: PatientStatus) -> bool:
    """Set the status to `new` if it is still `old`, so that of two transactions making the change at once only
    one does (the other waits for it, then finds nothing to change): False for that one."""
    patients = table(Patient)
    result = await execute(
        session,
        update(patients).where(patients.c.id == patient_id, patients.c.status == old).values(status=new),
    )
    return bool(result.rowcount)


async def by_id(*, session: AsyncSession, patient_id: int) -> Patient | None:
    return await session.get(Patient, patient_id)


async def ids_with_status(*, session: AsyncSession, status: PatientStatus) -> list[int]:
    patients = table(Patient)
    result = await execute(session, select_rows(patients.c.id).where(patients.c.status == status))
    return [int(i) for i in result.scalars()]


async def codes_with_status(*, session: AsyncSession, status: PatientStatus) -> list[str]:
    patients = table(Patient)
    result = await execute(
        session, select_rows(patients.c.code).where(patients.c.status == status).order_by(patients.c.code)
    )
    return [str(c) for c in result.scalars()]


async def all_patients(*, session: AsyncSession) -> list[Patient]:
    return list((await session.exec(select(Patient).order_by(col(Patient.code)))).all())


@dataclass(frozen=True)
class Overview:
    code: str
    status: str
    paused_until: datetime | None
    last_checkin_at: datetime | None
    declined: bool  # the newest invite was declined
    patient_id: int = 0


def newest_declined() -> Any:
    """When the patient's newest invite was declined (NULL when it was not), for a query over patients."""
    patients, invites = table(Patient), table(Invite)
    return (
        select_rows(invites.c.declined_at)
        .where(invites.c.patient_id == patients.c.id)
        .order_by(invites.c.created_at.desc(), invites.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


async def overview(*, session: AsyncSession) -> list[Overview]:
    """Every patient with their status, pause and last answered check-in, by code."""
    patients, checkins, schedules = table(Patient), table(CheckIn), table(Schedule)
    last = (
        select_rows(checkins.c.patient_id, func.max(checkins.c.completed_at).label("last"))
        .where(checkins.c.completed_at.is_not(None), checkins.c.questionnaire == "daily")
        .group_by(checkins.c.patient_id)
        .subquery()
    )
    statement = (
        select_rows(
            patients.c.code, patients.c.status, schedules.c.paused_until, last.c.last, newest_declined(), patients.c.id
        )
        .outerjoin(schedules, schedules.c.patient_id == patients.c.id)
        .outerjoin(last, last.c.patient_id == patients.c.id)
        .order_by(patients.c.code)
    )
    rows = (await execute(session, statement)).all()
    return [
        Overview(str(code), str(status), paused, at, declined is not None, int(patient_id))
        for code, status, paused, at, declined, patient_id in rows
    ]


async def erase(*, session: AsyncSession, patient_id: int) -> None:
    """Delete the patient; every row about them goes with it (ON DELETE CASCADE)."""
    await execute(session, delete(table(Patient)).where(table(Patient).c.id == patient_id))


async def left_by(*, session: AsyncSession, telegram_user_id: int, patient_id: int, now: datetime) -> None:
    """A re-link moved the record away from this account now (the newest move from it replaces an older one)."""
    former = table(FormerAccount)
    await execute(session, delete(former).where(former.c.telegram_user_id == telegram_user_id))
    row = {"telegram_user_id": telegram_user_id, "patient_id": patient_id, "left_at": now}
    await execute(session, former.insert().values(**row))


async def formerly_held(*, session: AsyncSession, telegram_user_id: int) -> tuple[str, datetime] | None:
    """The code of the record a re-link moved away from this account, and when, or None: never held one, holds it
    again, or the record was erased (its former accounts with it)."""
    former, patients = table(FormerAccount), table(Patient)
    row = (
        await execute(
            session,
            select_rows(patients.c.code, former.c.left_at)
            .join(former, former.c.patient_id == patients.c.id)
            .where(former.c.telegram_user_id == telegram_user_id, patients.c.telegram_user_id != telegram_user_id),
        )
    ).first()
    return (row.code, row.left_at) if row else None
