"""The clinicians' web console over real HTTP, on SQLite and PostgreSQL: signing in with a link from
/console (expired, reused, forged, for someone removed from staff), sessions ending when idle or when the
person leaves staff, CSRF on every form, the access table for every page and action, audit rows, and,
with the real bot against the stand-in, /console in Telegram and a press in the browser updating the
card in the staff chat."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from statistics import median
from xml.etree import ElementTree

import pytest
from aiohttp import ClientSession, CookieJar, MultipartWriter
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot import access, team
from bot.access import Role
from bot.alerts.desk import AlertDesk, StaffAction
from bot.config import load_settings
from bot.console import auth, svg
from bot.console.app import COOKIE, Console
from bot.sandbox import SimulatedUser
from bot.sandbox.server import free_port
from storage import alerts, audit, checkins, console, infusions, migrate, patient_messages, patients, staff
from storage.database import Database
from storage.models import Alert, ConsoleSession, OutboxMessage
from storage.statuses import AlertStatus, PatientStatus
from tests.harness import SQLITE_ONLY, START, TEST_RULES, Clock, running_diary
from tests.test_alerts import a_card, staff_chat

STAFF_CHAT = -100500
BASE = "/console"
SAM, ADA, EVE = 800, 900, 555  # staff, admin, nobody
PATIENT_CHAT = 4242


@dataclass
class Browser:
    client: TestClient  # type: ignore[type-arg]
    database: Database
    clock: Clock

    async def sign_in(self, user_id: int) -> None:
        async with self.database.session() as session:
            role = await staff.role(session=session, telegram_user_id=user_id)
        assert role is not None
        token = await auth.issue_link(self.database, telegram_user_id=user_id, role=role, now=self.clock())
        response = await self.client.post(f"{BASE}/signin", data={"token": token}, allow_redirects=False)
        assert response.status == 303

    def csrf(self, page: str) -> str:
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert found is not None, "every form carries the CSRF token"
        return found.group(1)


@pytest.fixture
async def browser(database_url: str) -> AsyncIterator[Browser]:
    database = Database(database_url)
    await migrate.upgrade(database)
    clock = Clock()
    settings = load_settings(
        _env_file=None,
        database_url=database_url,
        console_url="http://127.0.0.1/console",
        default_timezone="Europe/Berlin",
        staff_chat_id=STAFF_CHAT,
        rules_file=TEST_RULES,
        instruments="",
    )
    async with database.session() as session:
        await staff.add(session=session, telegram_user_id=SAM, role="staff", now=clock(), name="Sam")
        await staff.add(session=session, telegram_user_id=ADA, role="admin", now=clock(), name="Ada")
    client = TestClient(TestServer(Console.for_settings(database, settings, clock=clock).application()))
    await client.start_server()
    try:
        yield Browser(client, database, clock)
    finally:
        await client.close()
        await database.dispose()


async def an_alert(
    database: Database, *, code: str = "P-0001", card_message_id: int | None = 77, chat_id: int | None = PATIENT_CHAT
) -> int:
    """An open amber alert whose card is in the staff chat, about a patient with a chat with the bot."""
    async with database.session() as session:
        patient = await patients.get_or_create(
            session=session, code=code, language="en", timezone="Europe/Berlin", now=START
        )
        assert patient.id is not None
        patient.chat_id = chat_id
        session.add(patient)
        alert_id = await alerts.open_alert(
            session=session,
            patient_id=patient.id,
            rule="severe_pain",
            tier="amber",
            details='{"low": 9, "high": 9, "recent": "9,9,9,9", "at_least": 9, "since": "2026-11-19T08:00:00+00:00"}',
            event_at=START,
            now=START,
            next_escalation_at=None,
        )
        if card_message_id is not None:
            await alerts.set_card(session=session, alert_id=alert_id, chat_id=STAFF_CHAT, message_id=card_message_id)
    return alert_id


async def alert_status(database: Database, alert_id: int) -> str:
    async with database.session() as session:
        found = await alerts.get(session=session, alert_id=alert_id)
    assert found is not None
    return found.status


async def replies_queued(database: Database) -> list[str]:
    """The texts owed to patients' chats."""
    async with database.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "patient"))).all()
    return [m.text or "" for m in rows if m.chat_id == PATIENT_CHAT]


async def audit_details(database: Database) -> list[tuple[int | None, str, str | None, str]]:
    async with database.session() as session:
        return [(e.actor_id, e.action, e.patient_code, e.detail) for e in await audit.since(session=session)]


async def audit_rows(database: Database) -> list[tuple[int | None, str, str | None]]:
    async with database.session() as session:
        return [(e.actor_id, e.action, e.patient_code) for e in await audit.since(session=session)]


# ---------------------------------------------------------------------------------------------- signing in


async def test_a_link_signs_in_once_with_a_strict_http_only_cookie(browser: Browser) -> None:
    token = await auth.issue_link(browser.database, telegram_user_id=SAM, role="staff", now=browser.clock())
    page = await browser.client.get(f"{BASE}/signin/{token}")
    assert page.status == 200 and "Sign in" in await page.text()  # a GET (a link preview) uses nothing up
    response = await browser.client.post(f"{BASE}/signin", data={"token": token}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == f"{BASE}/alerts"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie, "plain http only on the loopback address"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    alerts_page = await browser.client.get(f"{BASE}/alerts")
    assert alerts_page.status == 200 and "No alert needs attention." in await alerts_page.text()

    browser.client.session.cookie_jar.clear()
    again = await browser.client.post(f"{BASE}/signin", data={"token": token}, allow_redirects=False)
    assert again.status == 403 and "does not work" in await again.text()

    # A page on another site posting a staff member's own link would sign the visitor in as them.
    mine = await auth.issue_link(browser.database, telegram_user_id=SAM, role="staff", now=browser.clock())
    elsewhere = {"Origin": "https://elsewhere.example"}
    for headers in (elsewhere, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "null"}):
        forged = await browser.client.post(f"{BASE}/signin", data={"token": mine}, headers=headers)
        assert forged.status == 403 and COOKIE not in forged.cookies, headers
    ours = {"Origin": "http://127.0.0.1"}  # CONSOLE_URL's origin, from a browser without Sec-Fetch-Site
    signed_in = await browser.client.post(f"{BASE}/signin", data={"token": mine}, headers=ours, allow_redirects=False)
    assert signed_in.status == 303, "the link was left unused, for its owner"
    async with browser.database.session() as session:
        assert await console.sessions_of(session=session, telegram_user_id=SAM) == 2
    assert (SAM, "console_link", None) in await audit_rows(browser.database)
    assert (SAM, "console_sign_in", None) in await audit_rows(browser.database)


