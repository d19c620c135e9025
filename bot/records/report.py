"""The visit report: one patient's diary over a period, for a clinic visit or an insurer, as a PDF of one
or two A4 pages. For staff; plain numbers and dates, in the clinic's language and time zone: nothing
here interprets a score.

`gather` reads what the report shows in one audited read and sums it up (no Telegram, no drawing:
unit-tested on its own); `render_pdf` lays it out and draws it.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, Any, Literal, cast
from zoneinfo import ZoneInfo

from bot.alerts import wording
from bot.alerts.cycles import Cycle, describe
from bot.alerts.desk import AlertDesk
from bot.config import Settings
from bot.diary import chart
from bot.diary.questionnaire import Questionnaire, Questionnaires
from bot.diary.scheduler import UnknownPatient
from bot.diary.scores import Answered, answered_since, scored
from storage import alerts, audit, checkins, infusions, patients, staff
from storage.checkins import Entry, Sitting
from storage.database import Database, create_private_file
from storage.models import PER_MESSAGE_RULES, Alert
from storage.statuses import AlertStatus, CheckInStatus

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

DEFAULT_DAYS = 90
MIN_DAYS, MAX_DAYS = 7, 365
BLOCK = timedelta(days=30)
# Pain before the period, for comparison: as long a stretch as the pain_worsening rule's usual level.
BEFORE = timedelta(days=28)
BEFORE_MIN_SCORES = 3
MAX_ALERTS = 15  # the newest; a longer list says how many earlier ones it leaves out
MAX_CYCLES = 8
NOTE_LINES = 3  # a long note is shortened to this many lines, so that more notes fit

Text = Callable[..., str]  # a catalog's text(key, **values) in the report's language


class BadDays(ValueError):
    """A period the report does not cover (fewer than MIN_DAYS or more than MAX_DAYS days)."""


def check_days(days: int) -> int:
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise BadDays(f"the report covers {MIN_DAYS} to {MAX_DAYS} days, not {days}")
    return days


# ---------------------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Adherence:
    """The scheduled daily check-ins of the period (imported history counts as scheduled)."""

    scheduled: int
    answered: int
    missed: int
    skipped: int
    open: int  # sent and still answerable: neither answered nor missed yet
    extra: int  # started by the patient with /checkin, not scheduled

    @property
    def percent(self) -> int | None:
        """Answered of those that could have been: still-open ones are not counted against it."""
        closed = self.scheduled - self.open
        return round(100 * self.answered / closed) if closed else None


def adherence(sittings: Iterable[Sitting], *, now: datetime) -> Adherence:
    answered = missed = skipped = still_open = extra = scheduled = 0
    for sitting in sittings:
        if sitting.slot.startswith(checkins.ASKED_FOR):
            extra += 1
            continue
        scheduled += 1
        if sitting.status == CheckInStatus.SKIPPED:
            skipped += 1
        elif sitting.answered:
            answered += 1
        elif sitting.status == CheckInStatus.MISSED or sitting.closes_at <= now:  # closed, not marked missed yet
            missed += 1
        else:
            still_open += 1
    return Adherence(scheduled, answered, missed, skipped, still_open, extra)


@dataclass(frozen=True)
class Block:
    """Pain and mood over (at most) 30 of the period's days, from `first` to `last` (the clinic's days)."""

    first: date
    last: date
    pains: list[int]
    moods: list[int]

    @property
    def pain_median(self) -> float | None:
        return float(median(self.pains)) if self.pains else None

    @property
    def mood_median(self) -> float | None:
        return float(median(self.moods)) if self.moods else None


def _numbers(entries: Iterable[Entry], item: str) -> list[int]:
    return [int(e.answers[item]) for e in entries if e.answers.get(item, "").isdigit()]


def blocks(entries: Sequence[Entry], *, first: date, last: date, zone: ZoneInfo) -> list[Block]:
    """Whole days in 30-day blocks counted back from `last`, oldest first; the oldest is shorter when
    the period is not a whole number of them."""
    found = []
    end = last
    while end >= first:
        begin = max(first, end - BLOCK + timedelta(days=1))
        inside = [e for e in entries if begin <= e.started_at.astimezone(zone).date() <= end]
        found.append(Block(begin, end, _numbers(inside, "pain"), _numbers(inside, "mood")))
        end = begin - timedelta(days=1)
    return found[::-1]


@dataclass(frozen=True)
class Before:
    """Pain in the BEFORE days before the period: its median once there are a few scores."""

    count: int
    median: float | None


def before(entries: Sequence[Entry], *, start: datetime) -> Before:
    pains = _numbers([e for e in entries if start - BEFORE <= e.started_at < start], "pain")
    return Before(len(pains), float(median(pains)) if len(pains) >= BEFORE_MIN_SCORES else None)


@dataclass(frozen=True)
class Report:
    code: str
    status: str
    timezone: str  # the clinic's
    start: datetime
    end: datetime  # when it was made
    days: int
    entries: list[Entry]  # the period's daily check-ins, missed ones with no answers, oldest first
    infusions: list[tuple[date, str]]  # given in the period
    before: Before
    blocks: list[Block]
    adherence: Adherence
    cycles: list[Cycle]  # those that ran in the period, oldest first
    answered: list[Answered]  # questionnaires answered in the period, oldest first
    alerts: list[Alert]  # opened or acted on in the period, oldest first
    names: dict[int, str]  # staff who acted on them
    notes: list[tuple[datetime, str]]  # the period's check-in notes, newest first


@dataclass(frozen=True)
class Asked:
    """Whose report over how many days, asked by whom (None: the command line) and where, at `now`,
    in the clinic's time zone."""

    code: str
    days: int
    actor_id: int | None
    now: datetime
    timezone: str
    how: str  # where it was asked for, for the audit log


