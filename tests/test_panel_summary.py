"""The patient panel's per-patient summaries (bot/diary/summary.py): the figures they keep are those a
computation from the whole diary gives, at any instant (the windows slide with the clock), and they stay
so after a check-in, an edit, a skip, a missed check-in, an infusion, an import, an erasure and the days
passing, on SQLite and PostgreSQL, as the panel page shows them."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median

import pytest
from sqlmodel import select

from bot.alerts.cycles import cycles
from bot.alerts.desk import AlertDesk
from bot.alerts.rules import load_rules
from bot.care_team.staff_chat import StaffChat
from bot.config import load_settings
from bot.console import panel
from bot.console.panel import PanelLine
from bot.diary import summary
from bot.diary.checkins import Action, CheckIns
from bot.diary.questionnaire import Questionnaires
from bot.records import erasure, importer
from storage import alerts, checkins, infusions, patients, summaries
from storage.database import Database
from storage.models import Answer, CheckIn, Infusion, Invite, PanelSummary, Patient, Schedule
from tests import test_console
from tests.harness import START, TEST_RULES
from tests.test_console import BASE, SAM, Browser

RELIEF = load_rules(TEST_RULES).relief_waning
browser = test_console.browser  # the console over HTTP on SQLite and PostgreSQL, with staff to sign in


# ---------------------------------------------------------------------------------------------- from scratch


@dataclass(frozen=True)
class Checked:
    """A daily check-in as the panel's definitions read it."""

    at: datetime
    pain: int | None
    completed: bool
    status: str  # open, missed, skipped


def expected(diary: list[Checked], infusion: date | None, *, now: datetime, timezone: str) -> summary.Summary:
    """The panel's figures computed from the whole diary, written out from their definitions (README,
    Web console) rather than through the summary's code."""
    soon = now + timedelta(minutes=1)
    pains = [(c.at, c.pain) for c in diary if c.pain is not None and c.at < soon]
    usual = [p for at, p in pains if at >= now - timedelta(days=28)]
    last_week = [p for at, p in pains if at >= now - timedelta(days=7)]
    week_before = [p for at, p in pains if now - timedelta(days=14) <= at < now - timedelta(days=7)]
    trend = None
    if last_week and week_before:
        change = median(last_week) - median(week_before)
        trend = "rising" if change >= 1 else "falling" if change <= -1 else "steady"
    fortnight = [c for c in diary if now - timedelta(days=14) <= c.at < soon]
    due = [c for c in fortnight if c.completed or c.status in ("missed", "skipped")]
    relief = None
    if infusion is not None and infusion >= (now - timedelta(days=365)).date():
        zone = summary.ZoneInfo(timezone)  # the patient's days, as /cycles counts them
        local = [(at.astimezone(zone), pain) for at, pain in pains]
        cycle = cycles(local, [(infusion, "")], today=now.astimezone(zone).date(), config=RELIEF)[-1]
        relief = cycle.relief_now if cycle.measured else None
    return summary.Summary(
        len(due),
        sum(c.completed for c in due),
        usual[-1] if usual else None,
        float(median(usual)) if usual else None,
        trend,
        infusion,
        relief,
        None,
    )


def figures(found: summary.Summary) -> tuple[object, ...]:
    return (found.due, found.answered, found.last_pain, found.usual_pain, found.trend, found.relief_now)


def varied_diary(rng: random.Random, *, start: datetime, days: int) -> list[Checked]:
    """Once or twice a day at wandering times, some days none, some missed or skipped, some answered
    without a pain, some answered partly and left open."""
    found = []
    for day in range(days):
        for slot in range(rng.choice((0, 1, 1, 1, 2))):
            at = start + timedelta(days=day, hours=7 + 11 * slot, minutes=rng.randint(0, 180), seconds=rng.random())
            kind = rng.random()
            if kind < 0.08:
                found.append(Checked(at, None, False, "missed"))
            elif kind < 0.12:
                found.append(Checked(at, None, False, "skipped"))
            elif kind < 0.16:
                found.append(Checked(at, rng.randint(0, 10), False, "open"))  # pain, then left
            elif kind < 0.2:
                found.append(Checked(at, None, True, "open"))  # answered, pain skipped
            else:
                found.append(Checked(at, rng.randint(2, 9), True, "open"))
    return found