@SQLITE_ONLY
async def test_expired_forged_and_stale_links_are_refused(browser: Browser) -> None:
    db, clock = browser.database, browser.clock

    async def refused(token: str) -> bool:
        response = await browser.client.post(f"{BASE}/signin", data={"token": token}, allow_redirects=False)
        return response.status == 403 and COOKIE not in response.cookies

    expired = await auth.issue_link(db, telegram_user_id=SAM, role="staff", now=clock())
    clock.advance(minutes=10, seconds=1)
    assert await refused(expired)
    assert await refused("forged-" + expired[7:])
    assert await refused("")

    removed = await auth.issue_link(db, telegram_user_id=SAM, role="staff", now=clock())
    async with db.session() as session:
        await staff.remove(session=session, telegram_user_id=SAM)
    assert await refused(removed), "removed from staff after the link was made"

    demoted = await auth.issue_link(db, telegram_user_id=ADA, role="admin", now=clock())
    async with db.session() as session:
        await staff.add(session=session, telegram_user_id=ADA, role="staff", now=clock())
    assert await refused(demoted), "bound to the role it was made for"
    assert "console_sign_in" not in [action for _, action, _ in await audit_rows(db)]


async def test_a_session_ends_after_12_hours_idle_and_when_its_owner_leaves_staff(browser: Browser) -> None:
    await browser.sign_in(SAM)
    for _ in range(3):  # used every 11 hours: it lives on
        browser.clock.advance(hours=11)
        assert (await browser.client.get(f"{BASE}/alerts", allow_redirects=False)).status == 200
    browser.clock.advance(hours=12, seconds=1)
    idle = await browser.client.get(f"{BASE}/alerts", allow_redirects=False)
    assert idle.status == 303 and idle.headers["Location"] == f"{BASE}/signed-out"

    await browser.sign_in(SAM)
    assert (await browser.client.get(f"{BASE}/patients", allow_redirects=False)).status == 200
    async with browser.database.session() as session:
        await staff.remove(session=session, telegram_user_id=SAM)
    gone = await browser.client.get(f"{BASE}/patients", allow_redirects=False)
    assert gone.status == 303
    async with browser.database.session() as session:
        left = (await session.exec(select(ConsoleSession))).all()
    assert left == [], "their sessions are deleted"
    explanation = await browser.client.get(f"{BASE}/signed-out")
    assert "send /console" in (await explanation.text()).replace("<strong>", "").replace("</strong>", "")


@SQLITE_ONLY
async def test_removal_from_staff_ends_the_console_at_once_not_at_the_next_click(browser: Browser) -> None:
    """Removal ended someone's console at their next click: a session left open on a lost laptop, or a
    sign-in link not yet opened, worked again when they were added back (a removal put right, someone
    returning) before anyone clicked. Removal ends both then and there."""
    await browser.sign_in(SAM)
    token = await auth.issue_link(browser.database, telegram_user_id=SAM, role="staff", now=browser.clock())
    await team.remove(browser.database, telegram_user_id=SAM, actor_id=ADA, now=browser.clock())
    await team.add(browser.database, telegram_user_id=SAM, role=Role.STAFF, actor_id=ADA, now=browser.clock())
    stale = await browser.client.get(f"{BASE}/patients", allow_redirects=False)
    assert stale.status == 303, "the session open at the removal is over"
    link = await browser.client.post(f"{BASE}/signin", data={"token": token}, allow_redirects=False)
    assert link.status == 403, "the link made before the removal is void"


async def test_signing_out_needs_the_csrf_token_and_ends_the_session(browser: Browser) -> None:
    await browser.sign_in(SAM)
    page = await (await browser.client.get(f"{BASE}/alerts")).text()
    assert (await browser.client.post(f"{BASE}/signout", data={}, allow_redirects=False)).status == 403
    assert (await browser.client.get(f"{BASE}/alerts", allow_redirects=False)).status == 200
    out = await browser.client.post(f"{BASE}/signout", data={"csrf": browser.csrf(page)}, allow_redirects=False)
    assert out.status == 303
    assert (await browser.client.get(f"{BASE}/alerts", allow_redirects=False)).status == 303
    assert (SAM, "console_sign_out", None) in await audit_rows(browser.database)


# ---------------------------------------------------------------------------------------------- CSRF, access


@pytest.mark.parametrize("csrf", [None, "", "0" * 64])
@SQLITE_ONLY
async def test_an_action_without_the_sessions_csrf_token_changes_nothing(browser: Browser, csrf: str | None) -> None:
    alert_id = await an_alert(browser.database)
    await browser.sign_in(SAM)
    form = {"action": StaffAction.ACKNOWLEDGE.value} | ({} if csrf is None else {"csrf": csrf})
    response = await browser.client.post(f"{BASE}/alerts/{alert_id}", data=form, allow_redirects=False)
    assert response.status == 403 and "out of date" in await response.text()
    assert await alert_status(browser.database, alert_id) == "open"
    async with browser.database.session() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []


