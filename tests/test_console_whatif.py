"""The console's rules what-if and a patient's schedule and questionnaire cadences, over real HTTP on
SQLite and PostgreSQL: who may open and press what, CSRF on every form, a bad rules file refused with
its line and setting and nothing saved, per-rule counts equal to `replay` on the same diary, saving
(file, backup, audit row, the bot taking the new rules), and schedule edits stored and audited, bad
input changing nothing."""

from __future__ import annotations

import html
import logging
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bench.simulated_diaries import simulate
from bot import access
from bot.alerts.rules import DEFAULT_RULES_FILE, RULE_NAMES, load_rules
from bot.alerts.rules_file import RulesFollower, fingerprint
from bot.alerts.trends import Point
from bot.app import crisis_language
from bot.config import load_settings
from bot.console.app import Console
from bot.diary.questionnaire import Questionnaires
from bot.diary.schedule_rules import parse_rule
from bot.diary.scheduler import Scheduler
from bot.records import clinic_history, diary_csv, replay
from bot.records.importer import import_files
from storage import cadences, patients, schedules
from storage.database import Database
from storage.models import CheckIn
from tests import test_console
from tests.harness import SQLITE_ONLY, START, TEST_RULES, running_diary
from tests.test_alerts import a_card
from tests.test_console import ADA, BASE, SAM, Browser, audit_rows

console_browser = test_console.browser  # the fixture, under a name of its own here

TZ = "Europe/Berlin"
# Every page and action of this file in bot/access.py's CONSOLE table, as a request with a valid form.
PAGES = {
    "rules": ("GET", "/rules", {}),
    "rules_replay": ("POST", "/rules/replay", {"text": "severe_pain: {consecutive: 2}\n", "window": "all"}),
    "rules_save": ("POST", "/rules/save", {"text": "severe_pain: {consecutive: 2}\n"}),
    "schedule": ("GET", "/patients/P-0001/schedule", {}),
    "schedule_edit": (
        "POST",
        "/patients/P-0001/schedule",
        {"times": "10:00", "days": "mon-fri", "timezone": "Europe/Madrid", "quiet": ""},
    ),
    "cadences_edit": ("POST", "/patients/P-0001/questionnaires", {"cadence-phq2": "21"}),
}
PROPOSED = """# stricter on pain, quieter on missed check-ins
severe_pain:
  consecutive: 2
  days: 1
missed_checkins:
  enabled: false
"""


@dataclass
class Clinic:
    browser: Browser
    console: Console
    rules: Path  # the file the console saves to (a copy of the default rules)

    @property
    def client(self) -> TestClient:  # type: ignore[type-arg]
        return self.browser.client

    async def page(self, path: str) -> str:
        response = await self.client.get(BASE + path)
        assert response.status == 200, (path, response.status)
        return await response.text()

    async def post(self, path: str, form: dict[str, str], *, csrf_from: str) -> tuple[int, str]:
        csrf = self.browser.csrf(await self.page(csrf_from))
        response = await self.client.post(BASE + path, data=form | {"csrf": csrf}, allow_redirects=False)
        return response.status, await response.text()


@pytest.fixture
async def clinic(console_browser: Browser, database_url: str, tmp_path: Path) -> AsyncIterator[Clinic]:
    """test_console's database and team (Sam, staff; Ada, admin), P-0001 with a schedule, and a console
    that saves its rules to a copy of the default rules and offers the clinic's questionnaires."""
    rules = tmp_path / "rules.yaml"
    shutil.copy(DEFAULT_RULES_FILE, rules)
    database, clock = console_browser.database, console_browser.clock
    settings = load_settings(
        _env_file=None, database_url=database_url, console_url="http://127.0.0.1/console", rules_file=rules
    )
    async with database.session() as session:
        await patients.get_or_create(
            session=session, code="P-0001", language="en", timezone="Europe/Berlin", now=clock()
        )
    scheduler = Scheduler.for_settings(database, settings, Questionnaires.load().daily)
    nine = parse_rule("09:00", "mon-sun", TZ)
    await scheduler.set_schedule(code="P-0001", rule=nine, now=clock(), actor_id=None)
    console = Console.for_settings(database, settings, clock=clock)
    async with TestClient(TestServer(console.application())) as client:
        yield Clinic(Browser(client, database, clock), console, rules)


