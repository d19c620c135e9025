"""What the console's pages show, read through storage/ and the alert desk: the alert queue, the patient
panel and one patient's record. Reads of patient data are audited as their Telegram commands are."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

from bot.alerts.desk import TIER_ORDER, AlertDesk
from bot.alerts.rules import Tier
from bot.diary import roster, summary
from bot.diary.questionnaire import Questionnaire
from bot.diary.scheduling import UnknownPatient
from bot.diary.scores import Answered, answered_since
from storage import alerts, audit, checkins, console, infusions, patients, schedules, staff, summaries
from storage.checkins import Entry
from storage.database import Database
from storage.models import Alert, AuditEvent

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


async def panel(database: Database, desk: AlertDesk, *, actor_id: int, now: datetime) -> list[PanelLine]:
    """Every patient with the numbers the panel shows, by code; audited as /patients is. Two queries for
    the whole clinic (patients with their summary rows, open alerts by patient), and the summaries that
    are out of date computed and stored on the way (bot/diary/summary.py)."""
    config = desk.rules.relief_waning
    key, moment = summary.rules_key(config), summaries.micros(now)
    async with database.session() as session:
        everyone = await summaries.panel(session=session)
        counts = await alerts.active_per_patient(session=session)
        changed = [p.patient_id for p in everyone if p.fresh_until is None or p.rules != key]
        moved = {
            p.patient_id: p.timezone
            for p in everyone
            if p.fresh_until is not None
            and p.rules == key
            and (p.fresh_until < moment or p.summary_timezone != p.timezone)
        }
        redone = await summary.refresh(session, patient_ids=changed, now=now, config=config)
        if moved:
            redone |= await summary.recompute(session, timezones=moved, now=now, config=config)
        await audit.record(session=session, actor_id=actor_id, action="list_patients", detail="console", now=now)
    today = now.astimezone(desk.clinic_zone).date()
    relief_since = (now - summary.CYCLES).date()  # an older infusion's relief is not shown (summary.shows_relief)
    lines = []
    for p in everyone:
        own = redone.get(p.patient_id)
        due, answered = (own.due, own.answered) if own else (p.due, p.answered)
        given = own.infusion if own else p.infusion_on
        relief = own.relief_now if own else p.relief_now
        lines.append(
            PanelLine(
                patient_id=p.patient_id,
                code=p.code,
                status=roster.shown_status(p.status, p.paused_until, now, declined=p.declined),
                adherence=answered / due if due else None,
                last_pain=own.last_pain if own else p.last_pain,
                usual_pain=own.usual_pain if own else p.usual_pain,
                trend=own.trend if own else p.trend,
                days_since_infusion=(today - given).days if given is not None else None,
                relief_now=relief if given is not None and given >= relief_since else None,
                open_alerts=counts.get(p.patient_id, 0),
            )
        )
    return lines


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


def table_rows(lines: list[PanelLine], *, status_label: dict[str, str], record_url: str) -> Markup:
    """The panel's table rows. Written here rather than in the template: a template escaping ten values
    a row takes longer for 5,000 rows than the rest of the page together; here only the codes need
    escaping (the labels once; the rest are numbers and fixed words)."""
    labels = {status: escape(label) for status, label in status_label.items()}
    return Markup("\n").join(
        Markup(
            f'<tr><th scope="row"><a href="{record_url}{code}">{code}</a></th><td>{labels[line.status]}</td>'
            f"<td>{_percent(line.adherence)}</td><td>{_pain(line)}</td><td>{line.trend or '–'}</td>"
            f"<td>{'–' if line.days_since_infusion is None else line.days_since_infusion}</td>"
            f"<td>{_percent(None if line.relief_now is None else max(line.relief_now, 0))}</td>"
            f"<td>{line.open_alerts}</td></tr>"
        )
        for line in lines
        for code in (escape(line.code),)
    )


def _percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{round(fraction * 100)}%"


def _pain(line: PanelLine) -> str:
    if line.last_pain is None:
        return "–"
    return f"{line.last_pain}" + ("" if line.usual_pain is None else f" ({line.usual_pain:g})")


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
