"""Query functions for the web console's sign-in links and sessions (looked up by hashes, never by the
secrets themselves)."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import ConsoleLink, ConsoleSession, table

LINKS = table(ConsoleLink)
SESSIONS = table(ConsoleSession)


async def add_link(
    *, session: AsyncSession, token_hash: str, telegram_user_id: int, role: str, now: datetime, expires_at: datetime
) -> None:
    await execute(
        session,
        LINKS.insert().values(
            token_hash=token_hash, telegram_user_id=telegram_user_id, role=role, created_at=now, expires_at=expires_at
        ),
    )


async def claim_link(*, session: AsyncSession, token_hash: str, now: datetime) -> ConsoleLink | None:
    """Mark the link used and return it; None when there is no such link, it expired, or it was used
    (by this request's twin too: the UPDATE is guarded, so two presses cannot both sign in)."""
    result = await execute(
        session,
        update(LINKS)
        .where(LINKS.c.token_hash == token_hash, LINKS.c.used_at.is_(None), LINKS.c.expires_at > now)
        .values(used_at=now)
        .returning(*LINKS.c),
    )
    row = result.first()
    return ConsoleLink(**row._mapping) if row else None


async def forget_links(*, session: AsyncSession, before: datetime) -> None:
    """Links made before `before` have long expired: nothing about them is worth keeping."""
    await execute(session, delete(LINKS).where(LINKS.c.created_at < before))


async def add_session(*, session: AsyncSession, session_hash: str, telegram_user_id: int, now: datetime) -> None:
    await execute(
        session,
        SESSIONS.insert().values(
            session_hash=session_hash, telegram_user_id=telegram_user_id, created_at=now, last_seen_at=now
        ),
    )


async def touch_session(*, session: AsyncSession, session_hash: str, now: datetime, idle_since: datetime) -> int | None:
    """The staff member's Telegram id when the session exists and was used after `idle_since` (it is
    then marked seen now); None otherwise."""
    result = await execute(
        session,
        update(SESSIONS)
        .where(SESSIONS.c.session_hash == session_hash, SESSIONS.c.last_seen_at > idle_since)
        .values(last_seen_at=now)
        .returning(SESSIONS.c.telegram_user_id),
    )
    found = result.scalar_one_or_none()
    return int(found) if found is not None else None


async def end_session(*, session: AsyncSession, session_hash: str) -> None:
    await execute(session, delete(SESSIONS).where(SESSIONS.c.session_hash == session_hash))


async def end_sessions_of(*, session: AsyncSession, telegram_user_id: int) -> None:
    await execute(session, delete(SESSIONS).where(SESSIONS.c.telegram_user_id == telegram_user_id))


async def forget_idle(*, session: AsyncSession, idle_since: datetime) -> None:
    await execute(session, delete(SESSIONS).where(SESSIONS.c.last_seen_at <= idle_since))


async def sessions_of(*, session: AsyncSession, telegram_user_id: int) -> int:
    result = await execute(session, select(SESSIONS.c.id).where(SESSIONS.c.telegram_user_id == telegram_user_id))
    return len(result.all())