def textarea(page: str) -> str:
    found = re.search(r'<textarea id="rules-text"[^>]*>\n(.*?)</textarea>', page, re.DOTALL)
    assert found is not None
    return html.unescape(found.group(1))


def hidden(page: str, name: str) -> str:
    found = re.search(f'name="{name}" value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def save_form(page: str) -> dict[str, str]:
    """The form the Save button sends, from the page a replay showed."""
    assert 'formaction="/console/rules/save"' in page, "a Save button after a replay"
    return {"text": textarea(page), "base": hidden(page, "base"), "replayed": hidden(page, "replayed")}


async def replayed(clinic: Clinic, text: str, window: str = "all") -> tuple[int, str]:
    """Open the rules page, put `text` in the box and press Replay."""
    base = hidden(await clinic.page("/rules"), "base")
    return await clinic.post("/rules/replay", {"text": text, "window": window, "base": base}, csrf_from="/rules")


def counts(page: str) -> dict[str, tuple[int, int]]:
    """The what-if table: rule -> (alerts under the rules in use, under the proposed ones)."""
    rows = re.findall(r'<th scope="row">([\w ]+)</th>\s*<td>[^<]*</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>', page)
    return {rule: (int(now), int(then)) for rule, now, then in rows}


async def stored_schedule(database: Database) -> tuple[str, str, str, str | None]:
    async with database.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
        assert patient is not None and patient.id is not None
        found = await schedules.get(session=session, patient_id=patient.id)
    assert found is not None
    return found.times, found.days, found.timezone, found.quiet_hours


async def own_cadences(database: Database) -> dict[str, int]:
    async with database.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
        assert patient is not None and patient.id is not None
        return await cadences.of_patient(session=session, patient_id=patient.id)


async def unchanged(clinic: Clinic, rules_before: bytes) -> None:
    """Nothing a refused request could have changed has changed."""
    assert clinic.rules.read_bytes() == rules_before
    assert not clinic.rules.with_name("rules.yaml.bak").exists()
    assert await stored_schedule(clinic.browser.database) == ("09:00", "mon-sun", "Europe/Berlin", None)
    assert await own_cadences(clinic.browser.database) == {}
    changes = {"rules_save", "schedule", "questionnaires"}
    assert not [row for row in await audit_rows(clinic.browser.database) if row[1] in changes and row[0] is not None]


# ---------------------------------------------------------------------------------------------- access, CSRF


@pytest.mark.parametrize("who", ["nobody", "staff", "admin"])
@SQLITE_ONLY
async def test_every_page_and_action_by_role(clinic: Clinic, who: str) -> None:
    before = clinic.rules.read_bytes()
    user = {"staff": SAM, "admin": ADA}.get(who)
    role = {"staff": access.Role.STAFF, "admin": access.Role.ADMIN}.get(who)
    if user is not None:
        await clinic.browser.sign_in(user)
        csrf = clinic.browser.csrf(await clinic.page("/alerts"))
    for page, (method, path, form) in PAGES.items():
        if method == "GET":
            response = await clinic.client.get(BASE + path, allow_redirects=False)
        else:
            data = form | ({"csrf": csrf} if user is not None else {})
            response = await clinic.client.post(BASE + path, data=data, allow_redirects=False)
        text = await response.text()
        if role is not None and access.console_allowed(frozenset({role}), page):
            # the save is refused for want of a replay (400), which only an admin gets to hear
            assert response.status in (200, 303, 400), (who, page, response.status)
            assert "Only admins" not in text
        elif user is None:
            assert response.status == (303 if method == "GET" else 403), (who, page, response.status)
        else:
            assert response.status == 403 and "Only admins" in text, (who, page)
    if who != "admin":
        await unchanged(clinic, before)
    else:
        assert await stored_schedule(clinic.browser.database) == ("10:00", "mon,tue,wed,thu,fri", "Europe/Madrid", None)
        assert await own_cadences(clinic.browser.database) == {"phq2": 21}
        assert clinic.rules.read_bytes() == before, "a save without a replay saves nothing"


@SQLITE_ONLY
async def test_staff_see_the_schedule_read_only_and_admins_get_the_forms(clinic: Clinic) -> None:
    await clinic.browser.sign_in(SAM)
    record = await clinic.page("/patients/P-0001")
    assert f'href="{BASE}/patients/P-0001/schedule"' in record, "the record links to it"
    page = await clinic.page("/patients/P-0001/schedule")
    assert "09:00 mon-sun Europe/Berlin" in page and "the clinic&#39;s, 22:00-07:00" in page
    assert "= 08:00 UTC" in page, "the next check-ins, local and UTC"
    assert "every 14 days (clinic&#39;s)" in page, "the PHQ-2's cadence"
    assert 'name="times"' not in page and 'name="cadence-phq2"' not in page
    assert f'href="{BASE}/rules"' not in page, "no Rules link for staff"
    assert (SAM, "view_schedule", "P-0001") in await audit_rows(clinic.browser.database)
    clinic.client.session.cookie_jar.clear()
    await clinic.browser.sign_in(ADA)
    page = await clinic.page("/patients/P-0001/schedule")
    assert 'name="times" value="09:00"' in page and 'name="cadence-phq2" value="clinic"' in page
    assert f'href="{BASE}/rules"' in page
    assert (await clinic.client.get(f"{BASE}/patients/P-9999/schedule")).status == 404
    viewed = [row for row in await audit_rows(clinic.browser.database) if row[1] == "view_schedule"]
    assert viewed == [(SAM, "view_schedule", "P-0001"), (ADA, "view_schedule", "P-0001")], "no read, no row"


def test_the_access_table_names_these_pages_for_admins_and_staff() -> None:
    assert set(PAGES) <= set(access.CONSOLE)
    staff_only = frozenset({access.Role.STAFF})
    assert [p for p in PAGES if access.console_allowed(staff_only, p)] == ["schedule"]


@pytest.mark.parametrize("csrf", [None, "", "0" * 64])
@SQLITE_ONLY
async def test_every_post_needs_the_sessions_csrf_token(clinic: Clinic, csrf: str | None) -> None:
    before = clinic.rules.read_bytes()
    await clinic.browser.sign_in(ADA)
    status, page = await replayed(clinic, PROPOSED)
    assert status == 200
    save = save_form(page)  # a form that saves, but for the token
    for name, (method, path, form) in PAGES.items():
        if method != "POST":
            continue
        data = save if name == "rules_save" else form
        data = data | ({} if csrf is None else {"csrf": csrf})
        response = await clinic.client.post(BASE + path, data=data, allow_redirects=False)
        assert response.status == 403 and "out of date" in await response.text(), name
    await unchanged(clinic, before)
    replays = [row for row in await audit_rows(clinic.browser.database) if row[1] == "rules_replay"]
    assert replays == [(ADA, "rules_replay", None)], "the one replay with the token, none without"


# ---------------------------------------------------------------------------------------------- rules what-if


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("# tighter\nsevere_pain:\n  consecutive: 0\n", "rules.yaml, line 3: severe_pain.consecutive: Input should be"),
        ("severe_pain:\n  tier: loud\n", "rules.yaml, line 2: severe_pain.tier: Input should be"),
        ("low_mood:\n  at_most: 2\n  drop_too: 1\n", "rules.yaml, line 3: low_mood.drop_too: Extra inputs"),
        ("severe_pain: [\n", "rules.yaml: not valid YAML at line 2, column 1"),
        # Lists in lists beyond what the YAML reader can follow: refused as any bad YAML, not a server error.
        ("severe_pain: " + "[" * 5000 + "\n", "rules.yaml: not valid YAML (nested too deeply)"),
    ],
)
@SQLITE_ONLY
async def test_a_bad_rules_file_shows_the_line_and_setting_and_saves_nothing(
    clinic: Clinic, given: str, message: str
) -> None:
    before = clinic.rules.read_bytes()
    await clinic.browser.sign_in(ADA)
    status, page = await replayed(clinic, given)
    assert status == 400 and message in html.unescape(page)
    assert textarea(page) == given, "what the admin wrote stays in the box"
    assert "formaction" not in page and counts(page) == {}
    # Pressing Save anyway (a form made by hand) is refused too.
    base = fingerprint(before)
    form = {"text": given, "base": base, "replayed": fingerprint(given.encode())}
    status, page = await clinic.post("/rules/save", form, csrf_from="/rules")
    assert status == 400 and message in html.unescape(page)
    await unchanged(clinic, before)
    assert "rules_replay" not in [action for _, action, _ in await audit_rows(clinic.browser.database)]


