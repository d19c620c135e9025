"""Query functions for infusions."""

from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import summaries
from storage.core import execute, insert
from storage.models import Infusion, Patient, table
from storage.statuses import PatientStatus

INFUSIONS = table(Infusion)
PATIENTS = table(Patient)


async def record(
    *, session: AsyncSession, patient_id: int, given_on: date, kind: str, now: datetime, by: int | None
) -> bool:
    """Record an infusion; False when one is already recorded for that patient and day."""
    statement = (
        insert(session, INFUSIONS)
        .values(patient_id=patient_id, given_on=given_on, kind=kind, recorded_at=now, recorded_by=by)
        .on_conflict_do_nothing(index_elements=["patient_id", "given_on"])
        .returning(INFUSIONS.c.id)
    )
    recorded = (await execute(session, statement)).first() is not None
    if recorded:
        await summaries.changed(session=session, patient_ids=[patient_id])
    return recorded


async def any_recorded(*, session: AsyncSession, patient_id: int) -> bool:
    """Whether the clinic recorded an infusion of the patient at all (before they enrolled, say)."""
    result = await execute(session, select(INFUSIONS.c.id).where(INFUSIONS.c.patient_id == patient_id).limit(1))
    return result.first() is not None


async def since(*, session: AsyncSession, patient_id: int, since: date) -> list[tuple[date, str]]:
    result = await execute(
        session,
        select(INFUSIONS.c.given_on, INFUSIONS.c.kind)
        .where(INFUSIONS.c.patient_id == patient_id, INFUSIONS.c.given_on >= since)
        .order_by(INFUSIONS.c.given_on),
    )
    return [(d, str(k)) for d, k in result.all()]


async def patients_with(*, session: AsyncSession, statuses: tuple[PatientStatus, ...]) -> list[int]:
    """Patients in one of these states with at least one infusion recorded."""
    result = await execute(
        session,
        select(INFUSIONS.c.patient_id)
        .join(PATIENTS, PATIENTS.c.id == INFUSIONS.c.patient_id)
        .where(PATIENTS.c.status.in_(statuses))
        .distinct(),
    )
    return [int(patient_id) for patient_id in result.scalars()]


async def latest_per_patient(*, session: AsyncSession, patient_ids: list[int]) -> dict[int, date]:
    """Each patient's most recent infusion day (patients with none are left out)."""
    result = await execute(
        session,
        select(INFUSIONS.c.patient_id, func.max(INFUSIONS.c.given_on))
        .where(INFUSIONS.c.patient_id.in_(patient_ids))
        .group_by(INFUSIONS.c.patient_id),
    )
    return {int(patient_id): given for patient_id, given in result.all()}


async def of_everyone(*, session: AsyncSession, since: date) -> dict[int, list[tuple[date, str]]]:
    """Every patient's infusions given on or after `since`, by patient id, oldest first."""
    result = await execute(
        session,
        select(INFUSIONS.c.patient_id, INFUSIONS.c.given_on, INFUSIONS.c.kind)
        .where(INFUSIONS.c.given_on >= since)
        .order_by(INFUSIONS.c.patient_id, INFUSIONS.c.given_on),
    )
    found: dict[int, list[tuple[date, str]]] = {}
    for patient_id, given_on, kind in result.all():
        found.setdefault(int(patient_id), []).append((given_on, str(kind)))
    return found
