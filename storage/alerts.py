"""Query functions for alerts. State changes are guarded UPDATEs: two staff pressing at once cannot
both move an alert, and a stale button finds nothing to change."""

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, false, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import PER_MESSAGE_RULES, Alert, Patient, table
from storage.statuses import ACTIVE_ALERT_STATUSES, AlertStatus

ALERTS = table(Alert)
PATIENTS = table(Patient)
ACTIVE = ACTIVE_ALERT_STATUSES
CRISIS_RULE = "crisis_text"


def _alert(row: object) -> Alert:
    return Alert(**row._mapping)  # type: ignore[attr-defined]


async def get(*, session: AsyncSession, alert_id: int) -> Alert | None:
    row = (await execute(session, select(ALERTS).where(ALERTS.c.id == alert_id))).first()
    return _alert(row) if row else None


async def active(*, session: AsyncSession, patient_id: int, rule: str) -> Alert | None:
    row = (
        await execute(
            session,
            select(ALERTS).where(ALERTS.c.patient_id == patient_id, ALERTS.c.rule == rule, ALERTS.c.status.in_(ACTIVE)),
        )
    ).first()
    return _alert(row) if row else None


async def unacknowledged(*, session: AsyncSession, patient_id: int, rule: str) -> Alert | None:
    """The patient's alert of this rule that nobody has acknowledged yet."""
    row = (
        await execute(
            session,
            select(ALERTS)
            .where(ALERTS.c.patient_id == patient_id, ALERTS.c.rule == rule, ALERTS.c.status == AlertStatus.OPEN)
            .order_by(ALERTS.c.id.desc())
            .limit(1),
        )
    ).first()
    return _alert(row) if row else None


async def resolve_times(*, session: AsyncSession, patient_id: int) -> dict[str, list[datetime]]:
    """When staff resolved each alert of each rule, for this patient, oldest first."""
    result = await execute(
        session,
        select(ALERTS.c.rule, ALERTS.c.resolved_at)
        .where(ALERTS.c.patient_id == patient_id, ALERTS.c.resolved_at.is_not(None))
        .order_by(ALERTS.c.resolved_at),
    )
    times: dict[str, list[datetime]] = {}
    for rule, at in result.all():
        times.setdefault(rule, []).append(at)
    return times


async def snoozes(*, session: AsyncSession, patient_id: int) -> list[tuple[str, datetime]]:
    """(rule, snoozed until) of each alert of this patient that staff snoozed, as it still is or as they resolved it
    (an alert opened again forgets its snooze: what came after it was news)."""
    result = await execute(
        session,
        select(ALERTS.c.rule, ALERTS.c.snoozed_until).where(
            ALERTS.c.patient_id == patient_id,
            ALERTS.c.status.in_((AlertStatus.SNOOZED, AlertStatus.RESOLVED)),
            ALERTS.c.snoozed_until.is_not(None),
        ),
    )
    return [(rule, until) for rule, until in result.all()]


async def open_crisis_of_message(*, session: AsyncSession, patient_message_id: int) -> list[Alert]:
    """The crisis cards of a patient's message that nobody has acknowledged yet."""
    result = await execute(
        session,
        select(ALERTS).where(
            ALERTS.c.patient_message_id == patient_message_id,
            ALERTS.c.rule == CRISIS_RULE,
            ALERTS.c.status == AlertStatus.OPEN,
        ),
    )
    return [_alert(row) for row in result.all()]


async def last_events(*, session: AsyncSession, patient_id: int) -> dict[str, datetime]:
    """The newest finding each rule has already turned into an alert, for this patient."""
    result = await execute(
        session,
        select(ALERTS.c.rule, func.max(ALERTS.c.event_at))
        .where(ALERTS.c.patient_id == patient_id)
        .group_by(ALERTS.c.rule),
    )
    return {rule: at for rule, at in result.all()}


async def open_alert(
    *,
    session: AsyncSession,
    patient_id: int,
    rule: str,
    tier: str,
    details: str,
    event_at: datetime,
    now: datetime,
    next_escalation_at: datetime | None,
    patient_message_id: int | None = None,
) -> int:
    result = await execute(
        session,
        ALERTS.insert()
        .values(
            patient_message_id=patient_message_id,
            patient_id=patient_id,
            rule=rule,
            tier=tier,
            status=AlertStatus.OPEN,
            details=details,
            event_at=event_at,
            opened_at=now,
            updated_at=now,
            escalations=0,
            next_escalation_at=next_escalation_at,
        )
        .returning(ALERTS.c.id),
    )
    return int(result.scalar_one())


