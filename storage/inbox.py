"""The durable inbox: raw updates are stored before Telegram is told we have them."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboxUpdate
from storage.upsert import insert


async def store_new(*, session: AsyncSession, updates: Sequence[tuple[int, str]], now: datetime) -> set[int]:
    """Insert the updates not seen before and return their ids (a re-delivered update is not new)."""
    if not updates:
        return set()
    statement = (
        insert(session, InboxUpdate)
        .values([{"update_id": uid, "payload": payload, "received_at": now} for uid, payload in updates])
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(col(InboxUpdate.update_id))
    )
    result = await session.exec(statement)
    return {row[0] for row in result.all()}


async def unfinished(*, session: AsyncSession) -> list[tuple[int, str]]:
    result = await session.exec(
        select(InboxUpdate.update_id, InboxUpdate.payload)
        .where(col(InboxUpdate.processed_at).is_(None))
        .order_by(col(InboxUpdate.update_id))
    )
    return [(uid, payload) for uid, payload in result.all() if payload is not None]


async def mark_processed(*, session: AsyncSession, update_ids: Sequence[int], now: datetime) -> None:
    """Done: keep the number (to recognise a re-delivery) and drop the content."""
    await session.exec(
        update(InboxUpdate).where(col(InboxUpdate.update_id).in_(update_ids)).values(processed_at=now, payload=None)
    )
