"""Query functions for wrong invite tokens: the limit on guessing, kept across restarts."""

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import WrongToken, table

WRONG = table(WrongToken)


async def record(*, session: AsyncSession, telegram_user_id: int, now: datetime) -> None:
    await execute(session, WRONG.insert().values(telegram_user_id=telegram_user_id, at=now))


async def count_since(*, session: AsyncSession, telegram_user_id: int, since: datetime) -> int:
    result = await execute(
        session,
        select(func.count()).where(WRONG.c.telegram_user_id == telegram_user_id, WRONG.c.at > since),
    )
    return int(result.scalar_one())


async def forget_before(*, session: AsyncSession, before: datetime) -> None:
    await execute(session, delete(WRONG).where(WRONG.c.at <= before))