async def refresh(
    *,
    session: AsyncSession,
    alert_id: int,
    details: str,
    event_at: datetime,
    now: datetime,
    anew: bool = False,
    next_escalation_at: datetime | None = None,
) -> bool:
    """A new finding for an alert nobody has acknowledged yet: the card shows the new numbers (with `anew`, on a
    card sent anew: the old one is forgotten). False when staff acknowledged, snoozed or resolved it meanwhile
    (then what is new needs a card of its own). An urgent alert's (`next_escalation_at`) escalates afresh: its
    count starts again, at that time or at the one already due if sooner; spent on what the card showed before,
    the escalations would leave what is new unescalated."""
    values: dict[str, object] = {"card_chat_id": None, "card_message_id": None} if anew else {}
    if next_escalation_at is not None:
        due = ALERTS.c.next_escalation_at
        values["escalations"] = 0
        values["next_escalation_at"] = case((due.is_(None) | (due > next_escalation_at), next_escalation_at), else_=due)
    result = await execute(
        session,
        update(ALERTS)
        .where(ALERTS.c.id == alert_id, ALERTS.c.status == AlertStatus.OPEN)
        .values(details=details, event_at=event_at, updated_at=now, **values),
    )
    return bool(result.rowcount)


async def reopen(
    *,
    session: AsyncSession,
    alert_id: int,
    status: AlertStatus,
    details: str,
    event_at: datetime,
    now: datetime,
    next_escalation_at: datetime | None,
) -> bool:
    """The rule fired again after its snooze ended, or after staff acknowledged what its card showed: open
    again, with a new card (the old card's buttons name the old opening and no longer act on it). False
    when the alert is no longer in `status` (staff pressed something meanwhile)."""
    result = await execute(
        session,
        update(ALERTS)
        .where(ALERTS.c.id == alert_id, ALERTS.c.status == status)
        .values(
            status=AlertStatus.OPEN,
            details=details,
            event_at=event_at,
            opened_at=now,
            updated_at=now,
            acknowledged_by=None,
            acknowledged_at=None,
            snoozed_by=None,
            snoozed_until=None,
            card_chat_id=None,
            card_message_id=None,
            escalations=0,
            next_escalation_at=next_escalation_at,
        ),
    )
    return bool(result.rowcount)


def _shown(opened_at: datetime | None, event_at: datetime | None = None) -> list[Any]:
    """A press on a card acts only on the alert as that card showed it: opened at `opened_at`, its newest finding
    made at `event_at` (None: any)."""
    shown = [] if opened_at is None else [ALERTS.c.opened_at == opened_at]
    return shown + ([] if event_at is None else [ALERTS.c.event_at == event_at])


async def acknowledge(
    *,
    session: AsyncSession,
    alert_id: int,
    by: int,
    now: datetime,
    opened_at: datetime | None = None,
    event_at: datetime | None = None,
) -> Alert | None:
    return await _move(
        session,
        alert_id,
        (AlertStatus.OPEN,),
        *_shown(opened_at, event_at),
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_by=by,
        acknowledged_at=now,
        next_escalation_at=None,
        updated_at=now,
    )


