"""Query functions for the audit log: who read, exported or changed what, and when."""

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import AuditEvent, table

AUDIT = table(AuditEvent)


async def record(
    *,
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    now: datetime,
    patient_code: str | None = None,
    detail: str = "",
) -> None:
    await execute(
        session,
        AUDIT.insert().values(at=now, actor_id=actor_id, action=action, patient_code=patient_code, detail=detail[:200]),
    )


async def since(*, session: AsyncSession, start: datetime | None = None) -> list[AuditEvent]:
    statement = select(AUDIT).order_by(AUDIT.c.at, AUDIT.c.id)
    if start is not None:
        statement = statement.where(AUDIT.c.at >= start)
    return [AuditEvent(**row._mapping) for row in (await execute(session, statement)).all()]


async def forget_patient(*, session: AsyncSession, code: str) -> None:
    """After an erasure the events stay (someone did read or export), but no longer say about whom."""
    await execute(session, update(AUDIT).where(AUDIT.c.patient_code == code).values(patient_code=None))


async def happened(*, session: AsyncSession, action: str, code: str, start: datetime) -> bool:
    """Whether an event of this action about this patient was recorded at `start` or later."""
    statement = select(AUDIT.c.id).where(AUDIT.c.action == action, AUDIT.c.patient_code == code, AUDIT.c.at >= start)
    return (await execute(session, statement.limit(1))).first() is not None


async def about_patient(*, session: AsyncSession, code: str, limit: int = 50) -> list[AuditEvent]:
    """What was done with one patient's record, newest first (a record page shows who viewed it)."""
    statement = select(AUDIT).where(AUDIT.c.patient_code == code).order_by(AUDIT.c.at.desc(), AUDIT.c.id.desc())
    return [AuditEvent(**row._mapping) for row in (await execute(session, statement.limit(limit))).all()]