def not_utf8(fields: dict[str, bytes]) -> MultipartWriter:
    """A form as no browser sends one from a UTF-8 page: text fields in bytes that are not UTF-8."""
    form = MultipartWriter("form-data")
    for name, value in fields.items():
        part = form.append(value, {"Content-Type": "text/plain; charset=utf-8"})
        part.set_content_disposition("form-data", name=name)
    return form


@SQLITE_ONLY
async def test_a_form_that_is_not_utf8_is_refused_and_changes_nothing(browser: Browser) -> None:
    """A hand-made form whose text is not UTF-8 gets a short refusal, not a server error (logged with a
    traceback at ERROR for anyone who cares to send one); the sign-in link it carried stays unused."""
    alert_id = await an_alert(browser.database)
    token = await auth.issue_link(browser.database, telegram_user_id=SAM, role="staff", now=browser.clock())
    signin = await browser.client.post(f"{BASE}/signin", data=not_utf8({"token": token.encode() + b"\xff"}))
    assert signin.status == 400 and COOKIE not in signin.cookies
    await browser.sign_in(SAM)
    csrf = browser.csrf(await (await browser.client.get(f"{BASE}/alerts")).text()).encode()
    for path, fields in (
        (f"/alerts/{alert_id}", {"csrf": csrf, "action": b"a\xff"}),
        ("/patients/P-0001/reply", {"csrf": csrf, "text": b"\xed\xa0\x80 hello"}),
    ):
        response = await browser.client.post(f"{BASE}{path}", data=not_utf8(fields))
        assert response.status == 400 and "could not be read" in await response.text(), path
    assert await alert_status(browser.database, alert_id) == "open"
    assert await replies_queued(browser.database) == []
    signed_in = await browser.client.post(f"{BASE}/signin", data={"token": token}, allow_redirects=False)
    assert signed_in.status == 303, "the link was left unused"


@SQLITE_ONLY
async def test_another_sessions_csrf_token_does_not_work(browser: Browser) -> None:
    alert_id = await an_alert(browser.database)
    await browser.sign_in(ADA)
    adas = browser.csrf(await (await browser.client.get(f"{BASE}/alerts")).text())
    browser.client.session.cookie_jar.clear()
    await browser.sign_in(SAM)
    form = {"action": StaffAction.ACKNOWLEDGE.value, "csrf": adas}
    assert (await browser.client.post(f"{BASE}/alerts/{alert_id}", data=form)).status == 403
    assert await alert_status(browser.database, alert_id) == "open"


PAGES = {  # every page and action in bot/access.py's CONSOLE table, as a request (a POST with its form)
    "alerts": ("GET", "/alerts"),
    "alert_action": ("POST", "/alerts/{alert}"),
    "patients": ("GET", "/patients?sort=pain&status=active"),
    "patient": ("GET", "/patients/P-0001"),
    "reply": ("POST", "/patients/P-0001/reply"),
    "export": ("GET", "/patients/P-0001/diary.csv"),
    "report": ("GET", "/patients/P-0001/report.pdf?days=7"),
    "export_all": ("GET", "/export/fhir.json"),
    "team": ("GET", "/team"),
}
FORMS = {"alert_action": {"action": "a"}, "reply": {"text": "We will call you today.", "nonce": "n1"}}
DONE = {"alert_action": f"{BASE}/alerts?done=acknowledge", "reply": f"{BASE}/patients/P-0001?done=replied"}


def test_the_access_table_names_every_page() -> None:
    from tests.test_console_whatif import PAGES as RULES_AND_SCHEDULES  # tested there, by role

    assert set(PAGES) | set(RULES_AND_SCHEDULES) == set(access.CONSOLE)
    assert not access.console_allowed(frozenset({access.Role.PATIENT}), "alerts")
    assert not access.console_allowed(frozenset({access.Role.ADMIN}), "no such page")


@pytest.mark.parametrize("who", ["nobody", "staff", "admin"])
@SQLITE_ONLY
async def test_every_page_and_action_by_role(browser: Browser, who: str) -> None:
    alert_id = await an_alert(browser.database)
    user = {"staff": SAM, "admin": ADA}.get(who)
    if user is not None:
        await browser.sign_in(user)
        csrf = browser.csrf(await (await browser.client.get(f"{BASE}/alerts")).text())
    for page, (method, path) in PAGES.items():
        url = BASE + path.format(alert=alert_id)
        if method == "GET":
            response = await browser.client.get(url, allow_redirects=False)
        else:
            data = FORMS[page] | ({"csrf": csrf} if user is not None else {})
            response = await browser.client.post(url, data=data, allow_redirects=False)
        role = {"staff": access.Role.STAFF, "admin": access.Role.ADMIN}.get(who)
        allowed = role is not None and access.console_allowed(frozenset({role}), page)
        if allowed:
            assert response.status in (200, 303), (who, page, response.status)
            if method == "POST":
                assert response.headers["Location"].startswith(DONE[page]), (page, response.headers["Location"])
        elif user is None:
            expected = 303 if method == "GET" else 403  # to the page that explains how to sign in
            assert response.status == expected, (who, page, response.status)
        else:
            assert response.status == 403 and "Only admins" in await response.text(), (who, page)
    assert await alert_status(browser.database, alert_id) == ("open" if user is None else "acknowledged")
    assert len(await replies_queued(browser.database)) == (0 if user is None else 1)