@SQLITE_ONLY
async def test_an_upload_is_checked_as_the_text_is(clinic: Clinic) -> None:
    await clinic.browser.sign_in(ADA)
    csrf = clinic.browser.csrf(await clinic.page("/rules"))
    data = FormData()
    data.add_field("csrf", csrf)
    data.add_field("text", "")
    data.add_field("upload", b"severe_pain:\n  at_least: 11\n", filename="mine.yaml", content_type="application/yaml")
    response = await clinic.client.post(f"{BASE}/rules/replay", data=data)
    page = await response.text()
    assert response.status == 400 and "mine.yaml, line 2: severe_pain.at_least: Input should be less than" in page
    assert textarea(page) == "severe_pain:\n  at_least: 11\n", "the upload is in the box, to be put right"

    good = FormData()
    for name, value in (("csrf", csrf), ("text", ""), ("base", fingerprint(clinic.rules.read_bytes()))):
        good.add_field(name, value)
    written_on_windows = "\ufeffsevere_pain:\r\n  consecutive: 3"  # a byte order mark, CRLF, no last line end
    good.add_field("upload", written_on_windows.encode(), filename="mine.yaml", content_type="application/yaml")
    response = await clinic.client.post(f"{BASE}/rules/replay", data=good)
    page = await response.text()
    assert response.status == 200 and textarea(page) == "severe_pain:\n  consecutive: 3\n"
    assert (await clinic.post("/rules/save", save_form(page), csrf_from="/rules"))[0] == 303
    assert clinic.rules.read_text() == "severe_pain:\n  consecutive: 3\n"

    binary = FormData()
    binary.add_field("csrf", csrf)
    binary.add_field("upload", b"\xff\xfe\x00rules", filename="rules.xlsx", content_type="application/octet-stream")
    response = await clinic.client.post(f"{BASE}/rules/replay", data=binary)
    assert response.status == 400 and "rules.xlsx: not UTF-8 text" in await response.text()
    large = FormData()
    large.add_field("csrf", csrf)
    large.add_field("upload", b"#" * 50_000, filename="huge.yaml", content_type="application/yaml")
    response = await clinic.client.post(f"{BASE}/rules/replay", data=large)
    assert response.status == 400 and "huge.yaml: larger than 48 kB" in await response.text()


