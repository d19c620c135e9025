"""Query functions for the operator's gauges (bot/metrics.py): each a cheap, indexed count, run when
Prometheus scrapes. Counts and ages only: nothing about any patient."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import Alert, CheckIn, InboxUpdate, OutboxMessage, table
from storage.statuses import OWED, AlertStatus, CheckInStatus

INBOX = table(InboxUpdate)
OUTBOX = table(OutboxMessage)
ALERTS = table(Alert)
CHECKINS = table(CheckIn)


async def inbox_backlog(*, session: AsyncSession) -> int:
    """Updates stored but not yet handled."""
    result = await execute(session, select(func.count()).where(INBOX.c.processed_at.is_(None)))
    return int(result.scalar_one())


async def outbox_owed(*, session: AsyncSession, now: datetime) -> dict[str, tuple[int, datetime]]:
    """Per kind, the messages due and not yet sent, and when the oldest of them was queued. Rows due
    later (a snoozed check-in) are not owed yet; rows held for a staff chat are."""
    result = await execute(
        session,
        select(OUTBOX.c.kind, func.count(), func.min(OUTBOX.c.created_at))
        .where(OUTBOX.c.status.in_(OWED), OUTBOX.c.not_before <= now)
        .group_by(OUTBOX.c.kind),
    )
    return {str(kind): (int(count), _aware(oldest)) for kind, count, oldest in result.all()}


async def alerts_open(*, session: AsyncSession) -> dict[str, int]:
    """Alerts nobody has acknowledged, snoozed or resolved yet, by tier."""
    result = await execute(
        session, select(ALERTS.c.tier, func.count()).where(ALERTS.c.status == AlertStatus.OPEN).group_by(ALERTS.c.tier)
    )
    return {str(tier): int(count) for tier, count in result.all()}


async def checkins_closed(*, session: AsyncSession, now: datetime, within: timedelta) -> dict[str, int]:
    """Check-ins that closed in the last `within`: answered (completed), missed or skipped. Each count
    is a range on the (status, closes_at) index."""
    window = (CHECKINS.c.closes_at > now - within, CHECKINS.c.closes_at <= now)
    counted = {
        "answered": (CHECKINS.c.status == CheckInStatus.OPEN, CHECKINS.c.completed_at.is_not(None)),
        "missed": (CHECKINS.c.status == CheckInStatus.MISSED,),
        "skipped": (CHECKINS.c.status == CheckInStatus.SKIPPED,),
    }
    found = {}
    for outcome, conditions in counted.items():
        result = await execute(session, select(func.count()).where(*conditions, *window))
        found[outcome] = int(result.scalar_one())
    return found


def _aware(value: datetime) -> datetime:
    """min() of the column comes back as the column's type; without an offset it is UTC all the same."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
