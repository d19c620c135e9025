"""Query functions for the outbox: every message the bot owes is a row before it is sent."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import OutboxMessage, table

OUTBOX = table(OutboxMessage)


async def enqueue(
    *,
    session: AsyncSession,
    kind: str,
    chat_id: int,
    now: datetime,
    checkin_id: int | None = None,
    alert_id: int | None = None,
    text: str | None = None,
    patient_id: int | None = None,
    not_before: datetime | None = None,
) -> None:
    await execute(
        session,
        OUTBOX.insert().values(
            kind=kind,
            chat_id=chat_id,
            checkin_id=checkin_id,
            alert_id=alert_id,
            text=text,
            patient_id=patient_id,
            status="pending",
            attempts=0,
            not_before=not_before or now,
            created_at=now,
        ),
    )


async def enqueue_many(*, session: AsyncSession, kind: str, now: datetime, messages: list[tuple[int, int]]) -> None:
    """Queue many messages of one kind, (chat id, check-in id) each, in one statement."""
    if messages:
        await execute(
            session,
            OUTBOX.insert(),
            [
                {
                    "kind": kind,
                    "chat_id": chat_id,
                    "checkin_id": checkin_id,
                    "text": None,
                    "status": "pending",
                    "attempts": 0,
                    "not_before": now,
                    "created_at": now,
                }
                for chat_id, checkin_id in messages
            ],
        )


async def claim_one(*, session: AsyncSession, now: datetime) -> OutboxMessage | None:
    """Take the next due message and mark it `sending`: from this commit on it may be on its way, so a
    crash leaves it uncertain rather than sent twice. Rows another process holds are skipped."""
    due = (
        select(OUTBOX.c.id)
        .where(OUTBOX.c.status == "pending", OUTBOX.c.not_before <= now)
        .order_by(OUTBOX.c.not_before, OUTBOX.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = await execute(
        session,
        update(OUTBOX)
        .where(OUTBOX.c.id == due, OUTBOX.c.status == "pending")
        .values(status="sending", claimed_at=now)
        .returning(*OUTBOX.c),
    )
    row = result.first()
    return OutboxMessage(**row._mapping) if row else None


async def finish(
    *,
    session: AsyncSession,
    message_id: int,
    status: str,
    now: datetime,
    telegram_message_id: int | None = None,
    error: str | None = None,
) -> None:
    """Record how sending went. A delivered staff text is dropped: Telegram has it, we need not keep it."""
    values: dict[str, object] = {"status": status, "message_id": telegram_message_id, "error": error}
    if status == "sent":
        values.update(sent_at=now, text=None)
    else:
        values.update(sent_at=None)
    await execute(session, update(OUTBOX).where(OUTBOX.c.id == message_id).values(**values))


async def release(*, session: AsyncSession, message_id: int) -> None:
    """A message taken for sending but not tried (the sender is stopping) is owed again."""
    await execute(
        session,
        update(OUTBOX).where(OUTBOX.c.id == message_id, OUTBOX.c.status == "sending").values(status="pending"),
    )


async def retry_later(*, session: AsyncSession, message_id: int, not_before: datetime, error: str) -> None:
    await execute(
        session,
        update(OUTBOX)
        .where(OUTBOX.c.id == message_id)
        .values(status="pending", not_before=not_before, attempts=OUTBOX.c.attempts + 1, error=error),
    )


async def abandon_stale(*, session: AsyncSession, now: datetime, lease: timedelta) -> int:
    """Rows left `sending` by a process that died: the message may or may not have arrived. They are
    recorded as uncertain and not sent again (a patient must not get a check-in twice)."""
    result = await execute(
        session,
        update(OUTBOX)
        .where(OUTBOX.c.status == "sending", OUTBOX.c.claimed_at < now - lease)
        .values(status="uncertain", error="the sending process stopped during the request"),
    )
    return int(result.rowcount or 0)


async def purge_finished(*, session: AsyncSession, before: datetime) -> int:
    """Delete rows that will never be sent again (sent, blocked, failed, uncertain) created before `before`."""
    result = await execute(
        session,
        delete(OUTBOX).where(OUTBOX.c.status.not_in(("pending", "sending")), OUTBOX.c.created_at < before),
    )
    return int(result.rowcount)