async def gather(database: Database, desk: AlertDesk, questionnaires: Iterable[Questionnaire], asked: Asked) -> Report:
    """Everything the report shows, read in one transaction that also writes its audit event. Raises
    UnknownPatient, or BadDays."""
    code, days, now, timezone = asked.code, asked.days, asked.now, asked.timezone
    check_days(days)
    # Whole days in the clinic's zone, today the last of them: a 30-day block never splits a day.
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime.combine(first_day, time(), tzinfo=zone)
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        if patient is None or patient.id is None:
            raise UnknownPatient(code)
        diary = await checkins.diary_since(session=session, patient_id=patient.id, since=start - BEFORE)
        sittings = await checkins.daily_sittings(session=session, patient_id=patient.id, since=start, until=now)
        given = await infusions.since(session=session, patient_id=patient.id, since=first_day)
        cycles = await desk.cycles_of(session, patient_id=patient.id, now=now)
        answered = await answered_since(session, questionnaires, patient_id=patient.id, since=start)
        found = await alerts.of_patient_since(session=session, patient_id=patient.id, since=start)
        people = {p for a in found for p in (a.acknowledged_by, a.snoozed_by, a.resolved_by) if p is not None}
        names = await staff.names(session=session, telegram_user_ids=sorted(people))
        await audit.record(
            session=session,
            actor_id=asked.actor_id,
            action="report",
            patient_code=code,
            detail=f"{days} days, {asked.how}",
            now=now,
        )
    entries = [e for e in diary if start <= e.started_at <= now]
    notes = [(e.started_at, e.answers["note"].strip()) for e in reversed(entries) if e.answers.get("note", "").strip()]
    return Report(
        code=patient.code,
        status=patient.status,
        timezone=timezone,
        start=start,
        end=now,
        days=days,
        entries=entries,
        infusions=given,
        before=before(diary, start=start),
        blocks=blocks(entries, first=first_day, last=today, zone=zone),
        adherence=adherence(sittings, now=now),
        # A cycle that began before the period but was still running in it belongs to it too.
        cycles=[c for c in cycles if c.infusion + timedelta(days=c.day) >= first_day][-MAX_CYCLES:],
        answered=answered,
        alerts=found,
        names=names,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------- the layout

PAGE = (8.27, 11.69)  # A4, inches
MARGIN = 0.6
TOP = 0.55
BOTTOM = 0.75  # the footer sits below
MAX_PAGES = 2
BODY_SIZE = 8.5
HEADING_SIZE = 10.5
LINE = 0.165  # inches between body lines
HEADING = 0.34  # a heading with the space above it
# Characters of body text a line holds: DejaVu Sans averages under 0.6 of its size a character.
WIDTH = int((PAGE[0] - 2 * MARGIN) * 72 / (BODY_SIZE * 0.6))
# The chart's type: matplotlib's default sizes would crowd a chart a third of a page high.
CHART_TYPE: dict[Any, object] = {"font.size": 7.5, "axes.titlesize": 8, "legend.fontsize": 7, "lines.markersize": 3}
# TrueType in the PDF (not Type 3): text that readers, search and pdftotext can extract.
PDF_TYPE: dict[Any, object] = {"pdf.fonttype": 42}
BOLD: dict[str, Any] = {"fontweight": "bold"}
GREY: dict[str, Any] = {"color": chart.GREY}
TOP_ALIGNED: dict[str, Any] = {"va": "top"}

Kind = Literal["heading", "line", "small", "row", "header_row"]


@dataclass(frozen=True)
class Line:
    kind: Kind
    cells: tuple[str, ...]  # one for text; a table's columns for rows

    @property
    def height(self) -> float:
        return HEADING if self.kind == "heading" else LINE


def heading(text: str) -> Line:
    return Line("heading", (text,))


def lines(text: str, *, kind: Kind = "line", most: int | None = None) -> list[Line]:
    """The text wrapped to the page's width, the last of `most` lines shortened with "…"."""
    wrapped = textwrap.wrap(" ".join(text.split()), WIDTH, break_long_words=True) or [""]
    if most is not None and len(wrapped) > most:
        wrapped = wrapped[:most]
        wrapped[-1] = wrapped[-1][: WIDTH - 1].rstrip() + "…"
    return [Line(kind, (part,)) for part in wrapped]


def chart_height(panels: int) -> float:
    """Inches of page 1 for the chart: more with each questionnaire's panel."""
    return min(7.0, 4.3 + 0.75 * panels)


def paginate(flow: Sequence[Line], *, first_top: float) -> list[list[tuple[float, Line]]]:
    """Lines placed on pages (inches from the page's top); a heading is never a page's last line."""
    pages: list[list[tuple[float, Line]]] = [[]]
    y = first_top
    bottom = PAGE[1] - BOTTOM
    for index, line in enumerate(flow):
        after = flow[index + 1].height if line.kind == "heading" and index + 1 < len(flow) else 0.0
        if y + line.height + after > bottom and pages[-1]:
            pages.append([])
            y = TOP
        pages[-1].append((y, line))
        y += line.height
    return pages


def fit_notes(
    fixed: Sequence[Line], notes: Sequence[list[Line]], more: Callable[[int], Line], *, first_top: float
) -> tuple[list[Line], int]:
    """As many notes (each a list of lines, newest first) as fit after `fixed` within MAX_PAGES pages,
    with the line saying how many are left out; returns the lines and that number."""
    shown: list[Line] = []
    kept = 0
    for note in notes:
        candidate = shown + note
        left = len(notes) - kept - 1
        tail = [more(left)] if left else []
        if len(paginate([*fixed, *candidate, *tail], first_top=first_top)) > MAX_PAGES:
            break
        shown, kept = candidate, kept + 1
    left = len(notes) - kept
    return shown + ([more(left)] if left else []), left


class Writer:
    """The report's words: every label from the catalog (`text`), times in the clinic's zone."""

    def __init__(self, report: Report, text: Text, questionnaires: Questionnaires, *, panels: int = 0) -> None:
        self.report = report
        self.text = text
        self.questionnaires = questionnaires
        self.panels = panels  # the chart's questionnaire panels
        self.zone = ZoneInfo(report.timezone)

    def when(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def day(self, at: datetime) -> str:
        return at.astimezone(self.zone).date().isoformat()

    def header(self) -> list[tuple[str, dict[str, Any]]]:
        r, text = self.report, self.text
        status = text(f"staff.status.{r.status}")
        return [
            (text("report.title", code=r.code), {"fontsize": 15, **BOLD}),
            (text("report.period", start=self.day(r.start), end=self.day(r.end), days=r.days, status=status), {}),
            (text("report.generated", when=self.when(r.end), zone=r.timezone), GREY),
            (text("report.plain"), GREY),
        ]

    def footer(self, page: int, pages: int) -> str:
        return self.text(
            "report.footer", code=self.report.code, generated=self.when(self.report.end), page=page, pages=pages
        )

    def pain(self) -> list[Line]:
        r, text = self.report, self.text
        days = BEFORE.days
        if r.before.median is None:
            said = text("report.pain.no_baseline", days=days, count=r.before.count)
        else:
            said = text("report.pain.baseline", days=days, count=r.before.count, median=f"{r.before.median:g}")
        columns = ("period", "scores", "median", "range", "change", "mood")
        found = [
            heading(text("report.pain.heading")),
            Line("header_row", tuple(text(f"report.pain.{c}") for c in columns)),
        ]
        none = text("report.pain.none")
        for block in r.blocks:
            pain = block.pain_median
            change = none
            if pain is not None and r.before.median is not None:
                change = f"{pain - r.before.median:+g}"
            spread = f"{min(block.pains)}–{max(block.pains)}" if block.pains else none
            mood = block.mood_median
            found.append(
                Line(
                    "row",
                    (
                        f"{block.first.isoformat()} – {block.last.isoformat()}",
                        str(len(block.pains)),
                        none if pain is None else f"{pain:g}",
                        spread,
                        change,
                        none if mood is None else f"{mood:g}",
                    ),
                )
            )
        return [*found, *lines(said, kind="small")]

    def adherence(self) -> list[Line]:
        a, text = self.report.adherence, self.text
        found = [heading(text("report.adherence.heading"))]
        if not a.scheduled:
            found += lines(text("report.adherence.none"))
        else:
            percent = "–" if a.percent is None else f"{a.percent}%"
            found += lines(
                text(
                    "report.adherence.line",
                    scheduled=a.scheduled,
                    answered=a.answered,
                    percent=percent,
                    missed=a.missed,
                    skipped=a.skipped,
                    open=a.open,
                )
            )
        if a.extra:
            found += lines(text("report.adherence.extra", extra=a.extra))
        return found

    def cycles(self) -> list[Line]:
        text = self.text
        found = [heading(text("report.cycles.heading"))]
        if not self.report.cycles:
            return [*found, *lines(text("report.cycles.none"))]
        for cycle in self.report.cycles:
            found += lines(describe(text, cycle) + ".")
        return [*found, *lines(text("report.cycles.note"), kind="small")]

    def scores(self) -> list[Line]:
        text = self.text
        found = [heading(text("report.scores.heading"))]
        if not self.report.answered:
            return [*found, *lines(text("report.scores.none"))]
        for questionnaire_id in self.questionnaires:  # in the order the questionnaires are listed
            listed = [a for a in self.report.answered if a.questionnaire == questionnaire_id]
            if not listed:
                continue
            values = ", ".join(
                text("report.scores.incomplete", date=self.day(a.at))
                if a.score is None
                else text("report.scores.score", total=a.score.shown, date=self.day(a.at))
                for a in listed
            )
            name = text(f"staff.instrument.{questionnaire_id}")
            found += lines(text("report.scores.line", name=name, scores=values))
        return found

    def alerts(self) -> list[Line]:
        text, found_alerts = self.text, self.report.alerts
        found = [heading(text("report.alerts.heading"))]
        if not found_alerts:
            return [*found, *lines(text("report.alerts.none"))]
        shown = found_alerts[-MAX_ALERTS:]
        for alert in reversed(shown):  # newest first, as the notes
            found += lines(self.alert_line(alert))
        if len(found_alerts) > len(shown):
            found += lines(text("report.alerts.more", count=len(found_alerts) - len(shown)), kind="small")
        return found

    def alert_line(self, alert: Alert) -> str:
        """ "2026-11-21 09:00 · amber · Severe pain ...: Acknowledged by Sam, 2026-11-21 09:30; ..." """
        text = self.text

        def who(user_id: int | None) -> str:
            return (self.report.names.get(user_id) if user_id is not None else None) or text("alerts.someone")

        done = []
        if alert.acknowledged_at is not None:
            done.append(
                text("alerts.acknowledged", who=who(alert.acknowledged_by), when=self.when(alert.acknowledged_at))
            )
        if alert.snoozed_until is not None and alert.snoozed_by is not None:
            done.append(text("alerts.snoozed", who=who(alert.snoozed_by), until=self.when(alert.snoozed_until)))
        if alert.resolved_at is not None:
            if alert.resolved_by is None:
                done.append(text("report.alerts.resolved_auto", when=self.when(alert.resolved_at)))
            else:
                done.append(text("alerts.resolved", who=who(alert.resolved_by), when=self.when(alert.resolved_at)))
        if alert.status == AlertStatus.OPEN and alert.acknowledged_at is None:
            done.append(text("report.alerts.open"))
        line = text(
            "report.alerts.line",
            opened=self.when(alert.opened_at),
            tier=text(f"report.alerts.tier.{alert.tier}"),
            rule=self.finding(alert),
        )
        return f"{line}: " + "; ".join(done)

    def finding(self, alert: Alert) -> str:
        """What a rule found, in the card's words; a crisis or a request to be contacted by its rule alone,
        never the patient's message (the report may go to an insurer)."""
        if alert.rule in PER_MESSAGE_RULES:
            return self.text(f"alerts.rule.{alert.rule}")
        return wording.finding(self.text, alert.rule, json.loads(alert.details), ZoneInfo(self.report.timezone))

    def notes(self) -> tuple[Line, list[list[Line]]]:
        """The heading, then each note's lines (or the line saying there are none)."""
        text = self.text
        if not self.report.notes:
            return heading(text("report.notes.heading")), [lines(text("report.notes.none"))]
        return heading(text("report.notes.heading")), [
            lines(text("report.notes.line", when=self.when(at), note=note), most=NOTE_LINES)
            for at, note in self.report.notes
        ]

    def more_notes(self, count: int) -> Line:
        return lines(self.text("report.notes.more", count=count), kind="small")[0]


CHART_TOP = TOP + 0.95  # under the header


def first_top(panels: int) -> float:
    """Where page 1's text begins: under the header and the chart."""
    return CHART_TOP + chart_height(panels) + 0.1


def layout(writer: Writer) -> tuple[list[list[tuple[float, Line]]], int]:
    """The pages' lines, and how many notes were left out to keep within MAX_PAGES."""
    fixed = [*writer.pain(), *writer.adherence(), *writer.cycles(), *writer.scores(), *writer.alerts()]
    top = first_top(writer.panels)
    notes_heading, notes = writer.notes()
    shown, left_out = fit_notes([*fixed, notes_heading], notes, writer.more_notes, first_top=top)
    pages = paginate([*fixed, notes_heading, *shown], first_top=top)
    return pages[:MAX_PAGES], left_out


# ---------------------------------------------------------------------------------------- the drawing

COLUMNS = (0.0, 0.25, 0.35, 0.49, 0.59, 0.8)  # the pain table's columns, as fractions of the text width


@cache
def _font_characters() -> frozenset[int]:
    """The characters the default font can draw (a patient's emoji cannot be, and would warn)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(font_manager.findfont(font_manager.FontProperties())).get_charmap())


def printable(text: str) -> str:
    drawable = _font_characters()
    return "".join(c if ord(c) in drawable or c.isspace() else "□" for c in text)


def render_pdf(report: Report, text: Text, questionnaires: Questionnaires) -> tuple[bytes, int]:
    """The report as PDF bytes, and its number of pages: page 1 the header, the chart and what fits
    under it; then page 2."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    zone = ZoneInfo(report.timezone)
    start, end = report.start, report.end
    instruments = chart.instruments(scored(report.answered), questionnaires, lambda q: text(f"staff.instrument.{q}"))
    writer = Writer(report, text, questionnaires, panels=len(instruments))
    pages, _ = layout(writer)
    data = chart.chart_data(
        report.entries,
        title=text("report.chart_title", start=writer.day(start), end=writer.day(end)),
        now=end,
        window=end - start,
        infusions=[chart.midday(d, zone) for d, _ in report.infusions],
        relief=[(chart.midday(c.infusion, zone), wording.relief(text, c)) for c in report.cycles if c.measured],
        instruments=instruments,
    )
    labels = chart.chart_labels(text, questionnaires.daily)
    buffer = io.BytesIO()
    metadata = {"Title": text("report.title", code=report.code), "Creator": "CRPS diary", "CreationDate": end}
    with matplotlib.rc_context(PDF_TYPE), PdfPages(buffer, metadata=metadata) as pdf:
        for number, placed in enumerate(pages, start=1):
            page = _page(writer, placed, number, len(pages), chart_data=data if number == 1 else None, labels=labels)
            pdf.savefig(page)
    return buffer.getvalue(), len(pages)


def _page(
    writer: Writer,
    placed: list[tuple[float, Line]],
    number: int,
    pages: int,
    *,
    chart_data: chart.ChartData | None,
    labels: dict[str, str],
) -> Figure:
    import matplotlib
    from matplotlib.figure import Figure

    width, height = PAGE
    # Constrained layout places the chart's panels, labels and legends in its box; the page's text is
    # placed by hand and left alone by it.
    page = Figure(figsize=PAGE, layout="constrained" if chart_data is not None else None)

    def put(x: float, y: float, words: str, size: float = BODY_SIZE, **style: Any) -> None:
        """Text at inches from the page's top left; `$` is a dollar, not mathematics."""
        page.text(x / width, 1 - y / height, printable(words), fontsize=size, parse_math=False, **TOP_ALIGNED, **style)

    if chart_data is not None:
        y = TOP
        for words, style in writer.header():
            size = style.pop("fontsize", BODY_SIZE + 0.5)
            put(MARGIN, y, words, size, **style)
            y += size / 72 * 1.55
        box, top = chart_height(writer.panels), CHART_TOP
        # Subfigures fill their parent by ratios: a row for the chart, then its middle column.
        rows = cast("Sequence[SubFigure]", page.subfigures(3, 1, height_ratios=[top, box, height - top - box]))
        columns = rows[1].subfigures(1, 3, width_ratios=[MARGIN, width - 2 * MARGIN, MARGIN])
        area = cast("Sequence[SubFigure]", columns)[1]
        with matplotlib.rc_context(CHART_TYPE):
            chart.draw_into(area, chart_data, labels, timezone=writer.report.timezone)
        page.get_layout_engine().set(w_pad=0, h_pad=0.02, wspace=0, hspace=0)  # type: ignore[union-attr,call-arg]
    text_width = width - 2 * MARGIN
    for y, line in placed:
        if line.kind == "heading":
            put(MARGIN, y + 0.12, line.cells[0], HEADING_SIZE, **BOLD)
        elif line.kind in ("row", "header_row"):
            style = BOLD if line.kind == "header_row" else {}
            for column, cell in zip(COLUMNS, line.cells, strict=True):
                put(MARGIN + column * text_width, y, cell, **style)
        else:
            put(
                MARGIN,
                y,
                line.cells[0],
                BODY_SIZE - 1 if line.kind == "small" else BODY_SIZE,
                **(GREY if line.kind == "small" else {}),
            )
    put(MARGIN, height - BOTTOM + 0.3, writer.footer(number, pages), BODY_SIZE - 1.5, **GREY)
    return page


# ---------------------------------------------------------------------------------------- one call


@dataclass(frozen=True)
class Made:
    pdf: bytes
    pages: int
    report: Report

    def caption(self, text: Text) -> str:
        """ "P-0012: visit report, 2026-08-23 to 2026-11-21" """
        r, zone = self.report, ZoneInfo(self.report.timezone)
        start, end = (at.astimezone(zone).date().isoformat() for at in (r.start, r.end))
        return text("report.caption", code=r.code, start=start, end=end)


async def make(database: Database, desk: AlertDesk, questionnaires: Questionnaires, text: Text, asked: Asked) -> Made:
    """Gather (audited), then draw off the event loop: a page of matplotlib takes a good part of a second."""
    import asyncio

    report = await gather(database, desk, questionnaires.values(), asked)
    pdf, pages = await asyncio.to_thread(render_pdf, report, text, questionnaires)
    return Made(pdf, pages, report)


async def to_file(
    database: Database,
    settings: Settings,
    *,
    code: str,
    days: int,
    out: Path,
    now: datetime,
    actor_id: int | None = None,
    how: str = "command line",
) -> Made:
    """The report in the clinic's language and time zone, written to `out` (the command line, the demo)."""
    from functools import partial

    from bot.prompts import Catalog

    catalog = Catalog.load(settings.default_language)
    questionnaires = Questionnaires.load()
    made = await make(
        database,
        AlertDesk.for_settings(database, settings, catalog, questionnaires),
        questionnaires,
        partial(catalog.text, settings.default_language),
        Asked(code, days, actor_id, now, settings.default_timezone, how),
    )
    write_private(out, made.pdf)
    return made


def write_private(path: Path, data: bytes) -> None:
    """Written beside the target and renamed when complete, readable by its owner only (health data)."""
    partial = path.with_name(path.name + ".partial")
    try:
        create_private_file(partial)
        partial.write_bytes(data)
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


def filename(code: str, now: datetime, timezone: str) -> str:
    return f"report-{code}-{now.astimezone(ZoneInfo(timezone)).date().isoformat()}.pdf"