def test_the_kept_figures_match_the_whole_diary_at_every_instant_until_they_say_they_stop() -> None:
    """Walk the clock over six weeks, in steps that land on every window's edge and between them: the
    figures computed once hold exactly until holds_until, and those computed again from what the row
    keeps match the whole diary's at every step after it."""
    rng = random.Random(14)
    for timezone, infusion_day in (("Europe/Berlin", 40), ("America/Los_Angeles", 55), ("Asia/Tokyo", None)):
        start = datetime(2026, 6, 1, tzinfo=UTC)
        diary = varied_diary(rng, start=start, days=90)
        infusion = (start + timedelta(days=infusion_day)).date() if infusion_day else None
        now = start + timedelta(days=75, hours=rng.randint(0, 23))
        written = [c for c in diary if c.at < now + timedelta(minutes=1)]  # what the diary holds at `now`
        inputs = summary.Inputs(
            [(c.at, c.pain) for c in written if c.pain is not None],
            [(c.at, c.completed) for c in written if c.completed or c.status != "open"],
            infusion,
        )
        kept = summary.compute(inputs, now=now, timezone=timezone, config=RELIEF)
        assert figures(kept) == figures(expected(written, infusion, now=now, timezone=timezone))
        edges = sorted({e for c in written for e in _edges(c.at) if now <= e <= now + timedelta(days=42)})
        steps = sorted(set(edges) | {now + timedelta(hours=7 * n) for n in range(144)})
        stored, recomputed = inputs, 0
        for at in steps:
            truth = figures(expected(written, infusion, now=at, timezone=timezone))
            if kept.holds_until is None or at <= kept.holds_until:
                assert figures(kept) == truth, (timezone, at)
                continue
            stored = summary._kept(stored, at, RELIEF)
            kept = summary.compute(stored, now=at, timezone=timezone, config=RELIEF)
            recomputed += 1
            assert figures(kept) == truth, (timezone, at)
        assert recomputed > 20, "the clock moved the figures often: the test walked past many edges"


def _edges(at: datetime) -> list[datetime]:
    tiny = timedelta(microseconds=1)
    found = []
    for edge in (at - timedelta(minutes=1), at + timedelta(days=7), at + timedelta(days=14), at + timedelta(days=28)):
        found += (edge - tiny, edge, edge + tiny)
    return found


# ---------------------------------------------------------------------------------------------- in the clinic


async def clinic_from_scratch(database: Database, *, now: datetime) -> dict[str, summary.Summary]:
    """Every patient's figures from their check-ins, answers and infusions, read row by row."""
    async with database.session() as session:
        everyone = (await session.exec(select(Patient))).all()
        rows = (await session.exec(select(CheckIn).where(CheckIn.questionnaire == "daily"))).all()
        pains = {a.checkin_id: a.value for a in (await session.exec(select(Answer).where(Answer.item == "pain"))).all()}
        given = (await session.exec(select(Infusion))).all()
    found = {}
    for patient in everyone:
        diary = sorted(
            (
                Checked(c.started_at, _number(pains.get(c.id or 0)), c.completed_at is not None, c.status)
                for c in rows
                if c.patient_id == patient.id
            ),
            key=lambda c: c.at,
        )
        latest = max((i.given_on for i in given if i.patient_id == patient.id), default=None)
        found[patient.code] = expected(diary, latest, now=now, timezone=patient.timezone)
    return found