async def snooze(
    *,
    session: AsyncSession,
    alert_id: int,
    by: int,
    until: datetime,
    now: datetime,
    opened_at: datetime | None = None,
    event_at: datetime | None = None,
) -> Alert | None:
    """Quiet until `until`; never an alert about one message (a crisis must be seen, not put off)."""
    return await _move(
        session,
        alert_id,
        (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
        ALERTS.c.rule.not_in(PER_MESSAGE_RULES),
        *_shown(opened_at, event_at),
        status=AlertStatus.SNOOZED,
        snoozed_by=by,
        snoozed_until=until,
        next_escalation_at=None,
        updated_at=now,
    )


async def resolve(
    *,
    session: AsyncSession,
    alert_id: int,
    by: int | None,
    now: datetime,
    opened_at: datetime | None = None,
    event_at: datetime | None = None,
) -> Alert | None:
    return await _move(
        session,
        alert_id,
        ACTIVE,
        *_shown(opened_at, event_at),
        status=AlertStatus.RESOLVED,
        resolved_by=by,
        resolved_at=now,
        next_escalation_at=None,
        updated_at=now,
    )


async def _move(
    session: AsyncSession, alert_id: int, allowed: tuple[AlertStatus, ...], *conditions: Any, **values: object
) -> Alert | None:
    guard = [ALERTS.c.id == alert_id, ALERTS.c.status.in_(allowed)]
    guard += [condition for condition in conditions if condition is not None]
    result = await execute(
        session,
        update(ALERTS).where(*guard).values(**values).returning(*ALERTS.c),
    )
    row = result.first()
    return _alert(row) if row else None


async def set_card(*, session: AsyncSession, alert_id: int, chat_id: int, message_id: int) -> None:
    await execute(
        session, update(ALERTS).where(ALERTS.c.id == alert_id).values(card_chat_id=chat_id, card_message_id=message_id)
    )


async def share_card(*, session: AsyncSession, card_alert_id: int, others: list[int]) -> None:
    """The alerts a check-in raised together: `card_alert_id` keeps its own card, which shows and acts
    on the others too. Their escalation clock is the card's."""
    await execute(session, update(ALERTS).where(ALERTS.c.id == card_alert_id).values(card_alert_id=None))
    if others:
        await execute(
            session,
            update(ALERTS).where(ALERTS.c.id.in_(others)).values(card_alert_id=card_alert_id, next_escalation_at=None),
        )


async def on_card(*, session: AsyncSession, card_alert_id: int) -> list[Alert]:
    """The other alerts shown on an alert's card, in the order they were opened."""
    result = await execute(session, select(ALERTS).where(ALERTS.c.card_alert_id == card_alert_id).order_by(ALERTS.c.id))
    return [_alert(row) for row in result.all()]


async def due_escalations(*, session: AsyncSession, now: datetime, max_times: int) -> list[Alert]:
    """Open alerts due a step: `max_times` at most, but a crisis message's steps go on until someone acknowledges
    it (nobody has seen it yet); none at all when `max_times` is 0 (the clinic turned escalations off)."""
    crisis_goes_on = ALERTS.c.rule == CRISIS_RULE if max_times > 0 else false()
    result = await execute(
        session,
        select(ALERTS).where(
            ALERTS.c.status == AlertStatus.OPEN,
            ALERTS.c.next_escalation_at <= now,
            (ALERTS.c.escalations < max_times) | crisis_goes_on,
        ),
    )
    return [_alert(row) for row in result.all()]


async def escalated(*, session: AsyncSession, alert_id: int, next_at: datetime | None) -> bool:
    """Count one escalation; False when another process already took this one."""
    result = await execute(
        session,
        update(ALERTS)
        .where(ALERTS.c.id == alert_id, ALERTS.c.status == AlertStatus.OPEN, ALERTS.c.next_escalation_at.is_not(None))
        .values(escalations=ALERTS.c.escalations + 1, next_escalation_at=next_at),
    )
    return bool(result.rowcount)


async def active_with_codes(*, session: AsyncSession, now: datetime) -> list[tuple[Alert, str]]:
    """Open and acknowledged alerts, and snoozed ones whose snooze is over, with their patients' codes,
    oldest first (for the digest)."""
    snooze_over = (ALERTS.c.status == AlertStatus.SNOOZED) & (ALERTS.c.snoozed_until <= now)
    rows = (
        await execute(
            session,
            select(ALERTS, PATIENTS.c.code)
            .join(PATIENTS, PATIENTS.c.id == ALERTS.c.patient_id)
            .where(ALERTS.c.status.in_((AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)) | snooze_over)
            .order_by(ALERTS.c.opened_at, ALERTS.c.id),
        )
    ).all()
    return [(Alert(**{k: v for k, v in row._mapping.items() if k != "code"}), str(row.code)) for row in rows]


async def of_patient_since(*, session: AsyncSession, patient_id: int, since: datetime) -> list[Alert]:
    """The patient's alerts opened or acted on since `since`, oldest first (for the visit report)."""
    result = await execute(
        session,
        select(ALERTS)
        .where(ALERTS.c.patient_id == patient_id, ALERTS.c.updated_at >= since)
        .order_by(ALERTS.c.opened_at, ALERTS.c.id),
    )
    return [_alert(row) for row in result.all()]


async def needing_staff(*, session: AsyncSession) -> list[Alert]:
    """Every alert staff still have to deal with (open, acknowledged or snoozed), for the console's queue."""
    rows = (await execute(session, select(ALERTS).where(ALERTS.c.status.in_(ACTIVE)))).all()
    return [_alert(row) for row in rows]


def active_per_patient() -> Select[tuple[int, int]]:
    """A query of (patient id, how many open, acknowledged or snoozed alerts they have), patients with
    none left out: the panel joins it."""
    return select(ALERTS.c.patient_id, func.count()).where(ALERTS.c.status.in_(ACTIVE)).group_by(ALERTS.c.patient_id)
