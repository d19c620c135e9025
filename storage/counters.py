"""Named tallies: what we count instead of storing (e.g. messages from people never invited)."""

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import insert
from storage.models import Counter


async def increment(*, session: AsyncSession, name: str) -> None:
    statement = insert(session, Counter).values(name=name, value=1)
    statement = statement.on_conflict_do_update(index_elements=["name"], set_={"value": col(Counter.value) + 1})
    await session.exec(statement)


async def value(*, session: AsyncSession, name: str) -> int:
    counter = await session.get(Counter, name)
    return counter.value if counter else 0


async def set_value(*, session: AsyncSession, name: str, value: int) -> None:
    statement = insert(session, Counter).values(name=name, value=value)
    await session.exec(statement.on_conflict_do_update(index_elements=["name"], set_={"value": value}))


async def claim_day(*, session: AsyncSession, name: str, day: int) -> bool:
    """Move a day counter (a date's ordinal) forward to `day`; False when it is already there, so of
    several processes only one does a once-a-day job."""
    await session.exec(
        insert(session, Counter).values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"])
    )
    result = await session.exec(
        update(Counter).where(col(Counter.name) == name, col(Counter.value) < day).values(value=day)
    )
    return bool(result.rowcount)