def _number(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def shown(found: summary.Summary, *, today: date) -> list[str]:
    """The cells the panel shows for these figures (all but status and alerts)."""
    relief = found.relief_now
    usual = "" if found.usual_pain is None else f" ({found.usual_pain:g})"
    return [
        f"{round(100 * found.answered / found.due)}%" if found.due else "–",
        "–" if found.last_pain is None else f"{found.last_pain}{usual}",
        found.trend or "–",
        "–" if found.infusion is None else str((today - found.infusion).days),
        "–" if relief is None else f"{round(max(relief, 0) * 100)}%",
    ]


async def panel_page(browser: Browser) -> dict[str, list[str]]:
    page = await (await browser.client.get(f"{BASE}/patients?sort=code")).text()
    return {
        code: re.findall(r"<td>(.*?)</td>", cells)[1:6]
        for code, cells in re.findall(r'<tr>\s*<th scope="row"><a [^>]+>([^<]+)</a></th>(.*?)</tr>', page, re.S)
    }


async def assert_panel_right(browser: Browser) -> dict[str, list[str]]:
    now = browser.clock()
    page = await panel_page(browser)
    truth = await clinic_from_scratch(browser.database, now=now)
    today = now.astimezone(summary.ZoneInfo("Europe/Berlin")).date()
    assert page == {code: shown(found, today=today) for code, found in truth.items()}
    return page


async def stored(database: Database, code: str) -> PanelSummary | None:
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        assert patient is not None
        return (await session.exec(select(PanelSummary).where(PanelSummary.patient_id == patient.id))).first()


async def seed(database: Database, rng: random.Random) -> None:
    """Four patients: varied diaries (one west of UTC with evening check-ins, one with an infusion whose
    relief is measured), and one with nothing."""
    for n, zone in enumerate(("Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "Europe/Berlin"), start=1):
        async with database.session() as session:
            patient = await patients.get_or_create(
                session=session, code=f"P-000{n}", language="en", timezone=zone, now=START
            )
            assert patient.id is not None
            if n == 4:
                continue
            diary = varied_diary(rng, start=START - timedelta(days=100), days=100)
            for c in diary:
                await checkins.create(
                    session=session,
                    patient_id=patient.id,
                    questionnaire="daily",
                    local_date=c.at.date(),
                    slot=c.at.isoformat()[:32],
                    started_at=c.at,
                    closes_at=c.at + timedelta(hours=4),
                    step=None if c.completed else "mood",
                    chat_id=None,
                    status=c.status,
                )
            rows = (await session.exec(select(CheckIn).where(CheckIn.patient_id == patient.id))).all()
            by_time = {c.at: c for c in diary}
            for row in rows:
                c = by_time[row.started_at]
                assert row.id is not None
                row.message_id = row.id  # each reached the patient (one never sent is not counted: test_report)
                session.add(row)
                if c.pain is not None:
                    await checkins.upsert_answer(
                        session=session, checkin_id=row.id, item="pain", value=str(c.pain), now=c.at
                    )
                if c.completed:
                    await checkins.upsert_answer(session=session, checkin_id=row.id, item="mood", value="3", now=c.at)
                    row.completed_at = c.at + timedelta(minutes=2)
                    session.add(row)
            if n == 1:
                given = (START - timedelta(days=30)).date()
                await infusions.record(
                    session=session, patient_id=patient.id, given_on=given, kind="", now=START, by=None
                )


async def test_the_panel_stays_right_as_the_diary_changes_and_the_days_pass(browser: Browser, tmp_path: Path) -> None:
    database, clock = browser.database, browser.clock
    await seed(database, random.Random(21))
    settings = load_settings(_env_file=None, rules_file=TEST_RULES, default_timezone="Europe/Berlin")
    desk = AlertDesk.for_settings(database, settings)
    await browser.sign_in(SAM)

    # No summaries yet (as right after the migration): the first load computes and stores them.
    assert await stored(database, "P-0001") is None or (await stored(database, "P-0001")).fresh_until is None  # type: ignore[union-attr]
    first = await assert_panel_right(browser)
    assert first["P-0001"][4] != "–", "the infusion's relief is measured"
    assert first["P-0004"] == ["–"] * 5
    kept = await stored(database, "P-0001")
    assert kept is not None and kept.fresh_until is not None and kept.pains

    # A check-in completed through the buttons, then the rules' evaluation the handler runs: the row is
    # computed again at once (fresh), and the panel shows the new last pain.
    questionnaires = Questionnaires.load()
    diary = CheckIns(database, questionnaires, open_for=timedelta(hours=4))
    async with database.session() as session:
        ann = await patients.by_code(session=session, code="P-0001")
    assert ann is not None and ann.id is not None
    clock.advance(hours=1)
    state, _ = await diary.start(patient=ann, slot="09:00", now=clock())
    answers = {"pain": "10", "skin_color": "normal", "skin_temperature": "same", "swelling": "none", "mood": "2"}
    for item, value in answers.items():
        await diary.act(patient=ann, checkin_id=state.id, action=Action.ANSWER, item_id=item, value=value, now=clock())
    await diary.act(patient=ann, checkin_id=state.id, action=Action.SKIP, item_id="note", value="", now=clock())
    marked = await stored(database, "P-0001")
    assert marked is not None and marked.fresh_until is None, "the change marked the summary out of date"
    await desk.evaluate(patient_id=ann.id, now=clock())
    refreshed = await stored(database, "P-0001")
    assert refreshed is not None and refreshed.fresh_until is not None, "computed again after the check-in"
    assert (await assert_panel_right(browser))["P-0001"][1].startswith("10 (")

    # An edit of the pain of that check-in (Edit, then a new answer).
    clock.advance(minutes=5)
    await diary.act(patient=ann, checkin_id=state.id, action=Action.EDIT, item_id="", value="", now=clock())
    await diary.act(patient=ann, checkin_id=state.id, action=Action.ANSWER, item_id="pain", value="1", now=clock())
    assert (await assert_panel_right(browser))["P-0001"][1].startswith("1 (")

    # A check-in skipped, and one missed: due, not answered (the panel computes them on load).
    clock.advance(hours=3)
    skipped, _ = await diary.start(patient=ann, slot="extra-1", now=clock())
    await diary.set_aside(patient=ann, checkin_id=skipped.id, action=Action.SKIP_TODAY, now=clock())
    left, _ = await diary.start(patient=ann, slot="extra-2", now=clock())
    await diary.attach_message(checkin_id=left.id, chat_id=1, message_id=1)  # as /checkin does once it is sent
    clock.advance(hours=5)
    async with database.session() as session:
        await checkins.mark_missed(session=session, now=clock())
    before = first["P-0001"][0]
    assert (await assert_panel_right(browser))["P-0001"][0] != before

    # An infusion recorded by staff: a new cycle, days since it 0.
    assert await desk.record_infusion(code="P-0002", on=clock().date(), kind="ketamine", by=SAM, now=clock())
    recorded = await stored(database, "P-0002")
    assert recorded is not None and recorded.fresh_until is not None and recorded.infusion_on == clock().date()
    assert (await assert_panel_right(browser))["P-0002"][3] == "0"

    # Imported history (the command line's import) for the patient with nothing yet.
    csv = tmp_path / "diary.csv"
    lines = ["patient,recorded_at,pain,skin_color,skin_temperature,swelling,mood,note"]
    for d in range(1, 20):
        at = (clock() - timedelta(days=d, hours=2)).isoformat()
        lines.append(f"P-0004,{at},{d % 9},,,,3,")
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    await importer.import_files(
        database, csv, infusions_file=None, now=clock(), language="en", timezone="Europe/Berlin"
    )
    imported = await assert_panel_right(browser)
    assert imported["P-0004"][1] == "1 (4)", "the newest imported pain, against the median of 19 days"

    # Erasure: the summary goes with the patient.
    async with database.session() as session:
        gone = await patients.by_code(session=session, code="P-0003")
    assert gone is not None and gone.id is not None
    staff_chat = StaffChat(database, configured=None)
    assert await erasure.erase(
        database,
        patient_id=gone.id,
        telegram_user_id=gone.telegram_user_id,
        now=clock(),
        staff_chat=staff_chat,
        staff_text=str,
        hold=timedelta(0),
    )
    async with database.session() as session:
        left = (await session.exec(select(PanelSummary).where(PanelSummary.patient_id == gone.id))).all()
    assert left == []
    assert "P-0003" not in await assert_panel_right(browser)

    # The days pass with nothing written: adherence, usual pain, trend and days since infusion move with
    # the clock (each load signs in again: sessions end after 12 hours idle).
    pages = []
    for hours in (7, 17, 24, 24 * 6, 24 * 8, 24 * 15, 24 * 30):
        clock.advance(hours=hours)
        await browser.sign_in(SAM)
        pages.append(await assert_panel_right(browser))
    assert len({str(p["P-0001"]) for p in pages}) > 3, "the figures moved as the windows slid"
    assert pages[-1]["P-0001"][:3] == ["–", "–", "–"], "a month later, nothing is within the windows"


async def test_a_summary_computed_before_a_change_is_not_written_over_it(database_url: str) -> None:
    """A summary read from the diary before a check-in changed it (another process, another transaction)
    is not stored: the change raised the version it read, so the panel computes it again."""
    from storage import migrate

    database = Database(database_url)
    await migrate.upgrade(database)
    try:
        async with database.session() as session:
            patient = await patients.get_or_create(
                session=session, code="P-0001", language="en", timezone="UTC", now=START
            )
            assert patient.id is not None
            await summaries.changed(session=session, patient_ids=[patient.id])
            read = await summaries.versions(session=session, patient_ids=[patient.id])
        async with database.session() as session:  # the change, committed meanwhile
            await summaries.changed(session=session, patient_ids=[patient.id])
        async with database.session() as session:
            row = {"patient_id": patient.id, "fresh_until": summary.FOREVER, "timezone": "UTC", "rules": "x"}
            await summaries.save(session=session, rows=[row], read=read)
            kept = (await session.exec(select(PanelSummary))).one()
        assert kept.fresh_until is None and kept.version == 2
    finally:
        await database.dispose()


# ---------------------------------------------------------------------------------------------- sorting and pages


def sorted_as_defined(lines: list[PanelLine], *, sort: str, status: str | None) -> list[str]:
    """The panel's order, written out from its definition: filtered by status; what is unknown last."""
    shown = sorted((line for line in lines if status is None or line.status == status), key=lambda line: line.code)
    keys = {
        "code": lambda line: (),
        "status": lambda line: (line.status,),
        "adherence": lambda line: (line.adherence is None, line.adherence or 0.0),
        "pain": lambda line: (
            line.last_pain is None,
            -((line.last_pain or 0) - (line.usual_pain if line.usual_pain is not None else line.last_pain or 0)),
        ),
        "infusion": lambda line: (line.days_since_infusion is None, -(line.days_since_infusion or 0)),
        "alerts": lambda line: (-line.open_alerts,),
    }
    return [line.code for line in sorted(shown, key=keys[sort])]  # stable: ties stay by code


async def test_the_panel_sorts_filters_and_pages_in_the_database_as_defined(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = browser.database
    rng = random.Random(5)
    await seed(database, rng)  # four with diaries, relief and nothing
    async with database.session() as session:
        for n in range(5, 24):
            patient = await patients.get_or_create(
                session=session, code=f"P-00{n:02d}", language="en", timezone="Europe/Berlin", now=START
            )
            assert patient.id is not None
            patient.status = rng.choice(("active", "active", "invited", "discharged", "unreachable"))
            session.add(patient)
            if n % 4 == 0:  # paused while active; declined while invited
                session.add(
                    Schedule(
                        patient_id=patient.id,
                        times="09:00",
                        days="mon-sun",
                        timezone="Europe/Berlin",
                        paused_until=START + timedelta(days=3),
                    )
                )
                session.add(
                    Invite(
                        token_hash=f"{n:064d}",
                        patient_id=patient.id,
                        language="en",
                        timezone="Europe/Berlin",
                        created_at=START,
                        expires_at=START,
                        declined_at=START,
                    )
                )
            for d in range(rng.randint(0, 20)):
                at = START - timedelta(days=d, hours=rng.randint(1, 5))
                checkin, _ = await checkins.create(
                    session=session, patient_id=patient.id, questionnaire="daily", local_date=at.date(),
                    slot="09:00", started_at=at, closes_at=at, step=None, chat_id=None,
                    status=rng.choice(("open", "open", "missed")),
                )  # fmt: skip
                assert checkin.id is not None
                if checkin.status == "open":
                    value = str(rng.choice((3, 5, 5, 7)))  # ties, to check they go by code
                    await checkins.upsert_answer(
                        session=session, checkin_id=checkin.id, item="pain", value=value, now=at
                    )
                    await checkins.move_to(
                        session=session, checkin_id=checkin.id, patient_id=patient.id, step=None, now=at - timedelta(1)
                    )
            if n % 3 == 0:
                given = (START - timedelta(days=rng.choice((5, 9, 9, 40)))).date()
                await infusions.record(
                    session=session, patient_id=patient.id, given_on=given, kind="", now=START, by=None
                )
    async with database.session() as session:
        for n, rule in (
            (6, "severe_pain"),
            (7, "severe_pain"),
            (7, "low_mood"),
            (9, "severe_pain"),
            (9, "low_mood"),
            (9, "swelling_new"),
            (10, "low_mood"),
        ):
            patient = await patients.by_code(session=session, code=f"P-00{n:02d}")
            assert patient is not None and patient.id is not None
            await alerts.open_alert(
                session=session, patient_id=patient.id, rule=rule, tier="amber", details="{}", event_at=START,
                now=START, next_escalation_at=None,
            )  # fmt: skip
    settings = load_settings(_env_file=None, rules_file=TEST_RULES, default_timezone="Europe/Berlin")
    desk = AlertDesk.for_settings(database, settings)
    now = browser.clock()
    everything = await panel.panel(database, desk, actor_id=SAM, now=now, sort="code", status=None, page=1)
    assert everything.count == everything.shown == len(everything.lines) == 23
    assert {line.status for line in everything.lines} >= {"active", "paused", "invited", "declined", "discharged"}
    monkeypatch.setattr(panel, "PAGE", 4)
    for sort in panel.SORTS:
        for status in (None, "active", "invited", "paused", "declined"):
            codes, page = [], 1
            while True:
                found = await panel.panel(database, desk, actor_id=SAM, now=now, sort=sort, status=status, page=page)
                codes += [line.code for line in found.lines]
                if found.page == found.pages:
                    break
                page += 1
            assert codes == sorted_as_defined(everything.lines, sort=sort, status=status), (sort, status)
    await browser.sign_in(SAM)
    page_two = await (await browser.client.get(f"{BASE}/patients?sort=code&page=2")).text()
    assert "P-0005</a>" in page_two and "P-0001</a>" not in page_two and "Page 2 of 6" in page_two
    assert 'href="/console/patients?sort=code&amp;page=3" rel="next"' in page_two
