"""Query functions for clinic-wide settings chosen in the running bot (the staff chat)."""

from datetime import datetime

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute, insert
from storage.models import ClinicSetting, table

SETTINGS = table(ClinicSetting)


async def get(*, session: AsyncSession, name: str) -> str | None:
    result = await execute(session, select(SETTINGS.c.value).where(SETTINGS.c.name == name))
    found = result.scalar_one_or_none()
    return str(found) if found is not None else None


async def put(*, session: AsyncSession, name: str, value: str, now: datetime) -> None:
    statement = insert(session, SETTINGS).values(name=name, value=value, changed_at=now)
    await execute(
        session, statement.on_conflict_do_update(index_elements=["name"], set_={"value": value, "changed_at": now})
    )
