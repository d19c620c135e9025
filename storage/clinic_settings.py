"""Query functions for clinic-wide settings chosen in the running bot (the staff chat)."""

from datetime import datetime

from sqlalchemy import select, update
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


async def replace(*, session: AsyncSession, name: str, old: str | None, new: str, now: datetime) -> bool:
    """Set `name` to `new` only if it still holds `old` (None: not set), so that of two transactions
    making the same change at once only one does; False for the other."""
    if old is None:
        statement = insert(session, SETTINGS).values(name=name, value=new, changed_at=now)
        result = await execute(session, statement.on_conflict_do_nothing(index_elements=["name"]))
    else:
        result = await execute(
            session,
            update(SETTINGS).where(SETTINGS.c.name == name, SETTINGS.c.value == old).values(value=new, changed_at=now),
        )
    return bool(result.rowcount)
