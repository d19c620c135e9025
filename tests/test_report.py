"""The visit report: what it gathers (adherence, alerts with what staff did, infusion cycles, scores,
notes), the PDF it draws read back with poppler (pages, size, words), /report in Telegram and
`python -m bot report` with their audit rows. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.desk import AlertDesk
from bot.alerts.rules import load_rules
from bot.diary.questionnaire import Questionnaires
from bot.diary.scheduler import UnknownPatient
from bot.prompts import Catalog
from bot.records import report
from bot.sandbox import SimulatedUser
from storage import alerts, audit, checkins, infusions, migrate, patients, staff, summaries
from storage.checkins import Sitting
from storage.database import Database
from tests.cli import run_cli
from tests.harness import SQLITE_ONLY, START, Diary
from tests.test_alerts import STAFF_CHAT, register_staff, staff_chat

NOW = START  # 2026-11-21 08:00 UTC, 09:00 in the clinic (Europe/Berlin)
ZONE = "Europe/Berlin"
QUESTIONNAIRES = Questionnaires.load()
CATALOG = Catalog.load("en")
SAM = 800
INFUSION_DAYS_AGO = 40

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftoppm, pdftotext) is not installed: apt-get install poppler-utils",
)


def text(key: str, **values: object) -> str:
    return CATALOG.text("en", key, **values)


def at(days_ago: float, hour: int = 9) -> datetime:
    """`hour` o'clock in the clinic, `days_ago` days before NOW's day."""
    day = NOW - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def pain_on(days_ago: int) -> int:
    """6 before the infusion; 2 from three days after it; creeping back up from day 25."""
    day = INFUSION_DAYS_AGO - days_ago
    if day < 0:
        return 6
    if day < 3:
        return 4
    return 2 if day < 25 else 4


async def a_patient(
    database: Database, code: str = "P-0012", *, days: int = 120, notes_every: int = 10, note: str = ""
) -> int:
    """`days` of morning and evening check-ins (every 9th evening missed), a note every `notes_every`
    mornings, a ketamine infusion 40 days ago, three skipped check-ins and one extra, PHQ-9 and PEG
    scores, and alerts that staff acknowledged, snoozed and resolved."""
    async with database.session() as session:
        patient = await patients.get_or_create(session=session, code=code, language="en", timezone=ZONE, now=NOW)
        assert patient.id is not None
        await patients.set_status(session=session, patient_id=patient.id, status="active")
        entries = []
        for d in range(days, 0, -1):
            answers = {"pain": str(pain_on(d)), "mood": "3" if d > 20 else "4", "skin_color": "same"}
            if d % notes_every == 0:
                answers["note"] = note or f"Note from {d} days ago: hand burning after the walk."
            if d == 12:
                answers["skin_color"] = "redder"
            entries.append((at(d, 9), at(d, 9).date(), answers))
            entries.append((at(d, 20), at(d, 20).date(), {} if d % 9 == 0 else {"pain": str(pain_on(d)), "mood": "3"}))
        await checkins.import_entries(session=session, patient_id=patient.id, questionnaire="daily", entries=entries)
        for d in (5, 6, 7):  # "Skip today"
            await checkins.create(
                session=session,
                patient_id=patient.id,
                questionnaire="daily",
                local_date=at(d, 14).date(),
                slot="14:00",
                started_at=at(d, 14),
                closes_at=at(d, 18),
                step=None,
                chat_id=None,
                status="skipped",
            )
        extra, _ = await checkins.create(
            session=session,
            patient_id=patient.id,
            questionnaire="daily",
            local_date=at(3, 13).date(),
            slot="extra-77",
            started_at=at(3, 13),
            closes_at=at(3, 18),
            step=None,
            chat_id=None,
        )
        assert extra.id is not None
        await checkins.upsert_answer(session=session, checkin_id=extra.id, item="pain", value="5", now=at(3, 13))
        await infusions.record(
            session=session,
            patient_id=patient.id,
            given_on=at(INFUSION_DAYS_AGO).date(),
            kind="ketamine",
            now=NOW,
            by=SAM,
        )
        phq9 = [(at(d, 10), at(d, 10).date(), {i.id: "1" for i in QUESTIONNAIRES["phq9"].items}) for d in (50, 8)]
        peg = [
            (at(d, 11), at(d, 11).date(), {"peg_pain": "6", "peg_enjoyment": "5", "peg_activity": "6"}) for d in (30, 2)
        ]
        await checkins.import_entries(session=session, patient_id=patient.id, questionnaire="phq9", entries=phq9)
        await checkins.import_entries(session=session, patient_id=patient.id, questionnaire="interference", entries=peg)

        await staff.add(session=session, telegram_user_id=SAM, role="staff", now=NOW, name="Sam Rivera")

        async def opened(rule: str, tier: str, days_ago: int) -> int:
            return await alerts.open_alert(
                session=session,
                patient_id=patient_id,
                rule=rule,
                tier=tier,
                details="{}",
                event_at=at(days_ago),
                now=at(days_ago),
                next_escalation_at=None,
            )

        patient_id = patient.id
        handled = await opened("severe_pain", "amber", 60)
        await alerts.acknowledge(session=session, alert_id=handled, by=SAM, now=at(60, 11))
        await alerts.resolve(session=session, alert_id=handled, by=SAM, now=at(59, 12))
        snoozed = await opened("relief_waning", "amber", 4)
        await alerts.snooze(session=session, alert_id=snoozed, by=SAM, until=at(4) + timedelta(days=7), now=at(4, 10))
        digest = await opened("missed_checkins", "digest", 9)
        await alerts.resolve(session=session, alert_id=digest, by=None, now=at(8, 19))
        old = await opened("swelling_new", "amber", 110)  # before the period: not in the report
        await alerts.resolve(session=session, alert_id=old, by=SAM, now=at(109))
    return patient.id


async def a_database(database_url: str) -> Database:
    database = Database(database_url)
    await migrate.upgrade(database)
    return database


def desk_for(database: Database) -> AlertDesk:
    return AlertDesk(database, rules=load_rules(), catalog=CATALOG, staff_chat_id=None, clinic_timezone=ZONE)


def asked(code: str = "P-0012", days: int = 90, actor_id: int | None = SAM) -> report.Asked:
    return report.Asked(code, days, actor_id, NOW, ZONE, how="test")


async def gathered(database: Database, code: str = "P-0012", days: int = 90) -> report.Report:
    return await report.gather(database, desk_for(database), QUESTIONNAIRES.values(), asked(code, days))


async def made(database: Database, days: int = 90, actor_id: int | None = SAM) -> report.Made:
    return await report.make(database, desk_for(database), QUESTIONNAIRES, text, asked(days=days, actor_id=actor_id))


# -- what is gathered


def test_adherence_counts_each_scheduled_check_in_once() -> None:
    late = NOW + timedelta(hours=3)
    sittings = [
        Sitting("09:00", "open", True, NOW),  # answered
        Sitting("20:00", "missed", False, NOW),
        Sitting("09:00", "skipped", True, NOW),  # skipped after one answer: skipped
        Sitting("20:00", "open", False, NOW - timedelta(hours=1)),  # closed, not marked missed yet
        Sitting("09:00", "open", False, late),  # still answerable
        Sitting("extra-5", "open", True, NOW),
    ]
    counted = report.adherence(sittings, now=NOW)
    assert counted == report.Adherence(scheduled=5, answered=1, missed=2, skipped=1, open=1, extra=1)
    assert counted.percent == 25, "the open one is not counted against the patient"
    assert report.adherence([], now=NOW).percent is None


async def test_gather_reads_the_period_in_one_audited_read(database_url: str) -> None:
    database = await a_database(database_url)
    try:
        await a_patient(database)
        found = await gathered(database)
        async with database.session() as session:
            events = await audit.since(session=session)
    finally:
        await database.dispose()

    assert (found.code, found.status, found.days) == ("P-0012", "active", 90)
    assert found.start == datetime(2026, 8, 24, tzinfo=ZoneInfo(ZONE)) and found.end == NOW, "90 whole days"
    assert all(found.start <= e.started_at <= NOW for e in found.entries)
    # 89 mornings and 89 evenings (none yet today), 9 evenings missed (every 9th day), 3 skipped.
    assert found.adherence == report.Adherence(scheduled=181, answered=169, missed=9, skipped=3, open=0, extra=1)
    assert found.adherence.percent == 93

    assert found.before.median == 6 and found.before.count == 52, "28 mornings and 28 evenings, 4 missed"
    assert [(b.first, b.last) for b in found.blocks] == [
        (date(2026, 8, 24), date(2026, 9, 22)),
        (date(2026, 9, 23), date(2026, 10, 22)),
        (date(2026, 10, 23), date(2026, 11, 21)),
    ]
    assert [len(b.pains) for b in found.blocks] == [57, 57, 56], "169 check-ins and the extra one"
    assert [b.pain_median for b in found.blocks] == [6, 6, 4], "the infusion 40 days ago, 2 from day 3, 4 from day 25"

    (cycle,) = found.cycles
    assert (cycle.infusion, cycle.kind, cycle.baseline) == (at(INFUSION_DAYS_AGO).date(), "ketamine", 6)
    assert found.infusions == [(at(INFUSION_DAYS_AGO).date(), "ketamine")]

    assert [(a.questionnaire, a.score.total if a.score else None) for a in found.answered] == [
        ("phq9", 9),
        ("interference", 5.7),
        ("phq9", 9),
        ("interference", 5.7),
    ]
    assert [a.rule for a in found.alerts] == ["severe_pain", "missed_checkins", "relief_waning"], "in the period"
    assert found.names == {SAM: "Sam Rivera"}
    assert len(found.notes) == 8 and found.notes[0][1] == "Note from 10 days ago: hand burning after the walk."
    assert found.notes[0][0] > found.notes[-1][0], "newest first"
    assert [(e.actor_id, e.action, e.patient_code, e.detail) for e in events] == [
        (SAM, "report", "P-0012", "90 days, test")
    ]


async def test_check_ins_the_bot_never_sent_are_not_counted_against_the_patient(database_url: str) -> None:
    """Three days the bot was down at 14:00: those check-ins are stored as missed, never sent. The report's
    adherence and the console panel's do not count them as the patient's; one sent and left unanswered is."""
    database = await a_database(database_url)
    try:
        patient_id = await a_patient(database, days=30)
        kept = (await gathered(database)).adherence
        async with database.session() as session:
            due = len((await summaries.due_since(session=session, patient_ids=[patient_id], since=at(30)))[patient_id])
            for d in (10, 11, 12, 13):
                checkin, _ = await checkins.create(
                    session=session,
                    patient_id=patient_id,
                    questionnaire="daily",
                    local_date=at(d, 14).date(),
                    slot="14:00",
                    started_at=at(d, 14),
                    closes_at=at(d, 20),
                    step=None,
                    chat_id=None,
                    status="missed" if d != 13 else "open",
                )
                assert checkin.id is not None
                if d == 13:  # sent, and left unanswered
                    await checkins.set_message(session=session, checkin_id=checkin.id, chat_id=5, message_id=9)
            await checkins.mark_missed(session=session, now=NOW)
            found = await summaries.due_since(session=session, patient_ids=[patient_id], since=at(30))
        now = (await gathered(database)).adherence
    finally:
        await database.dispose()
    assert (now.scheduled, now.missed, now.answered) == (kept.scheduled + 1, kept.missed + 1, kept.answered)
    assert len(found[patient_id]) == due + 1, "the panel's due check-ins: the one sent, not the three"


@SQLITE_ONLY
async def test_unknown_codes_and_bad_periods_are_refused(database_url: str) -> None:
    database = await a_database(database_url)
    try:
        with pytest.raises(UnknownPatient):
            await gathered(database, code="P-9999")
        await a_patient(database)
        for days in (0, 6, 366):
            with pytest.raises(report.BadDays):
                await gathered(database, days=days)
        async with database.session() as session:
            assert await audit.since(session=session) == [], "nothing read, nothing recorded"
    finally:
        await database.dispose()


def test_the_words_of_alerts_say_who_did_what_and_when() -> None:
    found = report.Report(
        code="P-0012",
        status="active",
        timezone=ZONE,
        start=NOW - timedelta(days=90),
        end=NOW,
        days=90,
        entries=[],
        infusions=[],
        before=report.Before(0, None),
        blocks=[],
        adherence=report.Adherence(0, 0, 0, 0, 0, 0),
        cycles=[],
        answered=[],
        alerts=[],
        names={SAM: "Sam Rivera"},
        notes=[],
    )
    writer = report.Writer(found, text, QUESTIONNAIRES)
    from storage.models import Alert

    acted = Alert(
        patient_id=1,
        rule="severe_pain",
        tier="amber",
        status="resolved",
        details="{}",
        event_at=at(60),
        opened_at=at(60),
        updated_at=at(59),
        acknowledged_by=SAM,
        acknowledged_at=at(60, 11),
        resolved_by=SAM,
        resolved_at=at(59, 12),
    )
    assert writer.alert_line(acted) == (
        f"{at(60).date()} 09:00 · amber · Severe pain on several check-ins in a row: "
        f"Acknowledged by Sam Rivera, {at(60).date()} 11:00; Resolved by Sam Rivera, {at(59).date()} 12:00"
    )
    waiting = Alert(
        patient_id=1,
        rule="crisis_text",
        tier="urgent",
        status="open",
        details="{}",
        event_at=at(1),
        opened_at=at(1),
        updated_at=at(1),
    )
    assert writer.alert_line(waiting).endswith("· urgent · The patient wrote words of suicide or self-harm: still open")


def test_notes_that_do_not_fit_two_pages_are_counted_not_drawn() -> None:
    fixed = [report.heading("Section"), *report.lines("x " * 2000)]
    notes = [report.lines(f"note {n} " + "word " * 40, most=report.NOTE_LINES) for n in range(200)]

    def more(count: int) -> report.Line:
        return report.Line("small", (f"{count} more",))

    shown, left_out = report.fit_notes(fixed, notes, more, first_top=6.0)
    assert 0 < left_out < 200
    assert shown[-1] == more(left_out)
    assert shown[0].cells[0].startswith("note 0 "), "the newest first"
    assert len(report.paginate([*fixed, *shown], first_top=6.0)) == report.MAX_PAGES
    assert all(len(note) <= report.NOTE_LINES for note in notes)
    assert report.lines("a " * 500, most=2)[-1].cells[0].endswith("…")


# -- the PDF, read back with poppler


def read_pdf(pdf: bytes, folder: Path) -> tuple[int, list[tuple[int, int]], str]:
    """Pages, the size of each page rendered at 50 dpi, and the text."""
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(path), str(folder / "page")], check=True)
    pngs = sorted(folder.glob("page-*.png"))
    sizes = []
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG")
        sizes.append((int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")))
    words = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return len(pngs), sizes, words


@needs_poppler
@SQLITE_ONLY
async def test_the_pdf_holds_the_report_on_two_pages_at_most(database_url: str, tmp_path: Path) -> None:
    database = await a_database(database_url)
    try:
        await a_patient(database)
        pdf = (await made(database)).pdf
    finally:
        await database.dispose()
    assert pdf.startswith(b"%PDF")
    pages, sizes, words = read_pdf(pdf, tmp_path)
    assert 1 <= pages <= 2
    assert all(413 <= width <= 414 and height == 585 for width, height in sizes), f"A4 at 50 dpi: {sizes}"
    flat = " ".join(words.split())
    assert "Diary report · P-0012" in flat
    assert "Period: 2026-08-24 to 2026-11-21 (90 days)" in flat
    on = at(INFUSION_DAYS_AGO).date().isoformat()
    assert f"Infusion {on} (ketamine): relief 67% at day 4" in flat, flat
    assert f"PHQ-9: 9 ({at(50).date()}), 9 ({at(8).date()})" in flat
    assert "PEG (pain interference): 5.7" in flat
    assert f"Acknowledged by Sam Rivera, {at(60).date()} 11:00" in flat
    assert f"wearing off: Snoozed by Sam Rivera until {at(-3).date()} 09:00 2026" in flat, "not 'still open'"
    assert "Resolved by the diary" in flat
    assert "Scheduled check-ins: 181 · answered 169 (93%) · missed 9 · skipped 3" in flat
    assert "Note from 10 days ago: hand burning after the walk." in flat
    assert "Pain median" in flat and "2026-10-23 – 2026-11-21 56 4 2–5 -2" in flat
    assert "moderate" not in flat and "severe" not in flat.replace("Severe pain", ""), "no score is interpreted"


@needs_poppler
async def test_a_long_diary_full_of_notes_still_fits_two_pages(database_url: str, tmp_path: Path) -> None:
    database = await a_database(database_url)
    note = "A long note about the day: " + "the hand was burning and swollen after physiotherapy, " * 6
    try:
        await a_patient(database, days=400, notes_every=1, note=note + " $5 and $6 for the bus 😭")
        pdf = (await made(database, days=365, actor_id=None)).pdf
    finally:
        await database.dispose()
    pages, _, words = read_pdf(pdf, tmp_path)
    assert pages == 2
    flat = " ".join(words.split())
    assert "earlier notes not shown (the diary export has them all)" in flat
    shown = flat.count("A long note about the day")
    assert 5 < shown < 364
    assert f"… and {364 - shown} earlier notes not shown" in flat, "one a morning, none yet today"


# -- /report in Telegram


@SQLITE_ONLY
async def test_staff_get_the_report_as_a_document_and_patients_are_refused(diary: Diary) -> None:
    sam = SimulatedUser(diary.standin, SAM, "Sam")
    await register_staff(diary, sam)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0001")
    await a_patient(diary.database, "P-0012")

    await sam.send("/report P-0012", chat_id=STAFF_CHAT)
    await sam.wait_for(lambda: any(m.document for m in staff_chat(diary)), timeout=60)
    sent = next(m for m in staff_chat(diary) if m.document)
    assert sent.document_name == "report-P-0012-2026-11-21.pdf"
    assert sent.document is not None and sent.document.startswith(b"%PDF")
    assert sent.caption == "P-0012: visit report, 2026-08-24 to 2026-11-21"

    reply = await sam.send("/report P-0012 30")  # in a direct chat: the document comes there
    await sam.wait_for(lambda: any(m.document for m in sam.messages), timeout=60)
    assert next(m for m in sam.messages if m.document).caption == "P-0012: visit report, 2026-10-23 to 2026-11-21"
    reply = await sam.send("/report P-9999")
    assert reply is not None and reply.text == "There is no patient with the code P-9999."
    for days in ("3", "²"):  # "²" is a digit to Python's isdigit, not a number int() reads
        reply = await sam.send(f"/report P-0012 {days}")
        assert reply is not None and (reply.text or "").startswith("Write /report P-0012 [days]"), days
    reply = await sam.send("/report")
    assert reply is not None and (reply.text or "").startswith("Write /report P-0012 [days]")

    reply = await ben.send("/report P-0012")
    assert reply is not None and not reply.document and "report" not in (reply.text or "").lower()
    async with diary.database.session() as session:
        recorded = [(e.actor_id, e.action, e.patient_code) for e in await audit.since(session=session)]
    assert recorded.count((SAM, "report", "P-0012")) == 2
    assert all(actor != ben.id for actor, _, _ in recorded)


async def test_a_report_or_chart_asked_in_a_staff_chat_that_takes_no_files_is_answered_with_words(
    diary: Diary,
) -> None:
    """A staff group whose permissions leave out photos and files refuses the report and the chart (400 "not enough
    rights to send documents"); the error handler says nothing in a group, and Sam, who asked, heard nothing."""
    sam = SimulatedUser(diary.standin, SAM, "Sam")
    await register_staff(diary, sam)
    await a_patient(diary.database, "P-0012")
    diary.standin.forbidden_kinds[STAFF_CHAT] = {"photo", "document"}
    for told, command in enumerate(("/report P-0012", "/patient P-0012"), start=1):
        await sam.send(command, chat_id=STAFF_CHAT)
        await sam.wait_for(
            lambda told=told: sum("Ask me in our direct chat" in (m.text or "") for m in staff_chat(diary)) == told,
            timeout=60,
        )
    assert not any(m.document or m.photo for m in staff_chat(diary))


# -- python -m bot report


@SQLITE_ONLY
async def test_the_command_line_writes_the_report_and_audits_it(database_url: str, tmp_path: Path) -> None:
    database = await a_database(database_url)
    try:
        await a_patient(database)
    finally:
        await database.dispose()
    out = tmp_path / "report.pdf"

    def cli(*args: str | Path) -> tuple[int, str, str]:
        done = run_cli("report", *args, DATABASE_URL=database_url, DEFAULT_TIMEZONE=ZONE)
        return done.returncode, done.stdout, done.stderr

    code, stdout, _ = await asyncio.to_thread(cli, "P-0012", "--days", "60", "--out", out)
    assert code == 0 and out.read_bytes().startswith(b"%PDF")
    assert stdout.startswith("wrote the 60-day report of P-0012") and str(out) in stdout
    assert out.stat().st_mode & 0o077 == 0, "health data: the owner's only"
    code, _, stderr = await asyncio.to_thread(cli, "P-9999", "--out", tmp_path / "none.pdf")
    assert code == 2 and stderr == "error: there is no patient with the code P-9999\n"
    code, _, stderr = await asyncio.to_thread(cli, "P-0012", "--days", "1000", "--out", tmp_path / "none.pdf")
    assert code == 2 and stderr.startswith("error: --days: the report covers 7 to 365 days")
    assert not (tmp_path / "none.pdf").exists()

    database = Database(database_url)
    try:
        async with database.session() as session:
            events = [(e.actor_id, e.action, e.patient_code, e.detail) for e in await audit.since(session=session)]
    finally:
        await database.dispose()
    assert events == [(None, "report", "P-0012", "60 days, command line")]


def test_the_report_file_is_named_by_code_and_the_clinics_day() -> None:
    late = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # already the 22nd in Berlin
    assert report.filename("P-0012", late, ZONE) == "report-P-0012-2026-11-22.pdf"
    assert date(2026, 11, 22).isoformat() in report.filename("P-0012", late, ZONE)


# Their databases are migrated before anything else: a copy of one migrated once per worker (conftest.py).
pytestmark = pytest.mark.migrated
