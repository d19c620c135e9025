"""What the console's pages show, read through storage/ and the alert desk: the alert queue, the patient
panel and one patient's record. Reads of patient data are audited as their Telegram commands are."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from bot.alerts.cycles import cycles
from bot.alerts.desk import CYCLES, TIER_ORDER, AlertDesk
from bot.alerts.rules import ReliefWaning, Tier
from bot.diary import roster
from bot.diary.questionnaire import Questionnaire
from bot.diary.scheduling import UnknownPatient
from bot.diary.scores import Answered, answered_since
from storage import alerts, audit, checkins, console, infusions, patients, schedules, staff
from storage.checkins import Entry
from storage.database import Database
from storage.models import Alert, AuditEvent

ADHERENCE = timedelta(days=14)
USUAL = timedelta(days=28)  # the pain rules' baseline window (prompts/rules.yaml)
TREND = timedelta(days=7)  # the last week against the week before
TREND_STEP = 1.0  # a change of the weekly median pain smaller than this is "steady"
STATUSES = ("active", "paused", "unreachable", "invited", "declined", "discharged")  # as roster.shown_status
SORTS = ("alerts", "code", "status", "adherence", "pain", "infusion")
RECORD = timedelta(days=90)  # what a patient's record page shows: the diary, the chart, the messages
SCORES_SINCE = timedelta(days=180)  # questionnaire scores, as /patient lists them


@dataclass(frozen=True)
class PanelLine:
    patient_id: int
    code: str
    status: str  # invited, declined, active, paused, unreachable, discharged
    adherence: float | None  # answered / due daily check-ins over 14 days; None: none were due
    last_pain: int | None
    usual_pain: float | None  # the median of the last 28 days
    trend: str | None  # rising, falling, steady; None: too few scores
    days_since_infusion: int | None
    relief_now: float | None  # of the last infusion, a fraction of the pain before it
    open_alerts: int


def queue_order(shown: Iterable[Alert]) -> list[Alert]:
    """Alerts by tier (urgent first), then age (oldest first), each card once: an alert shown on another
    alert's card appears there, unless that card's alert is no longer active."""
    found = list(shown)
    active = {a.id for a in found}
    leads = [a for a in found if a.card_alert_id is None or a.card_alert_id not in active]
    return sorted(leads, key=lambda a: (TIER_ORDER.index(Tier(a.tier)), a.opened_at, a.id or 0))


async def queue(database: Database, *, actor_id: int, now: datetime) -> list[int]:
    """The ids of the alerts the queue shows, in order (one audit row for looking at it)."""
    async with database.session() as session:
        found = await alerts.needing_staff(session=session)
        await audit.record(session=session, actor_id=actor_id, action="view_alert_queue", now=now)
    return [a.id for a in queue_order(found) if a.id is not None]


def _trend(pains: list[tuple[datetime, int]], now: datetime) -> str | None:
    week, fortnight = now - TREND, now - 2 * TREND  # once, not per score: the panel calls this 5,000 times
    last = [p for at, p in pains if at >= week]
    before = [p for at, p in pains if fortnight <= at < week]
    if not last or not before:
        return None
    change = median(last) - median(before)
    return "rising" if change >= TREND_STEP else "falling" if change <= -TREND_STEP else "steady"


async def panel(database: Database, desk: AlertDesk, *, actor_id: int, now: datetime) -> list[PanelLine]:
    """Every patient with the numbers the panel shows, by code; audited as /patients is. A few queries
    for the whole clinic (not one per patient): relief is computed from the same pains the other columns
    read, each patient with an infusion in the last year from before their latest one on."""
    config = desk.rules.relief_waning
    async with database.session() as session:
        everyone = await console.roster(session=session)
        counted = await console.adherence(session=session, since=now - ADHERENCE, until=now + timedelta(minutes=1))
        counts = await alerts.active_per_patient(session=session)
        latest = await infusions.latest_per_patient(session=session)
        recent = {p: given for p, given in latest.items() if given >= (now - CYCLES).date()}
        longer: dict[datetime, list[int]] = defaultdict(list)
        for patient_id, day in recent.items():
            # The relief's baseline is the pain before the infusion, as desk.cycles_of reads it; by week,
            # so that the query has a few windows, not one per patient (an earlier start changes nothing).
            since = datetime.combine(day, time(), tzinfo=UTC) - timedelta(days=config.before_days + 1)
            longer[since - timedelta(days=since.weekday())].append(patient_id)
        scores = await console.pains(
            session=session, since=now - USUAL, until=now + timedelta(minutes=1), longer=dict(longer)
        )
        await audit.record(session=session, actor_id=actor_id, action="list_patients", detail="console", now=now)
    today = now.astimezone(desk.clinic_zone).date()
    usual_since = now - USUAL
    lines = []
    for p in everyone:
        own = [(at, pain) for at, pain in scores.get(p.patient_id, []) if at >= usual_since]
        given = latest.get(p.patient_id)
        due, answered = counted.get(p.patient_id, (0, 0))
        lines.append(
            PanelLine(
                patient_id=p.patient_id,
                code=p.code,
                status=roster.shown_status(p.status, p.paused_until, now, declined=p.declined),
                adherence=answered / due if due else None,
                last_pain=own[-1][1] if own else None,
                usual_pain=float(median(p for _, p in own)) if own else None,
                trend=_trend(own, now),
                days_since_infusion=(today - given).days if given is not None else None,
                relief_now=_relief_now(p, recent.get(p.patient_id), scores.get(p.patient_id, []), now, config),
                open_alerts=counts.get(p.patient_id, 0),
            )
        )
    return lines


def _relief_now(
    patient: console.Enrolled,
    given: date | None,
    pains: list[tuple[datetime, int]],
    now: datetime,
    config: ReliefWaning,
) -> float | None:
    """The current cycle's relief now, as cards and /cycles show it; its earlier cycles do not change it."""
    if given is None:
        return None
    today = now.astimezone(ZoneInfo(patient.timezone)).date()
    cycle = cycles(pains, [(given, "")], today=today, config=config)[-1]
    return cycle.relief_now if cycle.measured else None


