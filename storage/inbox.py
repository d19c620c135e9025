"""The durable inbox: raw updates are stored before Telegram is told we have them."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, delete, false, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute, insert
from storage.models import InboxUpdate, table

INBOX = table(InboxUpdate)


class Unfinished(NamedTuple):
    update_id: int
    payload: str
    received_at: datetime
    failing_since: datetime | None  # when its handling first failed
    crisis_text_at: datetime | None  # when the person got the crisis text from the error handler


async def store_new(
    *,
    session: AsyncSession,
    updates: Sequence[tuple[int, str]],
    now: datetime,
    crisis_text_sent: Collection[int] = (),
    owner: str | None = None,
    leased_until: datetime | None = None,
) -> set[int]:
    """Insert the updates not seen before and return their ids (a re-delivered update is not new).
    `crisis_text_sent`: updates handled from memory before they could be stored, whose person got the
    crisis text then (see `crisis_text_went`). `owner`: the process that handles them (see `take`)."""
    if not updates:
        return set()
    statement = (
        insert(session, INBOX)
        .values(
            [
                {
                    "update_id": uid,
                    "payload": payload,
                    "received_at": now,
                    "crisis_text_at": now if uid in crisis_text_sent else None,
                    "owner": owner,
                    "leased_until": leased_until,
                }
                for uid, payload in updates
            ]
        )
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(INBOX.c.update_id)
    )
    result = await execute(session, statement)
    return {row[0] for row in result.all()}


async def unfinished(*, session: AsyncSession, before: datetime | None = None) -> list[Unfinished]:
    """Updates not yet processed (stored before `before`), oldest first."""
    query = select(
        INBOX.c.update_id, INBOX.c.payload, INBOX.c.received_at, INBOX.c.failing_since, INBOX.c.crisis_text_at
    ).where(INBOX.c.processed_at.is_(None))
    if before is not None:
        query = query.where(INBOX.c.received_at < before)
    result = await execute(session, query.order_by(INBOX.c.update_id))
    return [Unfinished(*row) for row in result.all() if row.payload is not None]


async def owners(*, session: AsyncSession) -> set[str]:
    """The processes that hold unfinished updates."""
    result = await execute(
        session,
        select(INBOX.c.owner).distinct().where(INBOX.c.processed_at.is_(None), INBOX.c.owner.is_not(None)),
    )
    return {row[0] for row in result.all()}


async def take(
    *,
    session: AsyncSession,
    owner: str,
    now: datetime,
    leased_until: datetime,
    ended: Collection[str],
    unknown: Collection[str],
    unowned_before: datetime | None,
) -> list[Unfinished]:
    """Unfinished updates another process left, now `owner`'s until `leased_until`, oldest first: those of processes
    known to have `ended`, those of processes this one cannot see (`unknown`: another machine's) whose lease ran out,
    and those stored before owners were kept, stored before `unowned_before` (all of them when None). One taken
    meanwhile by another process, or whose lease its owner renewed, is not taken."""
    unowned = INBOX.c.owner.is_(None)
    left = or_(
        INBOX.c.owner.in_(list(ended)) if ended else false(),
        and_(INBOX.c.owner.in_(list(unknown)), INBOX.c.leased_until < now) if unknown else false(),
        unowned if unowned_before is None else and_(unowned, INBOX.c.received_at < unowned_before),
    )
    result = await execute(
        session,
        update(INBOX)
        .where(INBOX.c.processed_at.is_(None), INBOX.c.payload.is_not(None), left)
        .values(owner=owner, leased_until=leased_until)
        .returning(
            INBOX.c.update_id, INBOX.c.payload, INBOX.c.received_at, INBOX.c.failing_since, INBOX.c.crisis_text_at
        ),
    )
    return sorted((Unfinished(*row) for row in result.all()), key=lambda row: row.update_id)


async def renew(*, session: AsyncSession, owner: str, leased_until: datetime) -> None:
    """`owner` runs on: what it holds unfinished stays its own until `leased_until`."""
    await execute(
        session,
        update(INBOX).where(INBOX.c.owner == owner, INBOX.c.processed_at.is_(None)).values(leased_until=leased_until),
    )


async def mark_processed(*, session: AsyncSession, update_ids: Sequence[int], now: datetime) -> None:
    """Done: keep the number (to recognise a re-delivery) and drop the content."""
    await execute(
        session,
        update(INBOX).where(INBOX.c.update_id.in_(update_ids)).values(processed_at=now, payload=None),
    )


async def failing_since(*, session: AsyncSession, update_id: int, now: datetime) -> datetime | None:
    """When the update's handling first failed (`now` if this is the first time); None when it is not
    stored (it came while the database was away)."""
    await execute(
        session,
        update(INBOX).where(INBOX.c.update_id == update_id, INBOX.c.failing_since.is_(None)).values(failing_since=now),
    )
    result = await execute(session, select(INBOX.c.failing_since).where(INBOX.c.update_id == update_id))
    return result.scalar_one_or_none()


async def crisis_text_went(*, session: AsyncSession, update_ids: Collection[int], now: datetime) -> None:
    """The person got the crisis text for these updates straight from the error handler (their message
    could not be stored): a later try that stores the message does not queue it again, after a restart
    too. The first time is kept."""
    await execute(
        session,
        update(INBOX)
        .where(INBOX.c.update_id.in_(list(update_ids)), INBOX.c.crisis_text_at.is_(None))
        .values(crisis_text_at=now),
    )


async def purge_processed(*, session: AsyncSession, before: datetime) -> int:
    result = await execute(session, delete(INBOX).where(INBOX.c.processed_at < before))
    return int(result.rowcount)


async def seen(*, session: AsyncSession, update_id: int) -> bool:
    result = await execute(session, select(INBOX.c.update_id).where(INBOX.c.update_id == update_id))
    return result.first() is not None
