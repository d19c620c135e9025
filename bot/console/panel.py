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
from bot.diary.scheduler import UnknownPatient
from bot.diary.scores import Answered, answered_since
from storage import alerts, audit, checkins, console, infusions, patients, schedules, staff, summaries
from storage.checkins import Entry
from storage.database import Database
from storage.models import Alert, AuditEvent
from storage.statuses import ShownStatus

STATUSES: tuple[str, ...] = tuple(ShownStatus)  # as roster.shown_status, in the order the panel offers them
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


PAGE = 200  # patients a page of the panel shows


@dataclass(frozen=True)
class Panel:
    lines: list[PanelLine]  # this page's
    page: int  # from 1
    pages: int
    shown: int  # patients with the status asked for (all: every patient)
    count: int  # every patient


async def panel(
    database: Database, desk: AlertDesk, *, actor_id: int, now: datetime, sort: str, status: str | None, page: int
) -> Panel:
    """A page of the panel: every patient with the numbers the panel shows, filtered by status and
    sorted in the database (by open alerts, code, status, adherence lowest first, pain most above usual,
    or longest since an infusion; what is unknown goes last, ties by code); audited as /patients is.
    Summaries out of date are computed and stored first (bot/diary/summary.py): usually none."""
    config = desk.rules.relief_waning
    async with database.session() as session:
        stale = await summaries.out_of_date(session=session, now=now, rules=summary.rules_key(config))
        changed = [patient_id for patient_id, _, kept in stale if not kept]
        redone = await summary.refresh(session, patient_ids=changed, now=now, config=config)
        moved = {patient_id: zone for patient_id, zone, kept in stale if kept}
        if moved:
            redone |= await summary.recompute(session, timezones=moved, now=now, config=config)
        counts = await summaries.statuses(session=session, now=now)
        shown = counts.get(status, 0) if status is not None else sum(counts.values())
        pages = max(1, -(-shown // PAGE))
        page = min(max(page, 1), pages)
        rows = await summaries.page(
            session=session, now=now, sort=sort, status=status, offset=(page - 1) * PAGE, limit=PAGE
        )
        await audit.record(session=session, actor_id=actor_id, action="list_patients", detail="console", now=now)
    today = now.astimezone(desk.clinic_zone).date()
    relief_since = (now - summary.CYCLES).date()  # an older infusion's relief is not shown (summary.shows_relief)
    lines = []
    for p in rows:
        # What was just computed, in case another change kept it from being stored (summaries.save).
        own = redone.get(p.patient_id)
        due, answered = (own.due, own.answered) if own else (p.due, p.answered)
        given = own.infusion if own else p.infusion_on
        relief = own.relief_now if own else p.relief_now
        lines.append(
            PanelLine(
                patient_id=p.patient_id,
                code=p.code,
                status=p.status,
                adherence=answered / due if due else None,
                last_pain=own.last_pain if own else p.last_pain,
                usual_pain=own.usual_pain if own else p.usual_pain,
                trend=own.trend if own else p.trend,
                days_since_infusion=(today - given).days if given is not None else None,
                relief_now=relief if given is not None and given >= relief_since else None,
                open_alerts=p.open_alerts,
            )
        )
    return Panel(lines, page, pages, shown, sum(counts.values()))


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
