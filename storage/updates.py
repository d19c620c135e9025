"""Query functions for the ledger of updates whose effect has been made (see HandledUpdate)."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute, insert
from storage.models import HandledUpdate, table

HANDLED = table(HandledUpdate)


async def first_time(*, session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record the update as handled in this transaction; False when it was handled before."""
    statement = insert(session, HANDLED).values(update_id=update_id, at=now).on_conflict_do_nothing()
    result = await execute(session, statement.returning(HANDLED.c.update_id))
    return result.first() is not None


async def handled(*, session: AsyncSession, update_id: int) -> bool:
    """Whether the update was recorded as handled (by `first_time`)."""
    result = await execute(session, select(HANDLED.c.update_id).where(HANDLED.c.update_id == update_id))
    return result.first() is not None


async def purge(*, session: AsyncSession, before: datetime) -> int:
    result = await execute(session, delete(HANDLED).where(HANDLED.c.at < before))
    return int(result.rowcount)