async def test_per_rule_counts_match_a_direct_replay_of_the_same_diary(clinic: Clinic, tmp_path: Path) -> None:
    cohort = simulate(8, 150, seed=3)
    diary, infusions = tmp_path / "diary.csv", tmp_path / "infusions.csv"
    # In the patients' zone, as the desk reads a diary: the CSV's offsets then give the replay the same days.
    diary_csv.write_points(
        diary, ((p.code, [replace(q, at=q.at.astimezone(ZoneInfo(TZ))) for q in p.points]) for p in cohort)
    )
    diary_csv.write_infusions(infusions, ((p.code, p.infusions) for p in cohort))
    await import_files(
        clinic.browser.database, diary, infusions_file=infusions, now=START, language="en", timezone="Europe/Berlin"
    )
    proposed_file = tmp_path / "proposed.yaml"
    proposed_file.write_text(PROPOSED)
    rows, given = diary_csv.read_diary(diary), diary_csv.read_infusions(infusions)
    expected = {
        name: replay.replay(rows, given, load_rules(path), crisis_language())[0].by_rule
        for name, path in (("current", clinic.rules), ("proposed", proposed_file))
    }

    await clinic.browser.sign_in(ADA)
    status, page = await replayed(clinic, PROPOSED)
    assert status == 200, page
    shown = counts(page)
    assert set(shown) == {*RULE_NAMES, "all rules"}
    for rule in RULE_NAMES:
        assert shown[rule] == (expected["current"][rule], expected["proposed"][rule]), rule
    assert shown["missed_checkins"][0] > 0 and shown["missed_checkins"][1] == 0, "a rule turned off counts none"
    assert shown["severe_pain"][1] > shown["severe_pain"][0], "2 in a row fires more often than 4"
    assert shown["all rules"] == (sum(expected["current"].values()), sum(expected["proposed"].values()))
    assert f"{len(cohort)} patients," in page
    assert textarea(page) == PROPOSED and save_form(page)["replayed"] == fingerprint(PROPOSED.encode())
    assert (ADA, "rules_replay", None) in await audit_rows(clinic.browser.database), "one row: every diary read"

    # The window: 90 days reads less of the diary, and counts fewer alerts.
    status, page = await replayed(clinic, PROPOSED, "90")
    assert counts(page)["all rules"][0] < shown["all rules"][0]