@SQLITE_ONLY
async def test_a_page_loaded_before_an_alert_opened_again_does_not_act_on_the_new_finding(browser: Browser) -> None:
    """Sam acknowledges the alert; a new finding opens it again (a new card); Ada, whose page was
    loaded before that, presses Resolve on the old card: she is told to use the newest, and nothing moves."""
    alert_id = await an_alert(browser.database)
    await browser.sign_in(ADA)
    old_page = await (await browser.client.get(f"{BASE}/alerts")).text()
    pressed = {"action": "r", "csrf": browser.csrf(old_page), "card": old_card(old_page, "r")}
    async with browser.database.session() as session:
        await alerts.acknowledge(session=session, alert_id=alert_id, by=SAM, now=START)
        await alerts.reopen(
            session=session,
            alert_id=alert_id,
            status=AlertStatus.ACKNOWLEDGED,
            details="{}",
            event_at=START + timedelta(days=2),
            now=START + timedelta(days=2),
            next_escalation_at=None,
        )
    stale = await browser.client.post(f"{BASE}/alerts/{alert_id}", data=pressed, allow_redirects=False)
    assert stale.status == 409 and "act on the newest card" in await stale.text()
    assert await alert_status(browser.database, alert_id) == "open"

    new_page = await (await browser.client.get(f"{BASE}/alerts")).text()
    pressed["card"] = old_card(new_page, "r")
    done = await browser.client.post(f"{BASE}/alerts/{alert_id}", data=pressed, allow_redirects=False)
    assert done.status == 303 and await alert_status(browser.database, alert_id) == "resolved"


def old_card(page: str, action: str) -> str:
    """The card data beside an action's button on a queue page."""
    found = re.search(rf'name="card" value="([^"]+)">\s*<button type="submit" name="action" value="{action}"', page)
    assert found is not None
    return html.unescape(found.group(1))


# ---------------------------------------------------------------------------------------------- pages


@SQLITE_ONLY
async def test_acknowledging_in_the_console_moves_the_alert_audits_and_queues_the_card(browser: Browser) -> None:
    alert_id = await an_alert(browser.database)
    no_card = await an_alert(browser.database, code="P-0002", card_message_id=None, chat_id=None)
    await browser.sign_in(SAM)
    page = await (await browser.client.get(f"{BASE}/alerts")).text()
    assert "P-0001" in page and "Pain 9 on 4 check-ins in a row" in page
    assert f"{BASE}/alerts/{alert_id}/chart.png" in page
    chart = await browser.client.get(f"{BASE}/alerts/{alert_id}/chart.png")
    assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")
    assert [v for v in re.findall(r'name="action" value="(\w)"', page)][:3] == ["a", "z", "r"]

    form = {"action": "a", "csrf": browser.csrf(page)}
    done = await browser.client.post(f"{BASE}/alerts/{alert_id}", data=form)
    assert done.status == 200 and "Acknowledged." in await done.text()
    assert "Acknowledged by Sam" in await done.text(), "the card's text says who, as in Telegram"
    assert await alert_status(browser.database, alert_id) == "acknowledged"
    again = await browser.client.post(f"{BASE}/alerts/{alert_id}", data=form, allow_redirects=False)
    assert again.status == 409
    await browser.client.post(f"{BASE}/alerts/{no_card}", data={"action": "r", "csrf": form["csrf"]})
    assert await alert_status(browser.database, no_card) == "resolved"

    async with browser.database.session() as session:
        queued = (await session.exec(select(OutboxMessage))).all()
    assert [(m.kind, m.chat_id, m.alert_id) for m in queued] == [("alert", STAFF_CHAT, alert_id)], (
        "the staff chat's card is updated; an alert that never had a card gets none"
    )
    rows = await audit_rows(browser.database)
    assert (SAM, "alert_acknowledge", "P-0001") in rows and (SAM, "alert_resolve", "P-0002") in rows
    assert (SAM, "view_alert_queue", None) in rows


@SQLITE_ONLY
async def test_the_chart_of_an_alert_the_queue_does_not_show_is_a_read_audited_by_patient(browser: Browser) -> None:
    """An alert's chart answered for any number, closed alerts' too, with no audit row naming the patient:
    walking the numbers read every alerted patient's 30 days, and no record showed who had. A chart the
    queue shows is its page's read (view_alert_queue); any other is audited as the card's History is."""
    shown = await an_alert(browser.database)
    closed = await an_alert(browser.database, code="P-0002", card_message_id=None, chat_id=None)
    await browser.sign_in(SAM)
    page = await (await browser.client.get(f"{BASE}/alerts")).text()
    await browser.client.post(f"{BASE}/alerts/{closed}", data={"action": "r", "csrf": browser.csrf(page)})
    for alert_id in (shown, closed):
        chart = await browser.client.get(f"{BASE}/alerts/{alert_id}/chart.png")
        assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")
    rows = await audit_rows(browser.database)
    assert (SAM, "view_history", "P-0002") in rows
    assert (SAM, "view_history", "P-0001") not in rows and (SAM, "view_alert_queue", None) in rows


@SQLITE_ONLY
async def test_the_patient_panel_and_record_are_audited_and_show_who_viewed(browser: Browser) -> None:
    await an_alert(browser.database)
    await an_alert(browser.database, code="P-0002", card_message_id=None, chat_id=None)
    await browser.sign_in(ADA)
    panel = await browser.client.get(f"{BASE}/patients?sort=code&status=invited")
    text = await panel.text()
    assert panel.status == 200 and text.index("P-0001") < text.index("P-0002")
    assert "2 of 2 patients." in text
    assert "0 of 2 patients." in await (await browser.client.get(f"{BASE}/patients?status=active")).text()

    record = await browser.client.get(f"{BASE}/patients/P-0001")
    text = await record.text()
    assert record.status == 200 and "<h1>P-0001" in text
    assert "Ada (900)" in text and "view_patient" in text, "the record shows who viewed it"
    assert (await browser.client.get(f"{BASE}/patients/P-9999")).status == 404
    rows = await audit_rows(browser.database)
    assert (ADA, "list_patients", None) in rows and (ADA, "view_patient", "P-0001") in rows
    assert (ADA, "view_patient", "P-9999") not in rows
    lang = re.search(r'<html lang="(\w+)">', text)
    assert lang is not None and lang.group(1) == "en"


# ---------------------------------------------------------------------------------------------- replies


