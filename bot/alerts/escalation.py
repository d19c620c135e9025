"""Escalation: an urgent alert nobody has acknowledged goes to each admin directly, every few minutes, a
few times (the rules file's `escalation`), through the outbox. The clock starts when the alert opens
(bot/alerts/desk.py); acknowledging stops it, and the sender drops a message acknowledged meanwhile. A crisis
message's steps do not run out: after `max_times` they go on every `then_every_minutes` until someone acknowledges.
With no admin (none named, or all removed) it goes to the staff chat instead: never to nobody."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts.desk import AlertDesk
from storage import alerts, outbox, patients, staff
from storage.models import Priority

log = logging.getLogger(__name__)


async def escalate(desk: AlertDesk, *, now: datetime) -> int:
    """Urgent alerts nobody acknowledged: to each admin directly (or the staff chat), every few minutes,
    a few times."""
    policy = desk.rules.escalation  # read at each tick: the console may change the rules
    sent = 0
    async with desk.database.session() as session:
        due = await alerts.due_escalations(session=session, now=now, max_times=policy.max_times)
        if not due:
            return 0
        targets: list[int] | None = None
        for alert in due:
            assert alert.id is not None
            more = alert.escalations + 1 < policy.max_times
            next_at = now + timedelta(minutes=policy.every_minutes) if more else None
            if not more and alert.rule == alerts.CRISIS_RULE:
                # Nobody has seen this crisis yet: it must not wait, quiet, for the morning's digest.
                next_at = now + timedelta(minutes=policy.then_every_minutes)
            # The patient before the alert, in the order an erasure takes them (storage.patients.keep).
            if not await patients.keep(session=session, patient_id=alert.patient_id):
                continue
            if not await alerts.escalated(session=session, alert_id=alert.id, next_at=next_at):
                continue
            if targets is None:
                # After this transaction's first write, where SQLite begins it (storage/database.py): read
                # before it, an admin could be removed by another process (the command line) before their
                # copy is queued here, and the removal would find nothing of it to skip.
                targets = await _targets(desk, session)
            for chat_id in targets:
                await outbox.enqueue(
                    session=session,
                    kind="escalation",
                    chat_id=chat_id,
                    alert_id=alert.id,
                    patient_id=alert.patient_id,
                    priority=Priority.URGENT,
                    now=now,
                )
                sent += 1
    if sent:
        log.info("%d escalation messages queued", sent)
    return sent


async def _targets(desk: AlertDesk, session: AsyncSession) -> list[int]:
    """The admins, kept against removal until the escalation is queued; the staff chat when there is none."""
    admins = await staff.admins(session=session, kept=True)
    if admins:
        return admins
    log.warning("no admin to escalate to: urgent alerts are escalated in the staff chat")
    return [await desk.staff_chat.destination(session)]
