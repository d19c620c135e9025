"""The web console in a real browser (Chromium, driven by Playwright), on SQLite and PostgreSQL, with the
real bot against the stand-in: a clinician asks the bot for a link with /console, opens the link the bot
sent, signs in, sees the card a patient's check-in raised, acknowledges it, and the card in the staff
chat changes; replies to the patient from the card, and the patient receives it in Telegram. Every page
is checked with axe-core (no serious or critical violation) and the queue, the panel and a record are
photographed at a phone's and a desktop's width (into docs/ with UPDATE_SCREENSHOTS=1, for README)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage, free_port
from storage import staff
from tests.chromium import DESKTOP, accessibility, chromium, screenshots
from tests.harness import SQLITE_ONLY, Diary, running_diary
from tests.test_alerts import STAFF_CHAT, complete_checkin, staff_chat, with_history

SAM, ADA = 800, 900  # staff; admin (ADMIN_TELEGRAM_IDS in tests/harness.py)
BEN = 301
REPLY = "We will call you this afternoon about the pain."


async def clinic(diary: Diary) -> ChatMessage:
    """Three patients: Ben, steady for twelve weeks, then pain 9 four times in a row with a note, which
    raises a card in the staff chat (returned); Ana, steady, with an infusion six weeks ago; P-0003 invited
    and not yet enrolled. Sam is staff, Ada admin."""
    async with diary.database.session() as session:
        await staff.add(session=session, telegram_user_id=SAM, role="staff", now=diary.clock(), name="Sam")
        await staff.set_name(session=session, telegram_user_id=ADA, name="Ada")
    ben, ana = SimulatedUser(diary.standin, BEN, "Ben"), SimulatedUser(diary.standin, 302, "Ana")
    await diary.enrol(ben, "P-0001")
    noise = random.Random(14)
    steady = [max(0, min(10, round(noise.gauss(4, 0.8)))) for _ in range(170)]
    await with_history(diary, "P-0001", [*steady, 9, 9, 9])
    await ben.send("/checkin")
    for label in ["9", "Redder", "Warmer", "A little", "2 Low"]:
        await ben.press(label)
    await ben.send("Hand burning since the night, could not sleep.")
    await ben.wait_for(lambda: ben.last.text == "Thank you, your note is saved.")
    await diary.enrol(ana, "P-0002")
    # 50 days at 12-hour steps: pain near 7 before the infusion of 10 October, 2-3 after it, creeping back.
    before, after = [round(noise.gauss(7, 0.6)) for _ in range(16)], [2 + n // 25 + n % 2 for n in range(84)]
    await with_history(diary, "P-0002", before + after)
    await complete_checkin(ana, "4")
    await diary.invite("P-0003")
    sam = SimulatedUser(diary.standin, SAM, "Sam")
    await sam.send("/infusion P-0002 2026-10-10 ketamine", chat_id=STAFF_CHAT)
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    return next(m for m in staff_chat(diary) if m.photo)


async def link_from_the_bot(diary: Diary, user_id: int, name: str, console_url: str) -> str:
    """/console in the person's direct chat, and the link in the bot's answer, as they would tap it."""
    person = SimulatedUser(diary.standin, user_id, name)
    answer = await person.send("/console")
    assert answer is not None and answer.text is not None and f"{console_url}/signin/" in answer.text, answer
    return next(word for word in answer.text.split() if word.startswith(console_url))


async def signed_in(context: BrowserContext, link: str, console_url: str, checked: list[str]) -> Page:
    """Open the link, check the sign-in page, press Sign in: the alert queue."""
    page = await context.new_page()
    await page.goto(link)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the clinic console")
    checked += await accessibility(page)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{console_url}/alerts")
    return page


# SQLite only: every statement it runs, other tests run on PostgreSQL (tests/postgres_statements.py).
@SQLITE_ONLY
@pytest.mark.slow
async def test_a_clinician_signs_in_from_telegram_acknowledges_an_alert_and_replies_in_chromium(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/console"
    violations: list[str] = []
    sqlite = database_url.startswith("sqlite")  # docs/ screenshots from one of the two runs
    async with (
        chromium() as browser,  # first: without Chromium or axe-core, the test fails before the bot starts
        running_diary(database_url, tmp_path / "files", console_listen=f"127.0.0.1:{port}", console_url=url) as diary,
    ):
        card = await clinic(diary)
        context = await browser.new_context(viewport=DESKTOP)
        page = await signed_in(context, await link_from_the_bot(diary, SAM, "Sam", url), url, violations)

        # The queue: Ben's card, as the staff chat shows it, with its chart and its buttons.
        queued = page.locator("li.card", has=page.get_by_role("link", name="P-0001"))
        await expect(queued).to_have_count(1)
        await expect(queued.locator(".caption")).to_contain_text("Pain 9 on 4 check-ins in a row")
        await expect(queued.locator(".status")).to_have_text("open")
        violations += await accessibility(page)
        await screenshots(page, "queue", tmp_path, docs=sqlite)

        await queued.get_by_role("button", name="Acknowledge").click()
        await expect(page.get_by_role("status")).to_have_text("Acknowledged.")
        await expect(queued.locator(".status")).to_have_text("acknowledged")
        await expect(queued.locator(".caption")).to_contain_text("Acknowledged by Sam")
        violations += await accessibility(page)  # with the notice

        def edited() -> bool:  # the card in the staff chat, changed by the bot's sender
            caption = diary.standin.messages[STAFF_CHAT][card.message_id].caption or ""
            return "Acknowledged by Sam" in caption

        await diary.wait_until(edited)

        # A reply from the card's box: Ben reads it in Telegram.
        ben = SimulatedUser(diary.standin, BEN, "Ben")
        await queued.get_by_text("Reply", exact=True).click()  # the box opens
        await queued.get_by_role("textbox").fill(REPLY)
        await queued.get_by_role("button", name="Send reply").click()
        await expect(page.get_by_role("status")).to_have_text("Your reply is on its way to P-0001.")
        await ben.wait_for(lambda: ben.last.text == f"Your care team: {REPLY}")

        # The panel, and Ben's record from it, with the reply among his messages.
        await page.get_by_role("navigation").get_by_role("link", name="Patients").click()
        await expect(page.get_by_text("3 of 3 patients.")).to_be_visible()
        violations += await accessibility(page)
        await screenshots(page, "panel", tmp_path, docs=sqlite)
        await page.get_by_role("table").get_by_role("link", name="P-0001").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("P-0001")
        await expect(page.get_by_role("table").first).to_contain_text("Hand burning since the night")
        messages = page.get_by_role("table").filter(has_text="Message")
        await expect(messages).to_contain_text("Sam")
        violations += await accessibility(page)
        await screenshots(page, "record", tmp_path, docs=sqlite)
        await page.get_by_label("Reply to P-0001").fill("   ")  # only spaces: the reply page says so
        await page.get_by_role("button", name="Send reply").click()
        await expect(page.get_by_role("alert")).to_have_text("Write the reply first.")
        violations += await accessibility(page)

        # A page only admins may open (the message page), one that does not exist, signing out.
        await page.goto(f"{url}/team")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Not for your role")
        violations += await accessibility(page)
        await page.goto(f"{url}/patients/P-9999")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Unknown patient")
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("You are not signed in")
        violations += await accessibility(page)

        # Ada, an admin, in another browser: the team page; then her link again, used up.
        other = await browser.new_context(viewport=DESKTOP)
        adas_link = await link_from_the_bot(diary, ADA, "Ada", url)
        page = await signed_in(other, adas_link, url, violations)
        await page.get_by_role("navigation").get_by_role("link", name="Team").click()
        await expect(page.get_by_role("table")).to_contain_text("Sam")
        violations += await accessibility(page)

        # Her forms: the rules what-if (replayed, never saved: the file is the tests'), a record's schedule.
        await page.get_by_role("navigation").get_by_role("link", name="Rules").click()
        await page.get_by_label("The rules file", exact=True).fill("severe_pain:\n  consecutive: 0\n")
        await page.get_by_role("button", name="Replay").click()
        await expect(page.get_by_role("alert")).to_contain_text("line 2: severe_pain.consecutive")
        violations += await accessibility(page)
        await page.get_by_label("The rules file", exact=True).fill("severe_pain:\n  consecutive: 2\n")
        await page.get_by_role("button", name="Replay").click()
        await expect(page.get_by_role("rowheader", name="severe_pain")).to_be_visible()
        violations += await accessibility(page)
        await page.goto(f"{url}/patients/P-0001/schedule")
        await page.get_by_label("Check-in times").fill("25:00")
        await page.get_by_role("button", name="Save schedule").click()
        await expect(page.get_by_role("alert")).to_contain_text("'25:00' is not a time")
        violations += await accessibility(page)
        await page.goto(adas_link)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("This sign-in link does not work")
        violations += await accessibility(page)

    assert not violations, "axe-core found serious or critical problems:\n" + "\n".join(violations)