async def test_a_reply_from_the_record_or_a_card_goes_as_a_staff_chat_reply_does(browser: Browser) -> None:
    alert_id = await an_alert(browser.database)
    await an_alert(browser.database, code="P-0002", card_message_id=None, chat_id=None)
    async with browser.database.session() as session:
        ben = await patients.by_code(session=session, code="P-0001")
        assert ben is not None and ben.id is not None
        await patient_messages.add(session=session, patient_id=ben.id, text="Can I take more ibuprofen?", now=START)
        await patient_messages.add(session=session, patient_id=ben.id, text="a note", now=START, filed_as="note")
    await browser.sign_in(SAM)
    page = await (await browser.client.get(f"{BASE}/patients/P-0001")).text()
    assert 'id="messages"' in page and "Can I take more ibuprofen?" in page and "not marked seen" in page
    assert "a note" not in page.split('id="messages"')[1].split("</section>")[0], "notes are the diary's"
    nonce = re.findall(r'name="nonce" value="([0-9a-f]+)"', page)[0]
    form = {"text": "Yes, one more tonight.", "nonce": nonce, "back": "", "csrf": browser.csrf(page)}

    sent = await browser.client.post(f"{BASE}/patients/P-0001/reply", data=form, allow_redirects=False)
    assert sent.status == 303
    assert sent.headers["Location"] == f"{BASE}/patients/P-0001?done=replied&code=P-0001#messages"
    again = await browser.client.post(f"{BASE}/patients/P-0001/reply", data=form, allow_redirects=False)
    assert again.status == 303, "the same form sent twice"
    assert await replies_queued(browser.database) == ["Your care team: Yes, one more tonight."], "sent once"
    other = form | {"text": "And drink water."}  # written again on the same page (after Back): it goes
    assert (await browser.client.post(f"{BASE}/patients/P-0001/reply", data=other)).status == 200
    assert (await replies_queued(browser.database))[1:] == ["Your care team: And drink water."]

    record = await (await browser.client.get(sent.headers["Location"])).text()
    assert "Your reply is on its way to P-0001." in record
    assert "Reply by Sam" in record and "22 characters" in record
    rows = [(a, c) for a, action, c in await audit_rows(browser.database) if action == "reply_to_patient"]
    assert rows == [(SAM, "P-0001")] * 2

    # From a card on the queue: back to that card, with the same notice.
    queue = await (await browser.client.get(f"{BASE}/alerts")).text()
    assert f'id="reply-{alert_id}"' in queue and f'name="back" value="{alert_id}"' in queue
    card = form | {"text": "We will call you.", "nonce": "card", "back": str(alert_id)}
    done = await browser.client.post(f"{BASE}/patients/P-0001/reply", data=card, allow_redirects=False)
    assert done.headers["Location"] == f"{BASE}/alerts?done=replied&code=P-0001#alert-{alert_id}"
    assert "Your reply is on its way to P-0001." in await (await browser.client.get(done.headers["Location"])).text()

    # To a patient who blocked the bot: queued all the same, and staff are told it may not reach them.
    async with browser.database.session() as session:
        await patients.set_status(session=session, patient_id=ben.id, status=PatientStatus.UNREACHABLE)
    blocked = form | {"text": "Please call us.", "nonce": "blocked"}
    done = await browser.client.post(f"{BASE}/patients/P-0001/reply", data=blocked, allow_redirects=False)
    assert done.headers["Location"] == f"{BASE}/patients/P-0001?done=replied_unreachable&code=P-0001#messages"
    notice = await (await browser.client.get(done.headers["Location"])).text()
    assert "P-0001 has blocked the diary bot, so your reply may not reach them" in notice
    assert "on its way" not in notice
    async with browser.database.session() as session:
        await patients.set_status(session=session, patient_id=ben.id, status=PatientStatus.ACTIVE)

    # Telegram's limit for one staff message; a reply that long goes in numbered parts, as from the chat.
    longest = form | {"text": "a" * 4096, "nonce": "longest"}
    assert (await browser.client.post(f"{BASE}/patients/P-0001/reply", data=longest)).status == 200
    parts = (await replies_queued(browser.database))[4:]
    assert len(parts) == 2 and "".join(p.split("): ", 1)[1] for p in parts) == "a" * 4096, parts
    assert len(await replies_queued(browser.database)) == 6


@pytest.mark.parametrize(
    ("text", "problem"),
    [("   ", "Write the reply first."), ("ü" * 4097, "at most 4096 characters; this one has 4097")],
)
@SQLITE_ONLY
async def test_a_reply_that_cannot_go_is_refused_with_its_text_kept(browser: Browser, text: str, problem: str) -> None:
    await an_alert(browser.database)
    await browser.sign_in(SAM)
    csrf = browser.csrf(await (await browser.client.get(f"{BASE}/alerts")).text())
    response = await browser.client.post(f"{BASE}/patients/P-0001/reply", data={"text": text, "csrf": csrf})
    page = await response.text()
    assert response.status == 400 and problem in page
    assert f">{text}</textarea>" in page, "nothing written is lost"
    assert await replies_queued(browser.database) == []
    assert "reply_to_patient" not in [action for _, action, _ in await audit_rows(browser.database)]


@SQLITE_ONLY
async def test_a_reply_holding_a_sign_in_link_is_refused_and_the_link_stops_working(browser: Browser) -> None:
    """Sam pasted her sign-in link into the reply box (copying the patient's words, the link still on the clipboard):
    from the staff chat such a reply never goes, and the link stops working; from the console it went to the patient,
    who could open it and sign in as Sam, every patient's record in view. It is refused, the text kept, and the link
    stops working, audited."""
    await an_alert(browser.database)
    await browser.sign_in(SAM)
    token = await auth.issue_link(browser.database, telegram_user_id=SAM, role="staff", now=browser.clock())
    csrf = browser.csrf(await (await browser.client.get(f"{BASE}/alerts")).text())
    text = f"Call us back: {auth.link_url('http://127.0.0.1/console', token)}"
    response = await browser.client.post(f"{BASE}/patients/P-0001/reply", data={"text": text, "csrf": csrf})
    page = await response.text()
    assert response.status == 400 and "sign-in link" in page, page
    assert f">{text}</textarea>" in page, "nothing written is lost"
    assert await replies_queued(browser.database) == []
    assert await auth.sign_in(browser.database, token=token, now=browser.clock()) is None, "the link works no more"
    assert "console_link_withdrawn" in [action for _, action, _ in await audit_rows(browser.database)]


