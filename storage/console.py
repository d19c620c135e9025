"""Query functions for the web console: sign-in links and sessions (looked up by hashes, never by the
secrets themselves) and a record's messages. (The patient panel's queries: storage/summaries.py.)"""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import (
    AuditEvent,
    ConsoleLink,
    ConsoleSession,
    PatientMessage,
    table,
)

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


async def void_links_of(*, session: AsyncSession, telegram_user_id: int) -> None:
    """Their sign-in links not yet used stop working (someone removed from staff)."""
    await execute(session, delete(LINKS).where(LINKS.c.telegram_user_id == telegram_user_id, LINKS.c.used_at.is_(None)))


async def withdraw_links(*, session: AsyncSession, token_hashes: list[str], now: datetime) -> list[int]:
    """Delete the sign-in links not yet used nor expired with these token hashes; whose each was."""
    result = await execute(
        session,
        delete(LINKS)
        .where(LINKS.c.token_hash.in_(token_hashes), LINKS.c.used_at.is_(None), LINKS.c.expires_at > now)
        .returning(LINKS.c.telegram_user_id),
    )
    return [int(row[0]) for row in result.all()]


async def forget_idle(*, session: AsyncSession, idle_since: datetime) -> None:
    await execute(session, delete(SESSIONS).where(SESSIONS.c.last_seen_at <= idle_since))


async def sessions_of(*, session: AsyncSession, telegram_user_id: int) -> int:
    result = await execute(session, select(SESSIONS.c.id).where(SESSIONS.c.telegram_user_id == telegram_user_id))
    return len(result.all())


# ---------------------------------------------------------------------------------------------- the record

MESSAGES = table(PatientMessage)
AUDIT = table(AuditEvent)
# What a patient sent the care team, as the record's Messages show it: not check-in notes or typed
# answers (the diary shows those), but messages, edits of them and requests to be contacted.
FOR_THE_CARE_TEAM = ("message", "request")


async def messages_of(*, session: AsyncSession, patient_id: int, since: datetime) -> list[PatientMessage]:
    """What the patient sent the care team since `since`, oldest first."""
    result = await execute(
        session,
        select(MESSAGES)
        .where(
            MESSAGES.c.patient_id == patient_id,
            MESSAGES.c.filed_as.in_(FOR_THE_CARE_TEAM),
            MESSAGES.c.received_at >= since,
        )
        .order_by(MESSAGES.c.received_at, MESSAGES.c.id),
    )
    return [PatientMessage(**row._mapping) for row in result.all()]


async def replies_to(*, session: AsyncSession, code: str, since: datetime) -> list[AuditEvent]:
    """Staff replies to the patient since `since`, oldest first: the audit rows they left (who, when, how
    long). Their texts are not kept once delivered (storage/outbox.py)."""
    result = await execute(
        session,
        select(AUDIT)
        .where(AUDIT.c.patient_code == code, AUDIT.c.action == "reply_to_patient", AUDIT.c.at >= since)
        .order_by(AUDIT.c.at, AUDIT.c.id),
    )
    return [AuditEvent(**row._mapping) for row in result.all()]
