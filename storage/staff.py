"""Query functions for staff members and their roles."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute, insert
from storage.models import StaffMember, table

STAFF = table(StaffMember)


async def role(*, session: AsyncSession, telegram_user_id: int, kept: bool = False) -> str | None:
    """`kept`: the member's row locked against removal (FOR SHARE) until the transaction ends: what this
    transaction does in their name is done while they are staff, and a removal waiting for it sees it.
    As for `admins`, on SQLite only after the transaction's first write."""
    statement = select(STAFF.c.role).where(STAFF.c.telegram_user_id == telegram_user_id)
    found = (await execute(session, statement.with_for_update(read=True) if kept else statement)).scalar_one_or_none()
    return str(found) if found is not None else None


async def add(*, session: AsyncSession, telegram_user_id: int, role: str, now: datetime, name: str = "") -> None:
    statement = insert(session, STAFF).values(telegram_user_id=telegram_user_id, role=role, name=name, added_at=now)
    await execute(session, statement.on_conflict_do_update(index_elements=["telegram_user_id"], set_={"role": role}))


async def seed_admins(*, session: AsyncSession, telegram_user_ids: list[int], now: datetime) -> None:
    """ADMIN_TELEGRAM_IDS are admins; existing rows are made admin, nobody is demoted."""
    for user_id in telegram_user_ids:
        await add(session=session, telegram_user_id=user_id, role="admin", now=now)


async def set_name(*, session: AsyncSession, telegram_user_id: int, name: str) -> None:
    await execute(session, update(STAFF).where(STAFF.c.telegram_user_id == telegram_user_id).values(name=name[:64]))


async def names(*, session: AsyncSession, telegram_user_ids: list[int]) -> dict[int, str]:
    if not telegram_user_ids:
        return {}
    result = await execute(
        session, select(STAFF.c.telegram_user_id, STAFF.c.name).where(STAFF.c.telegram_user_id.in_(telegram_user_ids))
    )
    return {int(i): str(n) for i, n in result.all()}


async def admins(*, session: AsyncSession, kept: bool = False) -> list[int]:
    """`kept`: their rows locked against removal (FOR SHARE) until the transaction ends, for what is queued
    for them in it: a removal waiting for it then finds it, and skips it (bot/team.py). SQLite has no FOR
    SHARE: its write lock keeps them, which a transaction holds from its first write only (the driver
    begins it there, storage/database.py), so read them kept after one."""
    statement = select(STAFF.c.telegram_user_id).where(STAFF.c.role == "admin")
    result = await execute(session, statement.with_for_update(read=True) if kept else statement)
    return [int(i) for i in result.scalars()]


async def members(*, session: AsyncSession) -> list[StaffMember]:
    result = await execute(session, select(STAFF).order_by(STAFF.c.role, STAFF.c.telegram_user_id))
    return [StaffMember(**row._mapping) for row in result.all()]


async def remove(*, session: AsyncSession, telegram_user_id: int) -> bool:
    result = await execute(session, delete(STAFF).where(STAFF.c.telegram_user_id == telegram_user_id))
    return bool(result.rowcount)