@SQLITE_ONLY
async def test_a_replys_line_breaks_count_once_toward_its_limit(browser: Browser) -> None:
    """A browser sends a text box's line breaks as two characters ("\r\n"), Telegram counts one: a reply of 4,000
    characters in 100 lines, which Telegram takes as one message, was refused as longer than 4,096."""
    await an_alert(browser.database)
    await browser.sign_in(SAM)
    csrf = browser.csrf(await (await browser.client.get(f"{BASE}/alerts")).text())
    text = "\r\n".join(["a" * 39] * 100)
    response = await browser.client.post(f"{BASE}/patients/P-0001/reply", data={"text": text, "csrf": csrf})
    assert response.status == 200, await response.text()
    parts = await replies_queued(browser.database)
    assert "".join(p.split(": ", 1)[1] for p in parts) == "\n".join(["a" * 39] * 100), parts


@SQLITE_ONLY
async def test_no_reply_to_a_patient_without_a_chat_or_unknown(browser: Browser) -> None:
    await an_alert(browser.database, code="P-0002", card_message_id=None, chat_id=None)
    await browser.sign_in(SAM)
    page = await (await browser.client.get(f"{BASE}/patients/P-0002")).text()
    assert "there is nowhere to reply" in page and 'name="text"' not in page
    form = {"text": "Hello", "csrf": browser.csrf(page)}
    assert (await browser.client.post(f"{BASE}/patients/P-0002/reply", data=form)).status == 409
    assert (await browser.client.post(f"{BASE}/patients/P-9999/reply", data=form)).status == 404
    assert "reply_to_patient" not in [action for _, action, _ in await audit_rows(browser.database)]


# ---------------------------------------------------------------------------------------------- the chart

SVG = "{http://www.w3.org/2000/svg}"
CHART_DAYS = range(1, 120)  # check-ins a day apart, d days before now; the record shows 90 days of them
NO_CHECKIN = range(40, 45)  # five days without a check-in: a gap
MISSED, PAIN_ONLY = 20, 25


def pain_of(d: int) -> int:
    return d % 11


def mood_of(d: int) -> int:
    return 1 + d % 5


async def with_diary(database: Database, code: str = "P-0001") -> None:
    """~4 months of daily check-ins with a gap, a missed one and one without a mood, and an infusion."""
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        assert patient is not None and patient.id is not None
        entries = []
        for d in CHART_DAYS:
            if d in NO_CHECKIN:
                continue
            at = START - timedelta(days=d, hours=1)
            answers = {} if d == MISSED else {"pain": str(pain_of(d))}
            if d not in (MISSED, PAIN_ONLY):
                answers["mood"] = str(mood_of(d))
            entries.append((at, at.date(), answers))
        await checkins.import_entries(session=session, patient_id=patient.id, questionnaire="daily", entries=entries)
        await infusions.record(
            session=session,
            patient_id=patient.id,
            given_on=(START - timedelta(days=50)).date(),
            kind="",
            now=START,
            by=None,
        )


def expected_points(item: str) -> set[tuple[float, float]]:
    """Where the chart should put each answer of the last 90 days, from svg.py's geometry."""
    index, low, high = {"pain": (0, 0, 10), "mood": (1, 1, 5)}[item]
    found = set()
    for d in CHART_DAYS:
        if d >= 90 or d in NO_CHECKIN or d == MISSED or (item == "mood" and d == PAIN_ONLY):
            continue
        value = pain_of(d) if item == "pain" else mood_of(d)
        x = svg.LEFT + svg.PLOT_WIDTH * (1 - (d + 1 / 24) / 90)
        y = svg.panel_top(index) + svg.PANEL * (1 - (value - low) / (high - low))
        found.add((round(x, 1), round(y, 1)))
    return found


async def test_the_record_draws_90_days_of_pain_and_mood_as_svg_from_the_diary(browser: Browser) -> None:
    await an_alert(browser.database)
    await with_diary(browser.database)
    await browser.sign_in(SAM)
    page = await (await browser.client.get(f"{BASE}/patients/P-0001")).text()
    drawn = ElementTree.fromstring(page[page.index("<svg") : page.index("</svg>") + len("</svg>")])
    assert drawn.get("role") == "img" and drawn.get("aria-labelledby") == "chart-title chart-desc"
    title = drawn.find(f"{SVG}title")
    assert title is not None and title.text == "P-0001: pain and mood at daily check-ins, 23.08 to 21.11"
    desc = drawn.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert "Pain (0-10): 83 answers in 3 unbroken stretches" in desc.text
    assert "Mood (1-5): 82 answers in 4 unbroken stretches" in desc.text and "Infusion: 02.10." in desc.text

    for item, runs, label, last in (("pain", 3, "Pain (0-10)", pain_of(1)), ("mood", 4, "Mood (1-5)", mood_of(1))):
        group = drawn.find(f"{SVG}g[@data-item='{item}']")
        assert group is not None
        circles = group.findall(f"{SVG}circle")
        points = {(float(c.get("cx", "")), float(c.get("cy", ""))) for c in circles}
        assert len(circles) == len(points) and points == expected_points(item), item
        assert len(group.findall(f"{SVG}polyline")) == runs, "a gap in the diary is a gap in the line"
        tips = [c.findtext(f"{SVG}title") for c in circles]
        assert tips[-1] == f"20.11.2026 08:00 · {label}: {last}", "each point's tooltip: when, what, how much"
        infusion = group.findall(f"{SVG}line[@class='chart-infusion']")
        assert [line.findtext(f"{SVG}title") for line in infusion] == ["Infusion 02.10.2026"]
    assert len(re.findall(r"<tr><th scope=\"row\">", page.split('id="diary"')[1])) == 83, "every check-in listed"


