"""Query functions for the web console: sign-in links and sessions (looked up by hashes, never by the
secrets themselves), a record's messages, and the patient panel's few whole-clinic queries."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import (
    Answer,
    AuditEvent,
    CheckIn,
    ConsoleLink,
    ConsoleSession,
    Invite,
    Patient,
    PatientMessage,
    Schedule,
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


# ---------------------------------------------------------------------------------------------- the panel

PATIENTS = table(Patient)
SCHEDULES = table(Schedule)
INVITES = table(Invite)
CHECKINS = table(CheckIn)
ANSWERS = table(Answer)


@dataclass(frozen=True)
class Enrolled:
    patient_id: int
    code: str
    status: str
    timezone: str
    paused_until: datetime | None
    declined: bool  # the newest invite was declined


async def roster(*, session: AsyncSession) -> list[Enrolled]:
    """Every patient, by code: what the panel's status column needs and nothing it does not (no scan of
    every check-in for the last one, as /patients' list does)."""
    newest_declined = (
        select(INVITES.c.declined_at)
        .where(INVITES.c.patient_id == PATIENTS.c.id)
        .order_by(INVITES.c.created_at.desc(), INVITES.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    result = await execute(
        session,
        select(
            PATIENTS.c.id,
            PATIENTS.c.code,
            PATIENTS.c.status,
            PATIENTS.c.timezone,
            SCHEDULES.c.paused_until,
            newest_declined,
        )
        .outerjoin(SCHEDULES, SCHEDULES.c.patient_id == PATIENTS.c.id)
        .order_by(PATIENTS.c.code),
    )
    return [
        Enrolled(int(i), str(code), str(status), str(zone), paused, declined is not None)
        for i, code, status, zone, paused, declined in result.all()
    ]


async def adherence(*, session: AsyncSession, since: datetime, until: datetime) -> dict[int, tuple[int, int]]:
    """Per patient, (due, answered) daily check-ins started in [since, until): one counts as due once it
    was answered or its time to answer is over (missed, skipped). Counted by the database."""
    done = CHECKINS.c.completed_at.is_not(None)
    due = or_(done, CHECKINS.c.status.in_(("missed", "skipped")))
    result = await execute(
        session,
        select(
            CHECKINS.c.patient_id,
            func.sum(case((due, 1), else_=0)),
            func.sum(case((done, 1), else_=0)),
        )
        .where(CHECKINS.c.questionnaire == "daily", CHECKINS.c.started_at >= since, CHECKINS.c.started_at < until)
        .group_by(CHECKINS.c.patient_id),
    )
    return {int(p): (int(d or 0), int(a or 0)) for p, d, a in result.all()}


async def pains(
    *, session: AsyncSession, since: datetime, until: datetime, longer: dict[datetime, list[int]]
) -> dict[int, list[tuple[datetime, int]]]:
    """Every patient's pain scores at daily check-ins started in [since, until), oldest first, and for the
    patients in `longer` from an earlier start (its key) on: one query for the whole panel."""
    window = CHECKINS.c.started_at >= since
    for start, patient_ids in longer.items():
        window = or_(window, and_(CHECKINS.c.patient_id.in_(patient_ids), CHECKINS.c.started_at >= start))
    result = await execute(
        session,
        select(CHECKINS.c.patient_id, CHECKINS.c.started_at, ANSWERS.c.value)
        .join(ANSWERS, (ANSWERS.c.checkin_id == CHECKINS.c.id) & (ANSWERS.c.item == "pain"))
        .where(CHECKINS.c.questionnaire == "daily", CHECKINS.c.started_at < until, window)
        .order_by(CHECKINS.c.started_at, CHECKINS.c.id),
    )
    found: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for patient_id, at, value in result.all():
        if value.isdigit():
            found[patient_id].append((at, int(value)))
    return found