@SQLITE_ONLY
async def test_the_what_if_counts_a_patients_days_in_their_own_zone(clinic: Clinic, tmp_path: Path) -> None:
    """As the alert desk does: pain 9 at 08:00 and 20:00 in Los Angeles on a Monday and a Tuesday is two
    days (no severe pain: its 4 check-ins must cover 3), though in UTC the four fall on three dates."""
    los_angeles = ZoneInfo("America/Los_Angeles")
    monday = datetime(2026, 11, 2, 8, 0, tzinfo=los_angeles)
    four = [Point(monday + timedelta(hours=h), pain=9) for h in (0, 12, 24, 36)]
    assert len({p.at.astimezone(UTC).date() for p in four}) == 3
    diary = tmp_path / "diary.csv"
    diary_csv.write_points(diary, [("P-0002", four)])
    database = clinic.browser.database
    now = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
    await import_files(database, diary, infusions_file=None, now=now, language="en", timezone="America/Los_Angeles")
    history = await clinic_history.read(
        database,
        Questionnaires.load(),
        since=now - timedelta(days=30),
        actor_id=None,
        action="rules_replay",
        detail="test",
        now=now,
    )
    report, _ = replay.replay_diaries(
        history.diaries, history.infusions, load_rules(), crisis_language(), history.scores
    )
    assert report.checkins == 4 and report.by_rule["severe_pain"] == 0