# ---------------------------------------------------------------------------------------------- the panel


@SQLITE_ONLY
async def test_the_panel_shows_each_patients_numbers_from_their_diary(browser: Browser) -> None:
    await an_alert(browser.database)
    await an_alert(browser.database, code="P-0002", card_message_id=None, chat_id=None)
    await with_diary(browser.database)
    await browser.sign_in(SAM)
    page = await (await browser.client.get(f"{BASE}/patients?sort=code")).text()
    rows = {
        code: re.findall(r"<td>(.*?)</td>", cells)
        for code, cells in re.findall(r'<tr>\s*<th scope="row"><a [^>]+>([^<]+)</a></th>(.*?)</tr>', page, re.S)
    }
    pains = {d: pain_of(d) for d in CHART_DAYS if d not in NO_CHECKIN and d != MISSED}
    usual = median(pains[d] for d in range(1, 28) if d in pains)  # the 28 days before now
    # A cycle as /cycles and the alert cards compute it, one patient at a time.
    desk = AlertDesk.for_settings(browser.database, load_settings(_env_file=None, rules_file=TEST_RULES))
    async with browser.database.session() as session:
        ben = await patients.by_code(session=session, code="P-0001")
    assert ben is not None and ben.id is not None
    cycle = (await desk.patient_cycles(patient_id=ben.id, now=START))[-1]
    assert cycle.measured and cycle.relief_now is not None
    relief = f"{round(max(cycle.relief_now, 0) * 100)}%"
    assert rows["P-0001"] == ["invited", "100%", f"{pains[1]} ({usual:g})", "falling", "50", relief, "1"]
    assert rows["P-0002"] == ["invited", "–", "–", "–", "–", "–", "1"], "no diary, no infusion: nothing made up"


async def test_a_page_number_that_is_a_digit_but_not_a_number_shows_the_first_page(browser: Browser) -> None:
    """ "²" and "③" are digits to Python's str.isdigit, but int() cannot read them: the panel shows its
    first page instead of failing."""
    await an_alert(browser.database)
    await browser.sign_in(SAM)
    for page in ("²", "③", "٣", "0", "-1", "9" * 30):
        shown = await browser.client.get(f"{BASE}/patients", params={"page": page})
        assert shown.status == 200 and "1 of 1 patients." in await shown.text(), page


async def test_an_alert_number_too_large_for_the_database_is_not_found(browser: Browser) -> None:
    """A number in an alert's address that no alert can have (beyond the database's integers, or longer
    than Python reads) is a page that does not exist, not a server error; the form does nothing."""
    alert_id = await an_alert(browser.database)
    await browser.sign_in(SAM)
    csrf = browser.csrf(await (await browser.client.get(f"{BASE}/alerts")).text())
    for number in ("9" * 20, "9" * 4400):
        chart = await browser.client.get(f"{BASE}/alerts/{number}/chart.png")
        assert chart.status == 404 and "There is no such page." in await chart.text(), number[:25]
        pressed = await browser.client.post(f"{BASE}/alerts/{number}", data={"action": "a", "csrf": csrf})
        assert pressed.status == 404 and "There is no such page." in await pressed.text(), number[:25]
    assert await alert_status(browser.database, alert_id) == "open"


# ---------------------------------------------------------------------------------------------- exports


def responses(bundle: dict[str, list[dict[str, dict[str, str]]]]) -> list[dict[str, str]]:
    """A FHIR Bundle's check-ins (each also has an Observation per number answered)."""
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]


@SQLITE_ONLY
async def test_a_patients_diary_and_report_download_and_are_audited_as_the_command_lines(browser: Browser) -> None:
    await an_alert(browser.database)
    await with_diary(browser.database)
    await browser.sign_in(SAM)
    record = await (await browser.client.get(f"{BASE}/patients/P-0001")).text()
    for path in ("/patients/P-0001/diary.csv", "/patients/P-0001/fhir.json", "/patients/P-0001/report.pdf"):
        assert f'"{BASE}{path}"' in record

    csv_file = await browser.client.get(f"{BASE}/patients/P-0001/diary.csv")
    assert csv_file.status == 200 and csv_file.content_type == "text/csv"
    assert csv_file.headers["Content-Disposition"] == 'attachment; filename="diary-P-0001-2026-11-21.csv"'
    rows = list(csv.DictReader(io.StringIO(await csv_file.text())))
    answered = [d for d in CHART_DAYS if d not in NO_CHECKIN and d != MISSED]
    assert len(rows) == len(answered) and {r["patient"] for r in rows} == {"P-0001"}
    assert [int(r["pain"]) for r in rows] == [pain_of(d) for d in sorted(answered, reverse=True)]

    fhir = await browser.client.get(f"{BASE}/patients/P-0001/fhir.json")
    assert fhir.status == 200 and fhir.content_type == "application/fhir+json"
    bundle = json.loads(await fhir.text())
    assert bundle["resourceType"] == "Bundle" and len(responses(bundle)) == len(answered)

    pdf = await browser.client.get(f"{BASE}/patients/P-0001/report.pdf?days=30")
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    assert (await pdf.read()).startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="report-P-0001-2026-11-21.pdf"'
    for days in ("3", "366", "many"):
        refused = await browser.client.get(f"{BASE}/patients/P-0001/report.pdf?days={days}")
        assert refused.status == 400 and "7 to 365 days" in await refused.text()
    for path in ("diary.csv", "fhir.json", "report.pdf"):
        assert (await browser.client.get(f"{BASE}/patients/P-9999/{path}")).status == 404

    async with browser.database.session() as session:
        events = [(e.actor_id, e.action, e.patient_code, e.detail) for e in await audit.since(session=session)]
    assert [e for e in events if e[1] in ("export", "report")] == [
        (SAM, "export", "P-0001", "csv (console)"),
        (SAM, "export", "P-0001", "fhir (console)"),
        (SAM, "report", "P-0001", "30 days, console"),
    ]
    assert (await browser.client.get(f"{BASE}/export/diary.csv")).status == 403, "everyone's: admins only"