def sort_panel(lines: list[PanelLine], *, sort: str, status: str | None) -> list[PanelLine]:
    """Filter by status, then sort; what is unknown (no pain yet, no infusion) goes last."""
    shown = [line for line in lines if status is None or line.status == status]
    if sort == "code":
        return sorted(shown, key=lambda line: line.code)
    if sort == "status":
        return sorted(shown, key=lambda line: (line.status, line.code))
    if sort == "adherence":  # the least adherent first: the ones to call
        return sorted(shown, key=lambda line: (line.adherence is None, line.adherence or 0.0, line.code))
    if sort == "pain":  # the highest above their usual first
        return sorted(shown, key=lambda line: (line.last_pain is None, -_above_usual(line), line.code))
    if sort == "infusion":  # the longest since an infusion first
        return sorted(shown, key=lambda line: (line.days_since_infusion is None, -(line.days_since_infusion or 0)))
    return sorted(shown, key=lambda line: (-line.open_alerts, line.code))


def _above_usual(line: PanelLine) -> float:
    if line.last_pain is None:
        return 0.0
    return line.last_pain - (line.usual_pain if line.usual_pain is not None else line.last_pain)


@dataclass(frozen=True)
class Viewer:
    at: datetime
    who: str
    action: str


async def trail(database: Database, *, code: str) -> list[Viewer]:
    """Who read or changed this patient's record, newest first, with names as Telegram last showed them."""
    async with database.session() as session:
        events: list[AuditEvent] = await audit.about_patient(session=session, code=code)
        ids = sorted({e.actor_id for e in events if e.actor_id is not None})
        names = await staff.names(session=session, telegram_user_ids=ids)
    return [
        Viewer(
            e.at,
            "command line" if e.actor_id is None else f"{names.get(e.actor_id) or ''} ({e.actor_id})".strip(),
            e.action,
        )
        for e in events
    ]


@dataclass(frozen=True)
class Said:
    """One line of the conversation between a patient and the care team."""

    at: datetime
    from_patient: bool
    kind: str  # text, photo, voice, edit, contact_request, ...; "reply" for the care team's
    text: str  # the patient's words; "" for a reply (its text is not kept once delivered)
    length: str  # a reply's audit detail ("54 characters")
    who: str  # the staff member who replied, or who marked the patient's message seen
    crisis: bool = False


@dataclass(frozen=True)
class Record:
    patient_id: int
    code: str
    status: str
    timezone: str
    reachable: bool  # the patient has a chat with the bot: a reply can reach them
    entries: list[Entry]  # daily check-ins of the record's 90 days, missed ones with no answers, oldest first
    infusions: list[date]
    answered: list[Answered]  # scored questionnaires of the last six months, oldest first
    messages: list[Said]  # oldest first


async def record(
    database: Database, *, code: str, actor_id: int, now: datetime, questionnaires: Iterable[Questionnaire]
) -> Record:
    """One patient's record, read in one transaction with its audit row (as /patient's). Raises
    UnknownPatient."""
    since = now - RECORD
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        if patient is None or patient.id is None:
            raise UnknownPatient(code)
        entries = await checkins.diary_since(session=session, patient_id=patient.id, since=since)
        given = await infusions.since(session=session, patient_id=patient.id, since=since.date())
        answered = await answered_since(session, questionnaires, patient_id=patient.id, since=now - SCORES_SINCE)
        schedule = await schedules.get(session=session, patient_id=patient.id)
        sent = await console.messages_of(session=session, patient_id=patient.id, since=since)
        replies = await console.replies_to(session=session, code=code, since=since)
        people = {m.seen_by for m in sent if m.seen_by is not None} | {e.actor_id for e in replies if e.actor_id}
        names = await staff.names(session=session, telegram_user_ids=sorted(people))
        await audit.record(
            session=session, actor_id=actor_id, action="view_patient", patient_code=code, detail="console", now=now
        )

    def name(user_id: int | None) -> str:
        return "" if user_id is None else names.get(user_id) or str(user_id)

    said = [Said(m.received_at, True, m.kind, m.text, "", name(m.seen_by), crisis=m.crisis) for m in sent]
    said += [Said(e.at, False, "reply", "", e.detail, name(e.actor_id)) for e in replies]
    return Record(
        patient.id,
        patient.code,
        roster.shown_status(patient.status, schedule.paused_until if schedule else None, now),
        patient.timezone,
        patient.chat_id is not None,
        entries,
        [d for d, _ in given],
        answered,
        sorted(said, key=lambda s: s.at),
    )
