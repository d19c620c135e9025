"""Query functions for what patients wrote outside a check-in."""

from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import Patient, PatientMessage, table

MESSAGES = table(PatientMessage)
PATIENTS = table(Patient)


async def add(*, session: AsyncSession, patient_id: int, text: str, crisis: bool, now: datetime) -> None:
    await execute(session, MESSAGES.insert().values(patient_id=patient_id, text=text, crisis=crisis, received_at=now))


async def undigested_counts(*, session: AsyncSession) -> list[tuple[str, int]]:
    """(patient code, messages) for messages no digest has listed yet."""
    result = await execute(
        session,
        select(PATIENTS.c.code, func.count())
        .join(PATIENTS, PATIENTS.c.id == MESSAGES.c.patient_id)
        .where(MESSAGES.c.digested_at.is_(None))
        .group_by(PATIENTS.c.code)
        .order_by(PATIENTS.c.code),
    )
    return [(str(code), int(count)) for code, count in result.all()]


async def mark_digested(*, session: AsyncSession, now: datetime) -> None:
    await execute(session, update(MESSAGES).where(MESSAGES.c.digested_at.is_(None)).values(digested_at=now))