@SQLITE_ONLY
async def test_an_admin_downloads_every_patients_diary_from_the_panel(browser: Browser) -> None:
    await an_alert(browser.database)
    await an_alert(browser.database, code="P-0002", card_message_id=None, chat_id=None)
    await with_diary(browser.database)
    await with_diary(browser.database, "P-0002")
    await browser.sign_in(ADA)
    assert f'"{BASE}/export/diary.csv"' in await (await browser.client.get(f"{BASE}/patients")).text()
    everyone = await browser.client.get(f"{BASE}/export/diary.csv")
    assert everyone.status == 200 and everyone.headers["Content-Disposition"].endswith('"diary-all-2026-11-21.csv"')
    rows = list(csv.DictReader(io.StringIO(await everyone.text())))
    assert {r["patient"] for r in rows} == {"P-0001", "P-0002"} and len(rows) == 2 * len(CHART_DAYS) - 2 * 6
    bundle = json.loads(await (await browser.client.get(f"{BASE}/export/fhir.json")).text())
    assert len(responses(bundle)) == len(rows)
    rows_audited = [(a, c, d) for a, action, c, d in await audit_details(browser.database) if action == "export"]
    assert rows_audited == [(ADA, None, "csv (console)"), (ADA, None, "fhir (console)")]


# ---------------------------------------------------------------------------------------------- with the bot


@SQLITE_ONLY
async def test_console_in_telegram_and_a_press_in_the_browser_updates_the_card(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/console"
    async with running_diary(
        database_url, tmp_path / "files", console_listen=f"127.0.0.1:{port}", console_url=url
    ) as diary:
        card = await a_card(diary)
        sam = SimulatedUser(diary.standin, SAM, "Sam")
        async with diary.database.session() as session:
            await staff.add(session=session, telegram_user_id=SAM, role="staff", now=diary.clock(), name="Sam")

        reply = await sam.send("/console", chat_id=STAFF_CHAT)
        assert reply is not None and reply.text == "I have sent your sign-in link to our direct chat."
        assert not any(url in (m.text or "") for m in staff_chat(diary)), "never a link in the group"
        await sam.wait_for(lambda: any(url in (m.text or "") for m in sam.messages))
        direct = await sam.send("/console")
        assert direct is not None and direct.text is not None and f"{url}/signin/" in direct.text
        link = direct.text.split()[-1]

        ben = SimulatedUser(diary.standin, 301, "Ben")  # the patient a_card enrolled
        refused = await ben.send("/console")
        assert refused is not None and url not in (refused.text or "")

        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:  # cookies for 127.0.0.1
            async with http.get(link) as page:
                assert page.status == 200
            token = link.rsplit("/", 1)[1]
            async with http.post(f"{url}/signin", data={"token": token}) as signed_in:
                queue = await signed_in.text()
            assert signed_in.status == 200 and "P-0001" in queue
            alert_id = int(re.findall(r'action="/console/alerts/(\d+)"', queue)[0])
            csrf = re.findall(r'name="csrf" value="([0-9a-f]+)"', queue)[0]
            async with http.post(f"{url}/alerts/{alert_id}", data={"action": "a", "csrf": csrf}) as done:
                assert done.status == 200

        def edited() -> bool:
            caption = diary.standin.messages[STAFF_CHAT][card.message_id].caption or ""
            return "Acknowledged by Sam" in caption

        await diary.wait_until(edited)
        async with diary.database.session() as session:
            found = await session.get(Alert, alert_id)
        assert found is not None and found.status == "acknowledged" and found.acknowledged_by == SAM


@SQLITE_ONLY
async def test_a_reply_from_the_record_reaches_the_patients_chat(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/console"
    async with running_diary(
        database_url, tmp_path / "files", console_listen=f"127.0.0.1:{port}", console_url=url
    ) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        await ben.send("Can I take another ibuprofen tonight?")
        async with diary.database.session() as session:
            await staff.add(session=session, telegram_user_id=SAM, role="staff", now=diary.clock(), name="Sam")
        token = await auth.issue_link(diary.database, telegram_user_id=SAM, role="staff", now=diary.clock())

        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:
            async with http.post(f"{url}/signin", data={"token": token}) as signed_in:
                assert signed_in.status == 200
            async with http.get(f"{url}/patients/P-0001") as record:
                page = await record.text()
            assert "Can I take another ibuprofen tonight?" in page
            form = {
                "text": "Yes, one more is fine tonight.",
                "nonce": re.findall(r'name="nonce" value="([0-9a-f]+)"', page)[0],
                "csrf": re.findall(r'name="csrf" value="([0-9a-f]+)"', page)[0],
                "back": "",
            }
            async with http.post(f"{url}/patients/P-0001/reply", data=form) as sent:
                assert sent.status == 200 and "Your reply is on its way to P-0001." in await sent.text()

        await ben.wait_for(lambda: ben.last.text == "Your care team: Yes, one more is fine tonight.")
        assert [m.text for m in diary.standin.chat(ben.id)].count("Your care team: Yes, one more is fine tonight.") == 1


# Their databases are migrated before anything else: a copy of one migrated once per worker (conftest.py).
pytestmark = pytest.mark.migrated
