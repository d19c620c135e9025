"""Named tallies: what we count instead of storing (e.g. messages from people never invited)."""

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
