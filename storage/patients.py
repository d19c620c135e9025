"""Query functions for patients."""

from datetime import datetime

from sqlalchemy import select as select_rows
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import Patient, table


async def by_telegram_user(*, session: AsyncSession, telegram_user_id: int) -> Patient | None:
    """Runs for every update (the sender gate), so it is a Core select, detached from the session."""
    patients = table(Patient)
    row = (await execute(session, select_rows(patients).where(patients.c.telegram_user_id == telegram_user_id))).first()
    return Patient(**row._mapping) if row else None


async def by_code(*, session: AsyncSession, code: str) -> Patient | None:
    result = await session.exec(select(Patient).where(Patient.code == code))
    return result.first()


async def get_or_create(*, session: AsyncSession, code: str, language: str, timezone: str, now: datetime) -> Patient:
    patient = await by_code(session=session, code=code)
    if patient is None:
        patient = Patient(code=code, language=language, timezone=timezone, created_at=now)
        session.add(patient)
        await session.flush()
    return patient


async def set_language(*, session: AsyncSession, patient_id: int, language: str) -> None:
    patient = await session.get(Patient, patient_id)
    if patient is not None:
        patient.language = language


async def by_chat(*, session: AsyncSession, chat_id: int) -> Patient | None:
    result = await session.exec(select(Patient).where(Patient.chat_id == chat_id))
    return result.first()


async def set_status(*, session: AsyncSession, patient_id: int, status: str) -> None:
    patient = await session.get(Patient, patient_id)
    if patient is not None:
        patient.status = status


async def by_id(*, session: AsyncSession, patient_id: int) -> Patient | None:
    return await session.get(Patient, patient_id)


async def ids_with_status(*, session: AsyncSession, status: str) -> list[int]:
    patients = table(Patient)
    result = await execute(session, select_rows(patients.c.id).where(patients.c.status == status))
    return [int(i) for i in result.scalars()]


async def codes_with_status(*, session: AsyncSession, status: str) -> list[str]:
    patients = table(Patient)
    result = await execute(
        session, select_rows(patients.c.code).where(patients.c.status == status).order_by(patients.c.code)
    )
    return [str(c) for c in result.scalars()]