async def test_saving_writes_the_file_keeps_a_backup_audits_and_the_console_uses_it(clinic: Clinic) -> None:
    before = clinic.rules.read_bytes()
    await clinic.browser.sign_in(ADA)
    assert textarea(await clinic.page("/rules")) == before.decode()
    edited = PROPOSED.replace("\n", "\r\n")  # as a browser sends a textarea
    status, page = await replayed(clinic, edited)
    assert status == 200
    save = {
        "text": textarea(page),
        "base": re.findall(r'name="base" value="(\w+)"', page)[0],
        "replayed": re.findall(r'name="replayed" value="(\w+)"', page)[0],
    }
    status, changed = await clinic.post(
        "/rules/save", save | {"text": PROPOSED + "# one more line\n"}, csrf_from="/rules"
    )
    assert status == 400 and "replay them, then save" in changed
    assert clinic.rules.read_bytes() == before

    status, _ = await clinic.post("/rules/save", save, csrf_from="/rules")
    assert status == 303
    assert clinic.rules.read_text() == PROPOSED
    assert clinic.rules.with_name("rules.yaml.bak").read_bytes() == before
    assert not list(clinic.rules.parent.glob("*.partial"))
    assert clinic.console.desk.rules.severe_pain.consecutive == 2, "this process's desk checks with the new rules"
    assert "Saved." in await clinic.page("/rules?saved=1")
    rows = [e for e in await audit_rows(clinic.browser.database) if e[1] == "rules_save"]
    assert rows == [(ADA, "rules_save", None)]
    async with clinic.browser.database.session() as session:
        from storage import audit

        (event,) = [e for e in await audit.since(session=session) if e.action == "rules_save"]
    assert event.detail == f"sha256 {fingerprint(before)} -> {fingerprint(PROPOSED.encode())}"

    # The same form again: the file is no longer the one it started from.
    status, page = await clinic.post("/rules/save", save, csrf_from="/rules")
    assert status == 409 and "Someone saved the rules" in page
    assert clinic.rules.read_text() == PROPOSED


