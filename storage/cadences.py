"""Query functions for per-patient questionnaire cadences."""

from sqlalchemy import delete, insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import InstrumentCadence, table

CADENCES = table(InstrumentCadence)


async def of_patient(*, session: AsyncSession, patient_id: int) -> dict[str, int]:
    """The patient's own cadences by questionnaire id, in days (0: not offered to them)."""
    result = await execute(
        session,
        select(CADENCES.c.questionnaire, CADENCES.c.every_days).where(CADENCES.c.patient_id == patient_id),
    )
    return {name: days for name, days in result.all()}


async def set_for_patient(*, session: AsyncSession, patient_id: int, cadences: dict[str, int | None]) -> None:
    """Set each named cadence; None goes back to the clinic's."""
    for name, days in cadences.items():
        await execute(
            session,
            delete(CADENCES).where(CADENCES.c.patient_id == patient_id, CADENCES.c.questionnaire == name),
        )
        if days is not None:
            await execute(session, insert(CADENCES).values(patient_id=patient_id, questionnaire=name, every_days=days))