@SQLITE_ONLY
async def test_the_running_bot_takes_rules_saved_by_a_console_of_its_own(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`python -m bot console` beside `python -m bot run`: severe_pain is off when the bot starts, an
    admin turns it on in the console, and the bot's next check-in with 4 nines in a row sends a card."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(TEST_RULES.read_text() + "severe_pain:\n  enabled: false\n")
    caplog.set_level(logging.INFO, logger="bot.alerts.rules_file")
    async with running_diary(database_url, tmp_path / "files", rules_file=rules, schedule_tick_seconds=0.25) as diary:
        settings = diary.settings.model_copy(update={"console_url": "http://127.0.0.1/console"})
        console = Console.for_settings(diary.database, settings, clock=diary.clock)
        async with TestClient(TestServer(console.application())) as client:
            clinic = Clinic(Browser(client, diary.database, diary.clock), console, rules)
            await clinic.browser.sign_in(ADA)
            text = TEST_RULES.read_text()  # the test rules, with severe_pain back on
            status, page = await replayed(clinic, text)
            assert status == 200 and "off → amber" in page
            assert (await clinic.post("/rules/save", save_form(page), csrf_from="/rules"))[0] == 303
        await diary.wait_until(lambda: "new rules in use" in caplog.text)
        card = await a_card(diary)
        assert card.caption is not None and "Pain 9 on 4 check-ins in a row" in card.caption


def test_the_follower_takes_a_changed_file_and_keeps_the_rules_when_it_does_not_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("severe_pain: {consecutive: 3}\n")
    follower = RulesFollower(path)
    assert follower.check() is None, "unchanged"
    path.write_text("severe_pain: {consecutive: 0}\n")
    assert follower.check() is None and "does not load" in caplog.text
    caplog.clear()
    assert follower.check() is None and caplog.text == "", "logged once"
    path.write_text("severe_pain: {consecutive: 5}\n")
    fresh = follower.check()
    assert fresh is not None and fresh.severe_pain.consecutive == 5
    path.unlink()
    assert follower.check() is None and "cannot be read" in caplog.text


# ---------------------------------------------------------------------------------------------- schedules


async def test_an_admin_changes_the_schedule_and_the_scheduler_sends_at_the_new_time(clinic: Clinic) -> None:
    await clinic.browser.sign_in(ADA)
    form = {"times": "07:30,19:00", "days": "mon-fri", "timezone": "America/Chicago", "quiet": "23-6"}
    status, _ = await clinic.post("/patients/P-0001/schedule", form, csrf_from="/patients/P-0001/schedule")
    assert status == 303
    db = clinic.browser.database
    assert await stored_schedule(db) == ("07:30,19:00", "mon,tue,wed,thu,fri", "America/Chicago", "23:00-06:00")
    page = await clinic.page("/patients/P-0001/schedule?done=schedule")
    assert "Schedule saved." in page and "07:30,19:00 mon,tue,wed,thu,fri America/Chicago" in page
    assert (ADA, "schedule", "P-0001") in await audit_rows(db)

    # The bot's scheduler (the same rows, nothing in memory) sends the next check-in at 07:30 in Chicago.
    async with db.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
        assert patient is not None and patient.id is not None and patient.timezone == "America/Chicago"
        found = await schedules.get(session=session, patient_id=patient.id)
    assert found is not None and found.next_due_at is not None and found.next_slot == "07:30"
    scheduler = Scheduler.for_settings(db, clinic.console.settings, Questionnaires.load().daily)
    assert (await scheduler.dispatch_due(now=found.next_due_at)).sent + (
        await scheduler.dispatch_due(now=found.next_due_at)
    ).missed == 0, "invited, not yet reachable: the slot passes unsent"
    async with db.session() as session:
        made = (await session.exec(select(CheckIn).where(CheckIn.patient_id == patient.id))).all()
    assert [(c.slot, c.status) for c in made] == [("07:30", "missed")], "stored missed, never sent"

    cadence_form = {"cadence-phq2": "7", "cadence-crps": "off", "cadence-interference": "clinic"}
    status, _ = await clinic.post(
        "/patients/P-0001/questionnaires", cadence_form, csrf_from="/patients/P-0001/schedule"
    )
    assert status == 303
    assert await own_cadences(db) == {"phq2": 7, "crps": 0}
    page = await clinic.page("/patients/P-0001/schedule?done=questionnaires")
    assert "every 7 days (own)" in page and "not offered (own)" in page
    assert (ADA, "questionnaires", "P-0001") in await audit_rows(db)


@pytest.mark.parametrize(
    ("path", "form", "message"),
    [
        ("schedule", {"times": "25:00", "days": "mon-sun", "timezone": "Europe/Berlin"}, "'25:00' is not a time"),
        ("schedule", {"times": "09:00", "days": "someday", "timezone": "Europe/Berlin"}, "'someday' is not a day"),
        ("schedule", {"times": "09:00", "days": "mon-sun", "timezone": "Berlin"}, "did you mean Europe/Berlin?"),
        ("schedule", {"times": "09:00", "days": "mon", "timezone": "UTC", "quiet": "7-7"}, "begins and ends"),
        ("questionnaires", {"cadence-phq2": "often"}, "'phq2=often' is not a cadence"),
        ("questionnaires", {"cadence-phq2": "7", "cadence-crps": "400"}, "between 1 and 365 days"),
    ],
)
@SQLITE_ONLY
async def test_bad_schedule_input_changes_nothing_and_keeps_what_was_typed(
    clinic: Clinic, path: str, form: dict[str, str], message: str
) -> None:
    before = clinic.rules.read_bytes()
    await clinic.browser.sign_in(ADA)
    status, page = await clinic.post(f"/patients/P-0001/{path}", form, csrf_from="/patients/P-0001/schedule")
    assert status == 400 and "Not saved:" in page and message in html.unescape(page)
    for name, value in form.items():
        assert f'name="{name}" value="{value}"' in page, "what was typed is still there"
    await unchanged(clinic, before)


# Their databases are migrated before anything else: a copy of one migrated once per worker (conftest.py).
pytestmark = pytest.mark.migrated
