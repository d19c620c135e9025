"""Enrolment, invites and access control as an outside attacker would try them: the real bot over HTTP
against the stand-in (on PostgreSQL too where a test's statements run nowhere else there). Each test is
named after the hole it keeps closed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import col, select

from bot import team
from bot.access import PATIENT_COMMANDS
from bot.alerts import escalation
from bot.alerts.desk import AlertDesk
from bot.care_team.intake import Intake
from bot.console import auth
from bot.diary import enrolment, roster
from bot.diary.checkins import CheckIns
from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage
from storage import alerts as storage_alerts
from storage import audit, invites, outbox, patients, staff, wrong_tokens
from storage import checkins as storage_checkins
from storage.database import Database
from storage.models import InboxUpdate, Invite, OutboxMessage
from storage.statuses import CheckInStatus, OutboxStatus
from tests.harness import POSTGRESQL_ONLY, SQLITE_ONLY, START, Diary
from tests.postgres import waiting_for_a_lock
from tests.test_alerts import STAFF_CHAT, a_card, alerts, complete_checkin, staff_chat, up_to_the_note, with_history
from tests.test_care_team import admin_pressed_reply_on_an_escalation, crisis
from tests.test_delivery_faults import minutes_later
from tests.test_hardening import token_of
from tests.test_staff_commands import a_member

Removal = asyncio.Task[team.Removed | None]
NEW_STAFF_CHAT = -100777


async def handled(diary: Diary) -> int:
    async with diary.database.session() as session:
        return len((await session.exec(select(InboxUpdate))).all())


async def link_of(member: SimulatedUser, command: str) -> str:
    """The token of the link a staff member's /invite or /relink is answered with."""
    reply = await member.send(command)
    return token_of(reply.text if reply is not None else None)


async def account_of(diary: Diary, code: str) -> int | None:
    """The Telegram account the record of `code` is linked to now."""
    async with diary.database.session() as session:
        record = await patients.by_code(session=session, code=code)
    return record.telegram_user_id if record else None


async def edit_unanswered(diary: Diary, user: SimulatedUser, message: ChatMessage, text: str) -> None:
    """Edit a message into `text` and wait until the bot has handled the edit, expecting no answer."""
    before, answers = await handled(diary), len(user.messages)
    await user.edit(message, text, wait=False)
    await diary.inbox_processed(at_least=before + 1)
    assert len(user.messages) == answers, f"the bot answered the edit to {text!r}: {user.last.text!r}"


async def test_a_message_edited_into_a_staff_command_runs_nothing_for_a_patient_or_staff(diary: Diary) -> None:
    """python-telegram-bot runs commands from edited messages too: a patient who edited a message into
    /relink got a link that moves another patient's record, and staff who edited one into /staff made
    themselves admin. An edit passes the same access table as a message sent."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0001")
    await diary.invite("P-0002")
    said = ben.say("hello")
    await ben.wait_for(lambda: len(ben.messages) >= 2)  # enrolled, then the note's answer
    for command in ("/relink P-0002", "/invite P-0003", "/patients", "/patient P-0002", "/discharge P-0002"):
        await edit_unanswered(diary, ben, said, command)
    sam = await a_member(diary)
    said = sam.say("hi")
    await sam.wait_for(lambda: len(sam.messages) >= 1)
    await edit_unanswered(diary, sam, said, "/staff add 800 admin")
    async with diary.database.session() as session:
        assert await staff.role(session=session, telegram_user_id=800) == "staff"
        open_invites = (await session.exec(select(Invite).where(col(Invite.used_at).is_(None)))).all()
        actions = [e.action for e in await audit.since(session=session)]
    assert len(open_invites) == 1, "only the invite the clinic made"
    assert not {"relink_invite", "list_patients", "view_patient", "discharge", "staff_add"} & set(actions), actions

    reply = await sam.edit(said, "/invites")  # what staff may do, an edit still does
    assert reply is not None and "P-0002" in (reply.text or "")


@SQLITE_ONLY
async def test_a_card_left_by_an_erased_patient_acts_on_nobody_else(diary: Diary) -> None:
    """On SQLite the next patient and alert after an erasure got the erased ones' ids: Resolve on the
    erased patient's card in the staff chat resolved the new patient's alert, Reply wrote to them."""
    card = await a_card(diary)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await ben.send("/delete")
    await ben.press("Yes, erase everything")
    cleo = SimulatedUser(diary.standin, 302, "Cleo")
    await diary.enrol(cleo, "P-0002")
    await with_history(diary, "P-0002", [4, 4, 5, 4, 9, 9, 9])
    await complete_checkin(cleo, "9")
    await diary.wait_until(lambda: sum(1 for m in staff_chat(diary) if m.photo) == 2)
    sam = await a_member(diary)
    press = await sam.press("Resolve", message=card)
    assert press.answer == "This alert is already closed."
    press = await sam.press("Reply", message=card)
    assert press.answer is not None and "no longer" in press.answer, press.answer
    (alert,) = await alerts(diary)
    assert alert.status == "open", "the new patient's alert waits for someone to look at it"
    card = diary.standin.messages[STAFF_CHAT][card.message_id]
    assert card.caption is not None and "P-0001" in card.caption and "P-0002" not in card.caption


@SQLITE_ONLY
async def test_a_command_glued_to_punctuation_is_the_command_telegram_marks(diary: Diary) -> None:
    """Telegram marks "/relink" in "/relink-now P-0002" as the command, and python-telegram-bot runs
    /relink with the words after it; the access table was asked about "relink-now", which no row names,
    so a patient's unknown command let it through, and a patient got a link that moves another record."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0001")
    await diary.invite("P-0002")
    for command in ("/relink-now P-0002", "/patients.", "/invite, P-0003", "/discharge:x P-0002"):
        reply = await ben.send(command)
        assert reply is not None and (reply.text or "").startswith("Sorry, I did not understand"), (command, reply)
    async with diary.database.session() as session:
        actions = [e.action for e in await audit.since(session=session)]
    assert not {"relink_invite", "list_patients", "discharge"} & set(actions), actions


@SQLITE_ONLY
async def test_an_older_link_stops_working_once_a_newer_one_is_made_for_the_same_code(diary: Diary) -> None:
    """Staff make a new link when the first went astray (sent to the wrong number, a lost phone): whoever
    held the older link could still enrol as the patient first, or, for a re-link, move their record to
    an account of their own. A new link, by /invite, /relink or the command line, withdraws the older ones
    of its code."""
    sam = await a_member(diary)
    mallory = SimulatedUser(diary.standin, 666, "Mallory")
    ben = SimulatedUser(diary.standin, 301, "Ben")
    stray = await link_of(sam, "/invite P-0001")
    fresh = await link_of(sam, "/invite P-0001")
    reply = await mallory.send(f"/start {stray}")
    assert reply is not None and "expired or has already been used" in (reply.text or "")
    await mallory.press(data=f"cs:y:{stray}", message=reply)
    assert "expired or has already been used" in (mallory.last.text or "")
    await ben.send(f"/start {fresh}")
    await ben.press("I agree")

    stray = await link_of(sam, "/relink P-0001")
    fresh = await diary.invite("P-0001", relink=True)
    reply = await mallory.send(f"/start {stray}")
    assert reply is not None and "expired or has already been used" in (reply.text or "")
    await mallory.press(data=f"cs:y:{stray}", message=reply)
    async with diary.database.session() as session:
        record = await patients.by_code(session=session, code="P-0001")
        events = [(e.action, e.detail) for e in await audit.since(session=session) if e.patient_code == "P-0001"]
    assert record is not None and record.telegram_user_id == 301, "the record stays with the patient"
    assert events.count(("invite", "an earlier link withdrawn")) == 1
    assert events.count(("relink_invite", "an earlier link withdrawn")) == 1
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    await new_phone.send(f"/start {fresh}")
    await new_phone.press("I agree")
    assert await account_of(diary, "P-0001") == 311, "the newest link works"


@SQLITE_ONLY
async def test_a_mistyped_invite_link_corrected_by_an_edit_opens_the_consent_screen(diary: Diary) -> None:
    """Someone who typed their invite's "/start" with a typo and corrected it by editing the message was
    told that something went wrong (the handler read only sent messages); an edited /start is answered as
    a sent one, and a patient's message edited into /start gets the help, as /start sent does; so with
    every patient command ("/callme about ...": the words reach staff with the request)."""
    token = await diary.invite("P-0001")
    ana = SimulatedUser(diary.standin, 333, "Ana")
    typed = ana.say(f"/start {token[:-1]}")
    await ana.wait_for(lambda: any("expired or has already been used" in (m.text or "") for m in ana.messages))
    reply = await ana.edit(typed, f"/start {token}")
    assert reply is not None and "Do you agree to keep this diary?" in (reply.text or ""), reply
    await ana.press("I agree")
    said = ana.say("hello")
    await ana.wait_for(lambda: (ana.last.text or "").startswith("I can't give medical advice"))
    reply = await ana.edit(said, "/start")
    assert reply is not None and reply.text is not None and "/history" in reply.text, reply
    for command in PATIENT_COMMANDS:
        if command != "callme":  # answered in the staff chat, below
            reply = await ana.edit(said, f"/{command}")
            assert reply is not None and not (reply.text or "").startswith("Sorry, something went wrong"), command
    await ana.edit(said, "/callme about moving my infusion", wait=False)
    await diary.wait_until(lambda: any("about moving my infusion" in (m.text or "") for m in staff_chat(diary)))


@SQLITE_ONLY
async def test_an_admin_enrolled_as_a_patient_too_still_replies_to_patients_from_their_chat(diary: Diary) -> None:
    """An admin who enrolled with their own account to see what patients see pressed Reply on an
    escalation in their direct chat, and their answer went to the staff chat as a message of their own
    diary, never to the patient in crisis. After Reply their next message goes to the patient; without
    it, their words are their diary's as any patient's."""
    ben, ada = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 900, "Ada")
    await diary.enrol(ben, "P-0001")
    await diary.enrol(ada, "P-0002")
    await crisis(diary, ben, "i wish i was dead")
    diary.clock.advance(minutes=16)
    await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
    await ada.wait_for(lambda: any("P-0001" in (m.text or "") and m.buttons for m in ada.messages))
    escalated = next(m for m in reversed(ada.messages) if "P-0001" in (m.text or "") and m.buttons)
    await ada.press("Reply", message=escalated)
    reply = await ada.send("We are calling you now.")
    assert reply is not None and reply.text == "Your reply is on its way to P-0001.", reply
    await ben.wait_for(lambda: ben.last.text == "Your care team: We are calling you now.")
    reply = await ada.send("my own hand is swollen today")
    assert reply is not None and (reply.text or "").startswith("I can't give medical advice"), reply
    await diary.wait_until(lambda: any("P-0002:\nmy own hand is swollen" in (m.text or "") for m in staff_chat(diary)))
    assert not any("calling you now" in (m.text or "") for m in staff_chat(diary)), "not filed as Ada's own diary"


@SQLITE_ONLY
async def test_an_invite_link_pasted_or_typed_with_what_a_copy_catches_opens_the_consent_screen(diary: Diary) -> None:
    """Telegram loses a link's start word when it is installed from the link, so a patient pastes the
    link into the chat, or types /start and pastes it, or copies the token with the full stop after it, or
    types words of their own before it: they were told to ask their care team for an invite, which they had. The
    token itself is compared whole: in other letters' case it is someone else's."""
    consent = "Do you agree to keep this diary?"
    for n, typed in enumerate(
        (
            "https://t.me/crps_diary_bot?start={token}",
            "my link: t.me/crps_diary_bot?start={token} thanks",
            "/start https://t.me/crps_diary_bot?start={token}",
            "/start «{token}».",
            "/start my code is {token}",
        )
    ):
        token = await diary.invite(f"P-000{n}")
        reply = await SimulatedUser(diary.standin, 330 + n, "Ana").send(typed.format(token=token))
        assert reply is not None and consent in (reply.text or ""), (typed, reply.text)
    token = await diary.invite("P-0009")
    reply = await SimulatedUser(diary.standin, 339, "Eve").send(f"/start {token.swapcase()}")
    assert reply is not None and "expired or has already been used" in (reply.text or "")


@SQLITE_ONLY
async def test_an_invite_link_behind_formatted_words_forwarded_or_pasted_opens_the_consent_screen(diary: Diary) -> None:
    """The nurse's message "Tap here to start your diary", its link behind "here", forwarded to the bot (or pasted
    with its formatting): the link's address is in the message, not in its words, and the
    person was told to ask their care team for an invite, which they had."""
    nurse = {"type": "user", "sender_user": {"id": 555, "is_bot": False, "first_name": "Nurse Sam"}, "date": 1}
    for n, forwarded in enumerate((nurse, None)):
        token = await diary.invite(f"P-001{n}")
        ana = SimulatedUser(diary.standin, 340 + n, "Ana")
        answered = ana.expect_reply()
        link = {"type": "text_link", "offset": 4, "length": 4, "url": f"https://t.me/crps_diary_bot?start={token}"}
        diary.standin.user_message(ana.json, "Tap here to start your diary", entities=[link], forwarded=forwarded)
        reply = await answered
        assert "Do you agree to keep this diary?" in (reply.text or ""), reply.text


@SQLITE_ONLY
async def test_a_relink_for_a_new_phone_keeps_the_patients_language_zone_and_times(diary: Diary) -> None:
    """A nurse re-links a patient's new phone with "/relink P-0001" alone: the patient's language, time
    zone and country became the clinic's defaults, so a Spanish-speaking patient in Bogotá got English
    check-ins at Berlin times. Words not given keep the patient's own; words given change them."""
    sam = await a_member(diary)
    token = await link_of(sam, "/invite P-0001 America/Bogota es 08:00,19:00")
    ana = SimulatedUser(diary.standin, 301, "Ana", language_code="es")
    await ana.send(f"/start {token}")
    await ana.press(data=f"cs:y:{token}")
    for n, phone in enumerate((311, 312)):
        words = "/relink P-0001" if n == 0 else "/relink P-0001 Europe/Madrid"
        token = await link_of(sam, words)
        new_phone = SimulatedUser(diary.standin, phone, "Ana", language_code="es")
        await new_phone.send(f"/start {token}")
        await new_phone.press(data=f"cs:y:{token}")
        async with diary.database.session() as session:
            record = await patients.by_code(session=session, code="P-0001")
        schedule = await diary.schedule("P-0001")
        zone = "America/Bogota" if n == 0 else "Europe/Madrid"
        assert record is not None and (record.telegram_user_id, record.language, record.timezone) == (phone, "es", zone)
        assert (schedule.times, schedule.timezone) == ("08:00,19:00", zone)


@SQLITE_ONLY
async def test_an_invite_or_relink_asked_for_in_the_staff_group_goes_only_to_the_askers_direct_chat(
    diary: Diary,
) -> None:
    """/relink in the staff group posted its link there: anyone in the group who is not staff (or no longer)
    could open it first and become the patient, with their history (/export) and its erasure (/delete). A
    link that makes its holder a patient goes to the asker's direct chat, as a console sign-in does; when
    the bot cannot write there, the link is withdrawn unseen."""
    group = diary.settings.staff_chat_id
    assert group is not None
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0001")
    sam = await a_member(diary)
    reply = await sam.send("/relink P-0001", chat_id=group)
    assert reply is not None and reply.text is not None and "sent the link for P-0001" in reply.text, reply
    await sam.wait_for(lambda: any("start=" in (m.text or "") for m in sam.messages))
    for words in ("/invite P-0002", "/invite P-0003 Europe/Madrid es"):
        reply = await sam.send(words, chat_id=group)
        assert reply is not None and "sent the link" in (reply.text or ""), reply
    assert not [m for m in diary.standin.chat(group) if "start=" in (m.text or "")], "no link in the group"
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    relink = next(m for m in sam.messages if "P-0001" in (m.text or ""))
    await new_phone.send(f"/start {token_of(relink.text)}")
    await new_phone.press("I agree")
    assert await account_of(diary, "P-0001") == 311, "the link in the direct chat works"
    await diary.wait_until(lambda: any("now continues on another" in (m.text or "") for m in diary.standin.chat(group)))

    ada = await a_member(diary, 801)
    ada.block_bot()
    reply = await ada.send("/invite P-0002", chat_id=group)
    assert reply is not None and "cannot write to you directly" in (reply.text or ""), reply
    async with diary.database.session() as session:
        still_open = {code for code, _, _ in await invites.open_invites(session=session, now=diary.clock())}
    assert still_open == {"P-0003"}, "neither the link nobody saw, nor the one it replaced"


async def test_an_invite_link_posted_in_the_staff_group_stops_working(diary: Diary) -> None:
    """A nurse forwarded a patient's link into the staff group ("can someone send this to Ana?"), or pasted its
    token there: anyone in the group (someone removed from staff is often still in it) could open it first and
    become the patient. A link the bot sees posted in the staff chat, typed, behind formatted words, in a caption
    or after /start, and by anyone there, is withdrawn at once and the group is told how to make a new one; a link
    used already is left as it is."""
    group = diary.settings.staff_chat_id
    assert group is not None
    sam = await a_member(diary)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0001")
    invite, relink = await diary.invite("P-0002"), await diary.invite("P-0001", relink=True)
    reply = await sam.send(f"Can someone send this to Ana? https://t.me/diary_bot?start={invite}", chat_id=group)
    assert reply is not None and "P-0002" in (reply.text or "") and "/invite P-0002" in (reply.text or ""), reply
    mallory = SimulatedUser(diary.standin, 666, "Mallory")  # still in the group, no longer staff
    answered = mallory.expect_reply(chat_id=group)
    mallory.send_photo(f"code {relink}", chat_id=group)
    assert "/relink P-0001" in ((await answered).text or "")
    for token in (invite, relink):
        reply = await mallory.send(f"/start {token}")
        assert reply is not None and "expired or has already been used" in (reply.text or ""), reply
    assert await account_of(diary, "P-0001") == 301
    async with diary.database.session() as session:
        assert await invites.open_invites(session=session, now=diary.clock()) == []
        events = [(e.action, e.patient_code) for e in await audit.since(session=session)]
    assert ("revoke_invite", "P-0002") in events and ("revoke_invite", "P-0001") in events

    hidden = await diary.invite("P-0003")
    answered = sam.expect_reply(chat_id=group)
    diary.standin.user_message(
        sam.json,
        "Tap here",
        group,
        entities=[{"type": "text_link", "offset": 0, "length": 8, "url": f"https://t.me/diary_bot?start={hidden}"}],
    )
    assert "P-0003" in ((await answered).text or "")
    started = await diary.invite("P-0004")
    reply = await sam.send(f"/start {started}", chat_id=group)
    assert reply is not None and "P-0004" in (reply.text or ""), reply
    used = await diary.invite("P-0005")
    ada = SimulatedUser(diary.standin, 330, "Ada")
    await ada.send(f"/start {used}")
    await ada.press("I agree")
    updates = await handled(diary)
    said = sam.say("Ada's, done", chat_id=group)
    await diary.inbox_processed(at_least=updates + 1)
    before = len(diary.standin.chat(group))
    await edit_unanswered(diary, sam, said, f"Ada's, done: ?start={used}")
    assert len(diary.standin.chat(group)) == before
    async with diary.database.session() as session:
        assert await invites.open_invites(session=session, now=diary.clock()) == []


@SQLITE_ONLY  # the withdrawal's statements run on PostgreSQL in the test before
async def test_an_invite_link_quoted_from_another_chat_into_the_staff_group_stops_working(diary: Diary) -> None:
    """A nurse answered the bot's message with Ana's link in her own chat with it by "Reply in another chat", choosing
    the staff group and quoting the link ("who sends this on?"). The group showed the link, and it kept working: only
    the words she typed were looked at. A link quoted there, as one typed there, stops working and the group is
    told; so does a console sign-in link."""
    sam = await a_member(diary)
    answer = await sam.send("/invite P-0002")
    assert answer is not None
    token = token_of(answer.text)
    from_the_bot = {"type": "user", "date": answer.date, "sender_user": diary.standin.bot}
    answered = sam.expect_reply(chat_id=STAFF_CHAT)
    link = f"https://t.me/diary_bot?start={token}"
    diary.standin.user_message(sam.json, "who sends this on?", STAFF_CHAT, quote=link, elsewhere=from_the_bot)
    assert "/invite P-0002" in ((await answered).text or "")
    reply = await SimulatedUser(diary.standin, 666, "Mallory").send(f"/start {token}")
    assert reply is not None and "expired or has already been used" in (reply.text or ""), reply
    signin = await auth.issue_link(diary.database, telegram_user_id=sam.id, role="staff", now=diary.clock())
    answered = sam.expect_reply(chat_id=STAFF_CHAT)
    link = f"https://clinic.example/console/signin/{signin}"
    diary.standin.user_message(sam.json, "why a button?", STAFF_CHAT, quote=link, elsewhere=from_the_bot)
    assert "/console" in ((await answered).text or "")
    assert await auth.sign_in(diary.database, token=signin, now=diary.clock()) is None


@SQLITE_ONLY  # the withdrawal's statements run on PostgreSQL in the test before
async def test_an_invite_link_posted_in_a_channel_the_bot_is_in_stops_working(diary: Diary) -> None:
    """An admin made the bot an administrator of the clinic's channel, and a link was posted there (a post names no
    person, only the channel): it kept working for everyone who reads the channel, since a post was not looked at.
    It stops working, as in a group, and the staff chat is told where."""
    token = await diary.invite("P-0002")
    channel = {"id": -100888, "type": "channel", "title": "Clinic news"}
    post = {
        "message_id": 1,
        "date": diary.standin.now(),
        "chat": channel,
        "text": f"https://t.me/diary_bot?start={token}",
    }
    diary.standin.push_update({"channel_post": post})
    await diary.wait_until(lambda: any("“Clinic news”" in (m.text or "") for m in staff_chat(diary)))
    assert any("/invite P-0002" in (m.text or "") for m in staff_chat(diary))
    reply = await SimulatedUser(diary.standin, 666, "Mallory").send(f"/start {token}")
    assert reply is not None and "expired or has already been used" in (reply.text or ""), reply


@SQLITE_ONLY  # the withdrawal's statements run on PostgreSQL in the test before
async def test_a_link_cut_by_a_character_that_shows_nothing_is_read_whole(diary: Diary) -> None:
    """A link whose token a zero-width space, a soft hyphen or a word joiner cuts (an app breaking a long word, or
    someone on purpose) reads, and opens, as the whole link. Posted in the staff group it kept working: only the
    part before the cut was looked up. Such an invite link or console sign-in link stops working there, and the
    patient who pastes one into their chat gets the consent screen."""
    sam = await a_member(diary)
    cuts = {}
    for n, gap in enumerate(["\u200b", "\u00ad", "\u2060"]):
        token = await diary.invite(f"P-000{n + 1}")
        cuts[f"P-000{n + 1}"] = f"{token[:4]}{gap}{token[4:]}"
    signin = await auth.issue_link(diary.database, telegram_user_id=sam.id, role="staff", now=diary.clock())
    for code, cut in cuts.items():
        reply = await sam.send(f"Can someone send this on? https://t.me/diary_bot?start={cut}", chat_id=STAFF_CHAT)
        assert reply is not None and f"/invite {code}" in (reply.text or ""), reply
    cut = f"{signin[:6]}\u200b{signin[6:]}"
    reply = await sam.send(f"mine: https://clinic.example/console/signin/{cut}", chat_id=STAFF_CHAT)
    assert reply is not None and "/console" in (reply.text or ""), reply
    assert await auth.sign_in(diary.database, token=signin, now=diary.clock()) is None
    async with diary.database.session() as session:
        assert await invites.open_invites(session=session, now=diary.clock()) == []
    token = await diary.invite("P-0004")
    ana = SimulatedUser(diary.standin, 401, "Ana")
    screen = await ana.send(f"https://t.me/diary_bot?start={token[:9]}\u200b{token[9:]}")
    assert screen is not None and "Do you agree to keep this diary?" in (screen.text or ""), screen


@SQLITE_ONLY  # the withdrawal's statements run on PostgreSQL in the test before
async def test_a_link_with_token_characters_typed_right_after_it_is_read_as_the_link(diary: Diary) -> None:
    """A link between underscores (italics written by hand, or copied from another messenger: "_https://…?start=…_"),
    or with a dash typed right after it ("…?start=…--call me"), took those characters for part of its token: posted in
    the staff group it kept working, and the patient who pasted it was told it had expired. A token has a length of
    its own: what follows it is not part of it. So for a console sign-in link."""
    sam = await a_member(diary)
    italic, dashed = await diary.invite("P-0001"), await diary.invite("P-0002")
    signin = await auth.issue_link(diary.database, telegram_user_id=sam.id, role="staff", now=diary.clock())
    for words in (
        f"_https://t.me/diary_bot?start={italic}_",
        f"https://t.me/diary_bot?start={dashed}--call me",
        f"_https://clinic.example/console/signin/{signin}_",
    ):
        reply = await sam.send(words, chat_id=STAFF_CHAT)
        assert reply is not None and "no longer works" in (reply.text or ""), (words, reply)
    async with diary.database.session() as session:
        assert await invites.open_invites(session=session, now=diary.clock()) == []
    assert await auth.sign_in(diary.database, token=signin, now=diary.clock()) is None
    token = await diary.invite("P-0003")
    screen = await SimulatedUser(diary.standin, 401, "Ana").send(f"_https://t.me/diary_bot?start={token}_")
    assert screen is not None and "Do you agree to keep this diary?" in (screen.text or ""), screen


@SQLITE_ONLY
async def test_a_staff_reply_carrying_an_invite_link_written_in_the_staff_group_does_not_reach_the_patient(
    diary: Diary,
) -> None:
    """A nurse answered Ben's "I have a new phone" in the staff group with the /relink link itself. The link, seen
    there, stopped working (anyone in the group could open it first), and the reply went on to Ben all the same:
    he got a link that said it had expired, and the nurse was told the reply was on its way. A reply written in the
    group with an invite link (or its token) in it does not go; its writer is told why and how to pass a link on,
    and the same words without the link go as any reply."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = await a_member(diary)
    await diary.enrol(ben)
    await ben.send("I have a new phone, can I move my diary?")
    await diary.wait_until(lambda: any(m.buttons for m in staff_chat(diary)))
    forwarded = next(m for m in staff_chat(diary) if m.buttons)
    token = await link_of(sam, "/relink P-0001")
    answered = sam.expect_reply(chat_id=STAFF_CHAT)
    diary.standin.user_message(
        sam.json,
        "Open this on your new phone",
        STAFF_CHAT,
        reply_to=forwarded,
        entities=[{"type": "text_link", "offset": 0, "length": 4, "url": f"https://t.me/diary_bot?start={token}"}],
    )
    await answered
    await diary.wait_until(lambda: any("did not go to P-0001" in (m.text or "") for m in staff_chat(diary)))
    assert not any("on its way to P-0001" in (m.text or "") for m in staff_chat(diary))
    used, cleo = await diary.invite("P-0002"), SimulatedUser(diary.standin, 302, "Cleo")
    await cleo.send(f"/start {used}")
    await cleo.press("I agree")
    reply = await sam.send(f"Your code is {used}", chat_id=STAFF_CHAT, reply_to=forwarded)
    assert reply is not None and "did not go to P-0001" in (reply.text or ""), reply
    reply = await sam.send("We will send you a new link by text message.", chat_id=STAFF_CHAT, reply_to=forwarded)
    assert reply is not None and "on its way to P-0001" in (reply.text or ""), reply
    await ben.wait_for(lambda: "by text message" in (ben.last.text or ""))
    assert [m.text for m in ben.messages if (m.text or "").startswith("Your care team")] == [
        "Your care team: We will send you a new link by text message."
    ]


@SQLITE_ONLY
async def test_an_invite_link_posted_in_a_group_that_was_the_staff_chat_stops_working(diary: Diary) -> None:
    """An admin made a new group the staff chat; the old one, the bot still in it, is where a nurse out of habit
    posted a patient's link ("can someone send this to Ana?"), and where people removed from staff often still are.
    The link kept working: only links in the staff chat were withdrawn. A link the bot sees in any group stops
    working; the staff chat (not that group, whose readers are not known) is told which, where and how to make a
    new one. So does a console sign-in link."""
    old = diary.settings.staff_chat_id
    assert old is not None
    ada, sam = SimulatedUser(diary.standin, 900, "Ada"), await a_member(diary)
    diary.standin.add_group(old, "Old staff chat", [ada.id, sam.id])
    hint = ada.expect_reply(chat_id=NEW_STAFF_CHAT)
    diary.standin.add_bot_to_group(NEW_STAFF_CHAT, "Clinic staff", by=ada)
    await hint
    await ada.send("/staffchat", chat_id=NEW_STAFF_CHAT)
    token = await diary.invite("P-0002")
    signin = await auth.issue_link(diary.database, telegram_user_id=sam.id, role="staff", now=diary.clock())
    before = len(diary.standin.chat(old))
    sam.say(f"Can someone send this to Ana? https://t.me/diary_bot?start={token}", chat_id=old)
    sam.say(f"and why does mine show a button? https://clinic.example/console/signin/{signin}", chat_id=old)
    posted = "posted in “Old staff chat”"
    await diary.wait_until(lambda: sum(posted in (m.text or "") for m in diary.standin.chat(NEW_STAFF_CHAT)) == 2)
    told = diary.standin.chat(NEW_STAFF_CHAT)
    assert any("/invite P-0002" in (m.text or "") for m in told), [m.text for m in told]
    assert len(diary.standin.chat(old)) == before + 2, "nothing said in the old group"
    reply = await SimulatedUser(diary.standin, 666, "Mallory").send(f"/start {token}")
    assert reply is not None and "expired or has already been used" in (reply.text or ""), reply
    assert await auth.sign_in(diary.database, token=signin, now=diary.clock()) is None


async def test_a_console_sign_in_link_posted_in_the_staff_group_stops_working(diary: Diary) -> None:
    """A nurse pasted her /console link into the staff group to ask why it showed a button: for ten minutes anyone
    in the group (someone removed from staff is often still in it) could open it and sign in to the web console as
    her, every patient's record in view, while an invite link posted there stopped working. A sign-in link seen in
    the staff chat stops working too, and the group is told /console makes a new one; one she keeps still works."""
    sam = await a_member(diary)
    posted = await auth.issue_link(diary.database, telegram_user_id=sam.id, role="staff", now=diary.clock())
    address = auth.link_url("https://clinic.example/console", posted)
    reply = await sam.send(f"Why does {address} show a button?", chat_id=STAFF_CHAT, timeout=5)
    assert reply is not None and "/console" in (reply.text or "") and posted not in (reply.text or ""), reply
    assert await auth.sign_in(diary.database, token=posted, now=diary.clock()) is None
    kept = await auth.issue_link(diary.database, telegram_user_id=sam.id, role="staff", now=diary.clock())
    assert await auth.sign_in(diary.database, token=kept, now=diary.clock()) is not None
    async with diary.database.session() as session:
        events = [(e.actor_id, e.action) for e in await audit.since(session=session)]
    assert (sam.id, "console_link_withdrawn") in events


async def test_a_console_sign_in_link_in_a_reply_never_reaches_the_patient(diary: Diary) -> None:
    """An admin, after Reply on a crisis in her direct chat, pasted her /console link by mistake (it was the last thing
    she copied): the reply went to the patient, who could sign in to the web console as her for ten minutes, every
    patient's record in view. A reply holding a sign-in link does not go, the link stops working, and she is told;
    her next words still go to the patient."""
    ben, ada = await admin_pressed_reply_on_an_escalation(diary)
    token = await auth.issue_link(diary.database, telegram_user_id=ada.id, role="admin", now=diary.clock())
    address = auth.link_url("https://clinic.example/console", token)
    before = len(ben.messages)
    reply = await ada.send(f"We are calling you now. {address}")
    assert reply is not None and "did not go to P-0001" in (reply.text or "") and token not in (reply.text or "")
    assert await auth.sign_in(diary.database, token=token, now=diary.clock()) is None
    await ada.send("We are calling you now.")
    await ben.wait_for(lambda: ben.last.text == "Your care team: We are calling you now.")
    assert not any(token in (m.text or "") for m in ben.messages[before:])
    async with diary.database.session() as session:
        events = [(e.actor_id, e.action) for e in await audit.since(session=session)]
    assert (ada.id, "console_link_withdrawn") in events


@SQLITE_ONLY
async def test_a_reply_with_words_that_only_look_like_a_link_of_the_diary_goes(diary: Diary) -> None:
    """The guards above refuse a reply holding an invite link or a console sign-in link: a leaflet's address with a
    long mixed-case name, or a hospital portal's own sign-in page, are no such thing, and go to the patient."""
    ben, ada = await admin_pressed_reply_on_an_escalation(diary)
    portal = "Please book via the portal: https://portal.hospital.example/signin/patient-registration"
    reply = await ada.send(portal)
    assert reply is not None and "on its way to P-0001" in (reply.text or ""), reply
    sam = await a_member(diary)
    await ben.send("how do I do the mirror exercises?")
    await diary.wait_until(lambda: any("mirror" in (m.text or "") and m.buttons for m in staff_chat(diary)))
    forwarded = next(m for m in staff_chat(diary) if "mirror" in (m.text or "") and m.buttons)
    leaflet = "See our leaflet: https://clinic.example/leaflets/Desensitisation-Guide-v2"
    reply = await sam.send(leaflet, chat_id=STAFF_CHAT, reply_to=forwarded)
    assert reply is not None and "on its way to P-0001" in (reply.text or ""), reply
    await ben.wait_for(lambda: "Desensitisation-Guide-v2" in (ben.last.text or ""))


async def test_an_invite_link_used_by_one_account_and_then_tried_by_another_is_told_to_staff(diary: Diary) -> None:
    """The patient opened their link and read the consent screen; someone who had the link too (it was forwarded,
    or seen over a shoulder) agreed first. The patient's "I agree" said only that the link was used, and staff knew
    nothing: the other account kept the diary under the patient's code, and staff took the patient who called for
    "already enrolled". A used link tried by another account not enrolled (the link opened, or its consent button)
    is told to staff once, with the /relink that gives the diary to the patient; the holder, staff and a second
    try tell nothing more."""
    token = await diary.invite("P-0002")
    ana = SimulatedUser(diary.standin, 401, "Ana")
    mallory = SimulatedUser(diary.standin, 666, "Mallory")
    screen = await ana.send(f"/start {token}")
    await mallory.send(f"/start {token}")
    await mallory.press("I agree")
    await ana.press("I agree", message=screen)
    assert "already been used" in (ana.last.text or ""), ana.last.text
    await diary.wait_until(lambda: any("/relink P-0002" in (m.text or "") for m in staff_chat(diary)))
    told = [m for m in staff_chat(diary) if "/relink P-0002" in (m.text or "")]
    assert len(told) == 1 and "another Telegram account" in (told[0].text or ""), told
    reply = await ana.send(f"/start {token}")
    assert reply is not None and "already been used" in (reply.text or "")
    await mallory.send(f"/start {token}")
    sam = await a_member(diary)
    await sam.send(f"/start {token}")
    await diary.inbox_processed()
    assert [m for m in staff_chat(diary) if "/relink P-0002" in (m.text or "")] == told
    assert await account_of(diary, "P-0002") == 666

    other = await diary.invite("P-0003")
    eve = SimulatedUser(diary.standin, 667, "Eve")
    await eve.send(f"/start {other}")
    await eve.press("I agree")
    ben = SimulatedUser(diary.standin, 402, "Ben")
    reply = await ben.send(f"/start {other}")
    assert reply is not None and "already been used" in (reply.text or "")
    await diary.wait_until(lambda: any("/relink P-0003" in (m.text or "") for m in staff_chat(diary)))


@SQLITE_ONLY
async def test_no_thank_you_pressed_by_someone_enrolled_does_not_say_nothing_was_stored(diary: Diary) -> None:
    """A patient who opened their link twice agreed on one consent screen and pressed "No, thank you" on
    the other: they were told nothing about them had been stored and to ask for a new invite, while their
    diary was kept and check-ins came. Someone enrolled is told their diary is kept, and how to erase it."""
    token = await diary.invite("P-0001")
    ana = SimulatedUser(diary.standin, 333, "Ana")
    first = await ana.send(f"/start {token}")
    second = await ana.send(f"/start {token}")
    assert first is not None and second is not None
    await ana.press("I agree", message=second)
    await ana.press("No, thank you", message=first)
    shown = diary.standin.messages[ana.chat_id][first.message_id].text or ""
    assert "Nothing about you has been stored" not in shown and "/delete" in shown, shown
    async with diary.database.session() as session:
        record = await patients.by_code(session=session, code="P-0001")
    assert record is not None and record.telegram_user_id == 333 and record.status == "active"


@SQLITE_ONLY
async def test_no_thank_you_pressed_on_another_patients_link_leaves_it_working_for_them(diary: Diary) -> None:
    """A shared phone: the daughter opened her mother's link and her own, agreed on her own, then pressed "No,
    thank you" on her mother's screen. Her account is another patient's, so that link could never enrol it, yet
    the press withdrew it and staff saw the mother as having declined. The press is a token that opens nothing
    for this account (counted as one), and the link keeps working for the mother."""
    mother, daughter = await diary.invite("P-0001"), await diary.invite("P-0002")
    eva = SimulatedUser(diary.standin, 334, "Eva")
    hers = await eva.send(f"/start {mother}")
    await eva.send(f"/start {daughter}")
    await eva.press("I agree")
    assert hers is not None
    await eva.press("No, thank you", message=hers)
    async with diary.database.session() as session:
        declined = (await session.exec(select(Invite).where(col(Invite.declined_at).is_not(None)))).all()
        assert await wrong_tokens.count_since(session=session, telegram_user_id=334, since=START.replace(hour=7)) == 1
    assert declined == []
    ada = SimulatedUser(diary.standin, 335, "Ada")
    await ada.send(f"/start {mother}")
    await ada.press("I agree")
    assert await account_of(diary, "P-0001") == 335


@SQLITE_ONLY
async def test_no_thank_you_pressed_on_a_relink_by_the_account_holding_the_record_leaves_it_working(
    diary: Diary,
) -> None:
    """Ben's re-link, for his new phone, reached him by text message and he opened it on the old phone first: asked
    to agree there, he pressed "No, thank you" (the diary is to move to the new phone, not stay here). He was told
    this changed nothing, and the link then said it had expired on the new phone: his "No" had withdrawn it. The
    account the record is on declines nothing of a link for another account of the patient's: it keeps working, and
    the press is no wrong token."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    token = await diary.invite("P-0001", relink=True)
    opened = await ben.send(f"/start {token}")
    await ben.press(data=f"cs:n:{token}", message=opened)  # its consent screen, shown before it was told apart
    assert "changed nothing" in (ben.last.text or ""), ben.last.text
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    screen = await new_phone.send(f"/start {token}")
    assert screen is not None and "Do you agree to keep this diary?" in (screen.text or ""), screen
    await new_phone.press("I agree", message=screen)
    assert await account_of(diary, "P-0001") == 311
    async with diary.database.session() as session:
        assert await wrong_tokens.count_since(session=session, telegram_user_id=301, since=START) == 0
        assert (await patients.overview(session=session))[0].declined is False


@SQLITE_ONLY
async def test_i_agree_pressed_on_a_relink_by_the_account_holding_the_record_leaves_it_working(diary: Diary) -> None:
    """Ben opened the re-link for his new phone on the old one first and pressed "I agree" there: he was told he was
    enrolled, and the link then said it had expired on the new phone (the old account had used it up, moving
    nothing). The account the record is on is told at once that the diary is on this account already and the link is
    for the other one; its consent screen from before, pressed, says the same, and the link keeps working."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    token = await diary.invite("P-0001", relink=True)
    reply = await ben.send(f"/start {token}")
    assert reply is not None and "already on this Telegram account" in (reply.text or ""), reply
    assert not reply.buttons, "no consent screen: agreeing here would change nothing"
    await ben.press(data=f"cs:y:{token}", message=reply)  # a consent screen of before, kept in the chat
    assert "already on this Telegram account" in (ben.last.text or ""), ben.last.text
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    screen = await new_phone.send(f"/start {token}")
    assert screen is not None and "Do you agree to keep this diary?" in (screen.text or ""), screen
    await new_phone.press("I agree", message=screen)
    assert await account_of(diary, "P-0001") == 311
    async with diary.database.session() as session:
        assert await wrong_tokens.count_since(session=session, telegram_user_id=301, since=START) == 0


@SQLITE_ONLY
async def test_no_thank_you_pressed_by_a_discharged_patient_on_their_readmission_link_says_where_they_stand(
    diary: Diary,
) -> None:
    """Cleo, discharged, opened the link that readmits her and pressed "No, thank you": she was told she was
    enrolled already and that this changed nothing, while her check-ins stayed ended and the link had stopped
    working. She is told her check-ins stay ended, her diary is kept, and to ask for a new link if she changes her
    mind."""
    cleo = SimulatedUser(diary.standin, 302, "Cleo")
    await diary.enrol(cleo, "P-0002")
    await roster.discharge(diary.database, code="P-0002", actor_id=None, now=diary.clock())
    token = await diary.invite("P-0002", relink=True)
    await cleo.send(f"/start {token}")
    await cleo.press("No, thank you")
    said = cleo.last.text or ""
    assert "already enrolled" not in said and "changed nothing" not in said, said
    assert "check-ins stay ended" in said and "new link" in said, said


@SQLITE_ONLY
async def test_the_account_a_relink_moved_the_record_from_and_the_staff_chat_are_told_once(diary: Diary) -> None:
    """A re-link opened on another account (the patient's new phone, or whoever the link reached) left the
    old account to find out by writing into silence: its words no longer reach anyone. It is told, once,
    in the patient's language, that the diary continues elsewhere and to call the care team if they did
    not ask for it; the new account is not."""
    ana = SimulatedUser(diary.standin, 301, "Ana", language_code="es")
    await diary.enrol(ana, "P-0001", language="es")
    token = await diary.invite("P-0001", relink=True, language="es")
    new_phone = SimulatedUser(diary.standin, 311, "Ana")
    screen = await new_phone.send(f"/start {token}")
    await new_phone.press(data=f"cs:y:{token}", message=screen)
    await ana.wait_for(lambda: "otra cuenta de Telegram" in (ana.last.text or ""))
    assert not [m for m in new_phone.messages if "otra cuenta" in (m.text or "") or "another" in (m.text or "")]
    # Staff too: a move the patient did not ask for is a record taken over, and only they can undo it.
    told = "P-0001's diary now continues on another Telegram account"
    await diary.wait_until(lambda: any(told in (m.text or "") for m in staff_chat(diary)))
    before = len(ana.messages)
    await new_phone.press(data=f"cs:y:{token}", message=screen)  # pressed again: nothing moves, nobody is told again
    await new_phone.send("/help")
    assert len(ana.messages) == before
    assert sum(told in (m.text or "") for m in staff_chat(diary)) == 1


async def test_words_of_crisis_from_the_account_a_relink_moved_the_record_from_reach_staff(diary: Diary) -> None:
    """The account a re-link moved the record from (the patient's old phone, or a second device) is a stranger to
    the diary: its words of crisis got the stranger's crisis help, and nobody at the clinic heard of them. Staff are
    told at once, with the code the account held and its words; the account (perhaps an attacker holding an old
    link) still learns nothing of the record."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    token = await diary.invite("P-0001", relink=True)
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    screen = await new_phone.send(f"/start {token}")
    await new_phone.press(data=f"cs:y:{token}", message=screen)
    await diary.wait_until(lambda: any("now continues on another" in (m.text or "") for m in staff_chat(diary)))
    # The old account's own notice of the move, sent beside the staff chat's, must not be taken for the answer below.
    await ben.wait_for(lambda: any("now continues on another" in (m.text or "") for m in ben.messages))
    before = len(ben.messages)
    reply = await ben.send("I want to die")
    assert reply is not None and "no one at the clinic will see this" in (reply.text or ""), reply
    told = "the Telegram account that held P-0001's diary until"
    await diary.wait_until(lambda: any(told in (m.text or "") for m in staff_chat(diary)))
    notice = next(m.text or "" for m in staff_chat(diary) if told in (m.text or ""))
    assert "I want to die" in notice, notice
    assert not [m for m in ben.messages[before:] if "P-0001" in (m.text or "") or "Ben" in (m.text or "")]
    assert not [m for m in new_phone.messages if "I want to die" in (m.text or "")]
    # PHQ-9 item 9 pressed on a questionnaire left in the old account's chat is as much theirs as typed words.
    await ben.press(data="ck:a:1:phq_self_harm:3", message=ben.messages[-1])
    pressed = (
        "PHQ-9 question 9 (thoughts that they would be better off dead or of hurting themselves): Nearly every day"
    )
    await diary.wait_until(lambda: any(told in (m.text or "") and pressed in (m.text or "") for m in staff_chat(diary)))
    assert not [m for m in ben.messages[before:] if "P-0001" in (m.text or "") or "Ben" in (m.text or "")]


@SQLITE_ONLY  # the statements of the test before
async def test_a_link_in_words_of_crisis_from_the_account_a_relink_moved_the_record_from_is_not_shown_to_staff(
    diary: Diary,
) -> None:
    """The patient on their old phone, their record moved away by a link someone else opened, pastes the link
    staff made to give it back with words of crisis: staff were told of the words with the link in them, which
    anyone reading the staff group (someone removed from staff) could open first and take the record again.
    Staff get the words with the token blanked, as with any patient's words."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    token = await diary.invite("P-0001", relink=True)
    mallory = SimulatedUser(diary.standin, 666, "Mallory")
    screen = await mallory.send(f"/start {token}")
    await mallory.press(data=f"cs:y:{token}", message=screen)
    await diary.wait_until(lambda: any("now continues on another" in (m.text or "") for m in staff_chat(diary)))
    back = await diary.invite("P-0001", relink=True)
    await ben.send(f"someone took my diary, i want to die. this came: t.me/crps_diary_bot?start={back} and {back}")
    told = "the Telegram account that held P-0001's diary until"
    await diary.wait_until(lambda: any(told in (m.text or "") for m in staff_chat(diary)))
    notice = "\n".join(m.text or "" for m in staff_chat(diary) if "start=" in (m.text or "") or told in (m.text or ""))
    assert "i want to die" in notice and "?start=… and …" in notice, notice
    assert back not in "\n".join(m.text or "" for m in staff_chat(diary))


@SQLITE_ONLY  # the move's statements run on PostgreSQL in the test before
async def test_a_record_a_relink_moved_is_neither_exported_nor_erased_from_its_new_account_at_once(
    diary: Diary,
) -> None:
    """A re-link that reached the wrong hands (forwarded, a mistyped number) moved the record, and whoever
    opened it could /export the whole diary and /delete it for good at once: before the patient and staff,
    both told of the move, could take it back. For RELINK_HOLD_HOURS (72) after a record moves to another
    account, that account's /export and /delete wait, and say until when; the rest of the diary works. An
    erasure confirmed before the record moved away and back is asked again, as one for another record, however
    long after. Nor does that account's /history show what was answered before the move."""
    ana = SimulatedUser(diary.standin, 301, "Ana")
    await diary.enrol(ana, "P-0001")
    await complete_checkin(ana, "6")
    prompt = await ana.send("/delete")  # her Yes, left unpressed
    assert prompt is not None
    yes = dict(prompt.buttons)["Yes, erase everything"]
    token = await diary.invite("P-0001", relink=True)
    someone = SimulatedUser(diary.standin, 311, "Someone")
    await someone.press(data=f"cs:y:{token}", message=await someone.send(f"/start {token}"))
    assert await account_of(diary, "P-0001") == someone.id
    until = "2026-11-24 09:00"  # 72 hours after the move, in the patient's zone (Europe/Berlin)
    for command in ("/export", "/delete"):
        reply = await someone.send(command)
        assert reply is not None and reply.document is None and reply.reply_markup is None, reply
        assert until in (reply.text or ""), reply
    # Nor read: /history shows only what was answered on this account, and says from when the rest shows.
    reply = await someone.send("/history")
    assert reply is not None and reply.photo is None and until in (reply.text or ""), reply
    diary.clock.advance(minutes=5)
    await complete_checkin(someone, "8")
    reply = await someone.send("/history")
    assert reply is not None and reply.photo is not None, "check-ins and the chart of them work"
    assert "1 check-ins" in (reply.caption or "") and "lowest 8, highest 8" in (reply.caption or ""), reply.caption
    assert until in (reply.caption or ""), reply.caption

    # An hour later staff give it back to Ana's account: held there too (it moved), and her old Yes erases nothing.
    diary.clock.advance(hours=1)
    token = await diary.invite("P-0001", relink=True)
    await ana.press(data=f"cs:y:{token}", message=await ana.send(f"/start {token}"))
    assert await account_of(diary, "P-0001") == ana.id
    await ana.press("Yes, erase everything", message=prompt)
    assert await account_of(diary, "P-0001") == ana.id, "not erased"
    reply = await ana.send("/export")
    assert reply is not None and reply.document is None and "2026-11-24 10:05" in (reply.text or ""), reply

    diary.clock.advance(hours=72)
    await ana.press(data=yes, message=prompt)  # her Yes from before the moves, days on: still about the old record
    assert await account_of(diary, "P-0001") == ana.id, "asked again, not erased"
    reply = await ana.send("/export")
    assert reply is not None and reply.document_name == "diary.csv", reply
    reply = await ana.send("/delete")
    assert reply is not None and reply.reply_markup is not None, reply
    await ana.press("Yes, erase everything", message=reply)
    assert await account_of(diary, "P-0001") is None


async def test_links_asked_for_by_someone_removed_from_staff_stop_working(diary: Diary) -> None:
    """A nurse leaves the clinic and an admin removes her from staff; the links she asked for stay in her
    chat with the bot. A re-link not yet opened let her move a patient's record to her own account, with
    its history (/export) and its erasure (/delete); an invite not yet opened made her the new patient.
    Removing someone withdraws the links they asked for that are still open, and the admin is told
    whose links to make again; colleagues' links keep working."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0002")
    ada, sam, cleo = await a_member(diary, 900, "admin"), await a_member(diary, 800), await a_member(diary, 801)
    relink = await link_of(sam, "/relink P-0002")
    invite = await link_of(sam, "/invite P-0001")
    colleague = await link_of(cleo, "/invite P-0003")
    reply = await ada.send("/staff remove 800")
    assert reply is not None and reply.text is not None and "no longer staff" in reply.text, reply
    assert "P-0001" in reply.text and "P-0002" in reply.text and "P-0003" not in reply.text, reply.text
    for token in (relink, invite):
        screen = await sam.send(f"/start {token}")
        assert screen is not None and "expired or has already been used" in (screen.text or ""), screen
        await sam.press(data=f"cs:y:{token}", message=screen)
    async with diary.database.session() as session:
        record = await patients.by_code(session=session, code="P-0002")
        assert record is not None and record.telegram_user_id == 301, "the record stays with the patient"
        assert await patients.by_telegram_user(session=session, telegram_user_id=800) is None
        events = [(e.action, e.patient_code) for e in await audit.since(session=session) if e.actor_id == 900]
    assert {("revoke_invite", "P-0001"), ("revoke_invite", "P-0002")} <= set(events), events
    reply = await SimulatedUser(diary.standin, 303, "Cleo's patient").send(f"/start {colleague}")
    assert reply is not None and "Do you agree to keep this diary?" in (reply.text or ""), reply


@SQLITE_ONLY
async def test_a_patient_back_through_their_old_invite_link_hears_where_they_stand(diary: Diary) -> None:
    """A patient who blocked the bot and came back by opening their invite link again (the clinic's text
    message is where they found the diary) was told "You are already enrolled" while their check-ins
    stayed stopped: they start again, as with /start alone. A discharged patient who opened the link, or
    pressed I agree on their old consent screen, was told they were enrolled and check-ins would arrive:
    they are told their check-ins have ended."""
    ben, cleo = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 302, "Cleo")
    token = await diary.invite("P-0001")
    await ben.send(f"/start {token}")
    await ben.press("I agree")
    ben.block_bot()
    await diary.wait_until(lambda: any("blocked the diary bot" in (m.text or "") for m in staff_chat(diary)))
    ben.unblock_bot()
    reply = await ben.send(f"/start {token}")
    assert reply is not None and "already enrolled" in (reply.text or ""), reply
    async with diary.database.session() as session:
        record = await patients.by_code(session=session, code="P-0001")
    assert record is not None and record.status == "active"
    assert (await diary.schedule("P-0001")).next_due_at is not None, "check-ins start again"

    token = await diary.invite("P-0002")
    screen = await cleo.send(f"/start {token}")  # opened twice: two consent screens
    await cleo.send(f"/start {token}")
    await cleo.press("I agree")
    await roster.discharge(diary.database, code="P-0002", actor_id=None, now=diary.clock())
    ended = "Your diary check-ins have ended"
    reply = await cleo.send(f"/start {token}")
    assert reply is not None and (reply.text or "").startswith(ended), reply
    await cleo.press("I agree", message=screen)
    assert screen is not None
    shown = diary.standin.messages[cleo.chat_id][screen.message_id].text or ""
    assert shown.startswith(ended), shown


@SQLITE_ONLY
async def test_a_patient_who_unblocks_the_bot_gets_check_ins_again(diary: Diary) -> None:
    """Unblocking the bot from its profile sends no /start: Telegram tells the bot only that the patient
    is a member of the chat again. Their check-ins had stayed stopped, with nothing to say so to them."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    ben.block_bot()
    await diary.wait_until(lambda: any("blocked the diary bot" in (m.text or "") for m in staff_chat(diary)))
    before = await handled(diary)
    ben.unblock_bot()
    await diary.inbox_processed(at_least=before + 1)
    async with diary.database.session() as session:
        record = await patients.by_code(session=session, code="P-0001")
    assert record is not None and record.status == "active"
    assert (await diary.schedule("P-0001")).next_due_at is not None, "check-ins start again"


@SQLITE_ONLY
async def test_a_pause_outlives_blocking_and_unblocking_the_bot(diary: Diary) -> None:
    """Ben paused his check-ins for 3 days, blocked the bot and unblocked it: his schedule was started again
    as /resume starts it, which ended the pause, and his check-ins came at once. The pause is kept, and they
    start again when it ends."""
    ben = SimulatedUser(diary.standin, 601, "Ben")
    await diary.enrol(ben, "P-0601")
    await ben.send("/pause 3")
    before = (await diary.schedule("P-0601")).paused_until
    assert before is not None
    ben.block_bot()
    await diary.wait_until(lambda: any("blocked the diary bot" in (m.text or "") for m in staff_chat(diary)))
    ben.unblock_bot()
    await diary.wait_until(
        lambda: any("can be reached in the diary bot again" in (m.text or "") for m in staff_chat(diary))
    )
    schedule = await diary.schedule("P-0601")
    assert schedule.paused_until == before
    assert schedule.next_due_at is not None and schedule.next_due_at >= before, "from the end of the pause"


@SQLITE_ONLY
async def test_after_a_relink_the_old_accounts_presses_store_nothing_and_the_new_ones_checkin_is_answered(
    diary: Diary,
) -> None:
    """A re-link opened by someone else, or the patient's old phone still in a drawer: the check-in open
    there when the record moved keeps its buttons. Pressing them stores nothing in the record, which is
    now the other account's. The new account's /checkin had gone unanswered when Telegram gave it the
    number of the old account's /checkin that day (each chat numbers its own messages)."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    old_checkin = ben.last
    assert old_checkin.buttons, old_checkin
    diary.clock.advance(minutes=20)  # the afternoon of the same day: a new phone
    token = await diary.invite("P-0001", relink=True)
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    await new_phone.send(f"/start {token}")
    await new_phone.press("I agree")
    for label in ("7", "Skip ▶"):
        press = await ben.press(label, message=old_checkin)
        assert press.answer is not None and "7" not in press.answer, press.answer
    assert await diary.answers() == [], "nothing from the old account reaches the record"
    await new_phone.send("/checkin")
    await new_phone.press("3")
    assert [answer.value for answer in await diary.answers()] == ["3"]


@SQLITE_ONLY
async def test_a_staff_account_opening_a_relink_leaves_the_record_with_the_patient(diary: Diary) -> None:
    """A nurse asks for /relink P-0001, the link comes to her own chat with the bot, and she taps it to
    check it works, then agrees: the patient's record, history and erasure included, moved to her
    account, and the patient's phone was cut off. A re-link that would move a record from another
    account is refused to a staff account, and keeps working for the patient; staff may still try the
    diary on an invite of their own, whose re-link, opened on her account, is told it is there already."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0001")
    sam = await a_member(diary)
    token = await link_of(sam, "/relink P-0001")
    refused = "does not work for a staff account"
    screen = await sam.send(f"/start {token}")
    assert screen is not None and refused in (screen.text or ""), screen
    await sam.press(data=f"cs:y:{token}", message=screen)
    shown = diary.standin.messages[sam.chat_id][screen.message_id].text or ""
    assert refused in shown, shown
    async with diary.database.session() as session:
        record = await patients.by_code(session=session, code="P-0001")
        assert record is not None and record.telegram_user_id == 301, "the record stays with the patient"
        assert await patients.by_telegram_user(session=session, telegram_user_id=800) is None
        assert await wrong_tokens.count_since(session=session, telegram_user_id=800, since=START) == 0
    assert not [m for m in ben.messages if "another Telegram account" in (m.text or "")]

    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    await new_phone.send(f"/start {token}")
    await new_phone.press("I agree")
    assert await account_of(diary, "P-0001") == 311, "the link still works for the patient"

    await diary.enrol(sam, "P-0009")  # trying the diary on a code of her own
    token = await link_of(sam, "/relink P-0009")
    reply = await sam.send(f"/start {token}")
    assert reply is not None and "already on this Telegram account" in (reply.text or ""), reply
    assert await account_of(diary, "P-0009") == 800


@SQLITE_ONLY
async def test_a_staff_account_opening_an_invite_is_told_it_would_become_the_patient(diary: Diary) -> None:
    """A nurse taps the invite she was sent for a new patient, to check it works, and agrees on the
    consent screen as a patient would: her account became P-0042, the patient's own link then said it had
    been used, and whatever she tried went into their record when staff re-linked it to them. Staff see
    above the consent screen that agreeing makes their own account the patient's; their "No, thank you"
    leaves the link working for the patient; a code of their own for trying the diary still enrols them."""
    sam = await a_member(diary)
    note = "You are staff"
    token = await link_of(sam, "/invite P-0042")
    screen = await sam.send(f"/start {token}")
    assert screen is not None and (screen.text or "").startswith(note), screen.text
    assert "Do you agree to keep this diary?" in (screen.text or "")
    await sam.press("No, thank you", message=screen)
    assert "still works for the patient" in (sam.last.text or ""), sam.last.text
    ana = SimulatedUser(diary.standin, 330, "Ana")
    screen = await ana.send(f"/start {token}")
    assert screen is not None and (screen.text or "").startswith("Welcome"), screen.text
    await ana.press("I agree", message=screen)
    async with diary.database.session() as session:
        record = await patients.by_code(session=session, code="P-0042")
        assert record is not None and record.telegram_user_id == 330
        assert (await patients.overview(session=session))[0].declined is False

    token = await link_of(sam, "/invite P-0009")
    await sam.send(f"/start {token}")
    await sam.press("I agree")
    assert (sam.last.text or "").startswith("Thank you"), sam.last.text


@SQLITE_ONLY
async def test_what_was_owed_to_someone_as_staff_is_not_delivered_once_they_are_removed(diary: Diary) -> None:
    """A patient's crisis escalated to each admin; Telegram could not reach one admin's chat for a while,
    and meanwhile she left the clinic and was removed from staff. Once her chat worked again the queued
    escalation went out all the same: the patient's code and crisis words, with Reply and Acknowledge, in
    the chat of someone no longer staff. Whatever was owed to a person as staff is owed to staff only."""
    ben, ada = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 900, "Ada")
    kim = await a_member(diary, 901, "admin")
    await diary.enrol(ben)
    diary.standin.fail_chat(kim.id, 502, "Bad Gateway")
    await crisis(diary, ben, "i want to kill myself")
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock()) == 2
    await ada.wait_for(lambda: any("P-0001" in (m.text or "") for m in ada.messages))
    await diary.wait_until_async(lambda rows: any(r.chat_id == kim.id and r.attempts > 0 for r in rows))
    reply = await ada.send(f"/staff remove {kim.id}")
    assert reply is not None and "no longer staff" in (reply.text or ""), reply
    diary.standin.heal_chat(kim.id)
    await minutes_later(diary)
    await diary.wait_until_async(lambda rows: all(r.status != "pending" for r in rows if r.chat_id == kim.id))
    assert not [m for m in kim.messages if "P-0001" in (m.text or "") or "kill" in (m.text or "")], kim.messages
    # Someone who is staff still gets what is owed to them, in their own chat.
    await crisis(diary, ben, "i want to end my life")
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock()) == 2
    await ada.wait_for(lambda: sum("Not acknowledged" in (m.text or "") for m in ada.messages) == 3)
    assert not kim.messages, "both crises again to Ada alone"


async def removed_by_another_process(diary: Diary, command_line: Database, telegram_user_id: int) -> Removal:
    """`python -m bot staff remove` begun now, on a connection of its own, before this process's transaction
    has written: on SQLite, once it has committed; on PostgreSQL, once it has, or waits for a lock."""
    removal = asyncio.create_task(
        team.remove(command_line, telegram_user_id=telegram_user_id, actor_id=None, now=diary.clock())
    )
    if diary.database.is_sqlite:
        await removal
    else:
        await waiting_for_a_lock(diary.database, removal)
    return removal


async def owed_to(diary: Diary, chat_id: int) -> list[OutboxMessage]:
    async with diary.database.session() as session:
        return list((await session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id))).all())


async def test_an_escalation_due_as_an_admin_is_removed_on_the_command_line_does_not_reach_them(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m bot staff remove` (another process, a connection of its own) removed an admin just as an
    unacknowledged crisis escalated: after the escalation had read who the admins are, before it wrote
    anything. On SQLite, whose driver begins a transaction at its first write, that read held nothing: the
    removal committed, found nothing owed to her yet to skip, and her copy of the patient's code and
    crisis words was queued after it. The admins are read once the escalation holds the write lock (on
    PostgreSQL their rows are share-locked from the read): the removal is either seen or waited for."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    kim = await a_member(diary, 901, "admin")
    await diary.enrol(ben)
    await crisis(diary, ben, "i want to kill myself")
    diary.clock.advance(minutes=16)
    command_line = Database(diary.settings.database_url)
    removals: list[Removal] = []
    escalated = storage_alerts.escalated

    async def removed_meanwhile(**kwargs: Any) -> bool:
        if not removals:  # the escalation's first write
            removals.append(await removed_by_another_process(diary, command_line, kim.id))
        return await escalated(**kwargs)

    monkeypatch.setattr(storage_alerts, "escalated", removed_meanwhile)
    try:
        assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
        assert await removals[0] is not None
    finally:
        await command_line.dispose()
    assert all(row.status == OutboxStatus.SKIPPED for row in await owed_to(diary, kim.id))


async def test_an_erasure_in_crisis_as_an_admin_is_removed_on_the_command_line_does_not_name_the_patient_to_them(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for an escalation: a patient erased their diary with a crisis open that nobody had acknowledged,
    and each admin is told whom to reach; an admin removed on the command line after the erasure read who
    the admins are, before it wrote, was told the patient's code all the same (on SQLite)."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    kim = await a_member(diary, 901, "admin")
    await diary.enrol(ben)
    await crisis(diary, ben, "i want to kill myself")
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
    assert patient is not None and patient.id is not None
    command_line = Database(diary.settings.database_url)
    removals: list[Removal] = []
    enqueue = outbox.enqueue

    async def removed_meanwhile(**kwargs: Any) -> None:
        if not removals:  # the erasure's first write
            removals.append(await removed_by_another_process(diary, command_line, kim.id))
        await enqueue(**kwargs)

    monkeypatch.setattr(outbox, "enqueue", removed_meanwhile)
    try:
        assert await diary.erase(patient.id, ben.id)
        assert await removals[0] is not None
    finally:
        await command_line.dispose()
    assert [row.text for row in await owed_to(diary, 900)] == ["P-0001 erased"], "the admin still staff is told"
    assert all(row.status == OutboxStatus.SKIPPED for row in await owed_to(diary, kim.id))


async def test_a_link_asked_for_while_its_asker_is_removed_from_staff_is_not_made(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A nurse's /relink and the admin's /staff remove of her, handled at the same time (each chat's
    updates run on their own): the sender gate saw her as staff, the removal withdrew the links she had
    asked for (none yet), and then her link was made and sent to her. She held a working re-link of a
    patient's record after her removal. A link is made only for someone staff when it is made."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0002")
    sam = await a_member(diary)
    made = enrolment.create_invite

    async def removed_meanwhile(database: Database, **asked: Any) -> str:
        await team.remove(database, telegram_user_id=sam.id, actor_id=900, now=diary.clock())
        return await made(database, **asked)

    monkeypatch.setattr(enrolment, "create_invite", removed_meanwhile)
    for command in ("/relink P-0002", "/invite P-0003"):
        reply = await sam.send(command)
        assert reply is not None and "start=" not in (reply.text or ""), reply
    async with diary.database.session() as session:
        assert not await invites.open_invites(session=session, now=diary.clock())
        events = [e.action for e in await audit.since(session=session) if e.actor_id == sam.id]
    assert not {"invite", "relink_invite"} & set(events), events
    monkeypatch.setattr(enrolment, "create_invite", made)
    ada = SimulatedUser(diary.standin, 900, "Ada")
    reply = await ada.send("/relink P-0002")  # staff still get their links
    assert reply is not None and "start=" in (reply.text or ""), reply


@SQLITE_ONLY
async def test_an_erasure_confirmed_for_one_record_erases_no_later_one(diary: Diary) -> None:
    """/delete asks first, and its "Yes" carried nothing but yes: a patient who asked twice and erased with
    one, then came back to the diary (invited again), erased their new record months later with the other
    old "Yes", never asked about it. An erasure confirmed acts only on the record it was asked for; an old
    confirmation says to ask again, and /delete still erases when confirmed."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    first = await ben.send("/delete")
    second = await ben.send("/delete")
    assert first is not None and second is not None
    await ben.press("Yes, erase everything", message=second)
    assert await account_of(diary, "P-0001") is None
    await diary.enrol(ben)  # back to the diary, with a new record
    await ben.send("/checkin")
    await ben.press("3")
    await ben.press("Yes, erase everything", message=first)
    assert await account_of(diary, "P-0001") == ben.id, "the new record stays"
    assert [answer.value for answer in await diary.answers()] == ["3"]
    shown = diary.standin.messages[ben.chat_id][first.message_id]
    assert "/delete" in (shown.text or "") and not shown.buttons, shown
    await ben.send("/delete")
    await ben.press("Yes, erase everything")
    assert await account_of(diary, "P-0001") is None


@SQLITE_ONLY
async def test_an_admin_removing_someone_still_in_the_staff_group_is_told_to_remove_them_there(diary: Diary) -> None:
    """/staff remove ended someone's rights in the bot, and said nothing of the staff group, where every
    patient's messages and urgent cards are posted: still a member there, the person removed went on
    reading them all. The admin is told to remove them from the group too; not when they are not in it."""
    ada, sam, cleo = SimulatedUser(diary.standin, 900, "Ada"), await a_member(diary), await a_member(diary, 801)
    diary.standin.add_group(STAFF_CHAT, "Clinic staff", [ada.id, sam.id])
    said = "still in the staff group"
    reply = await ada.send(f"/staff remove {sam.id}")
    assert reply is not None and "no longer staff" in (reply.text or "") and said in (reply.text or ""), reply
    reply = await ada.send(f"/staff remove {cleo.id}")
    assert reply is not None and "no longer staff" in (reply.text or "") and said not in (reply.text or ""), reply


@SQLITE_ONLY  # the move's statements run on PostgreSQL in tests/test_patient_schedule.py
async def test_a_checkin_begun_before_a_relink_shows_nothing_of_its_answers_on_the_new_account(diary: Diary) -> None:
    """While a re-link's hold lasts, the account a record moved to sees nothing answered before the move (its
    /history starts at the move): the link may have reached the wrong hands. But a check-in the patient had begun
    came anew to that account, and Back, or Skip to its summary, showed her answers and her note; a check-in she
    had finished, still open for edits, showed them too after an Edit pressed with its number (callback data is
    the client's to make up). A check-in begun or answered on the account the record leaves ends there, its answers
    kept; one not begun still comes anew to the new account (tests/test_patient_schedule.py)."""
    ana, ben = SimulatedUser(diary.standin, 301, "Ana"), SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ana, "P-0001")
    await diary.enrol(ben, "P-0002")
    await up_to_the_note(ana, "6")
    await ana.send("Private words from before the move")
    await ben.send("/checkin")
    await ben.press("7")
    checkins = {c.patient_id: c.id for c in await diary.checkins()}
    answered = len(await diary.answers())
    for user, code in ((ana, "P-0001"), (ben, "P-0002")):
        token = await diary.invite(code, relink=True)
        someone = SimulatedUser(diary.standin, user.id + 100, "Someone")
        await someone.press(data=f"cs:y:{token}", message=await someone.send(f"/start {token}"))
        assert await account_of(diary, code) == someone.id
        reply = await someone.send("/help")  # after the check-in the move may send
        assert reply is not None
        for checkin_id in checkins.values():
            for action in ("e", "b:pain", "s:pain"):
                kind, _, item = action.partition(":")
                press = await someone.press(data=f"ck:{kind}:{checkin_id}:{item}:", message=reply)
                assert press.answer is not None and "closed" in press.answer, (code, action, press.answer)
        shown = [m.text or "" for m in someone.messages]
        assert not [t for t in shown if "Private words" in t or "✓" in t or "Question 2" in t], shown
    assert len(await diary.answers()) == answered, "what was answered is kept"


@SQLITE_ONLY
async def test_a_patient_taking_back_a_record_paused_while_someone_else_held_it_is_told_it_is_paused(
    diary: Diary,
) -> None:
    """Whoever opened Ana's re-link held her record until staff made her a link to take it back, and sent /pause
    (until /resume) meanwhile. Her "I agree" on the link said "Check-ins will arrive here at your scheduled times",
    and none came, for good: a pause outlives a move (a patient on holiday keeps it on a new phone). She is told
    that her check-ins are paused and how to start them again, as /pause itself says; the same for a pause with
    an end."""
    ana = SimulatedUser(diary.standin, 301, "Ana")
    await diary.enrol(ana, "P-0001")
    for pause, said in (("/pause", "Check-ins are paused. Send /resume"), ("/pause 3", "paused until 2026-11-")):
        token = await diary.invite("P-0001", relink=True)
        someone = SimulatedUser(diary.standin, 311, "Someone")
        await someone.press(data=f"cs:y:{token}", message=await someone.send(f"/start {token}"))
        reply = await someone.send(pause)
        assert reply is not None and "paused" in (reply.text or ""), reply
        token = await diary.invite("P-0001", relink=True)
        screen = await ana.send(f"/start {token}")
        assert screen is not None
        await ana.press(data=f"cs:y:{token}", message=screen)
        assert await account_of(diary, "P-0001") == ana.id
        shown = diary.standin.messages[ana.chat_id][screen.message_id].text or ""  # edited into the answer
        assert shown.startswith("Thank you, you are enrolled") and said in shown, shown
        assert "will arrive here at your scheduled times" not in shown, shown


@SQLITE_ONLY
async def test_a_diary_imported_before_its_patient_enrolled_is_held_from_the_account_that_opens_the_link(
    diary: Diary,
) -> None:
    """The clinic imported Eva's earlier diary (`import`: her code made with no account), then made her an invite.
    Whoever opened the link first (forwarded, a mistyped number) had her whole diary at once: /export sent it,
    /history drew it, /delete erased it for good, before Eva, finding her link used, could ask for one that gives
    it back. A re-link that moves a record holds these for RELINK_HOLD_HOURS; a link that brings a diary kept
    before to its first account holds them the same way. A record with nothing in it yet is not held."""
    await diary.invite("P-0015")  # the code is in the diary, with no account
    await with_history(diary, "P-0015", [7, 7, 6, 7, 7])
    token = await diary.invite("P-0015")
    someone = SimulatedUser(diary.standin, 311, "Someone")
    await someone.press(data=f"cs:y:{token}", message=await someone.send(f"/start {token}"))
    assert await account_of(diary, "P-0015") == someone.id
    until = "2026-11-24 09:00"  # 72 hours on, in the patient's zone (Europe/Berlin)
    for command in ("/export", "/delete", "/history"):
        reply = await someone.send(command)
        assert reply is not None and reply.document is None and reply.photo is None, (command, reply)
        assert reply.reply_markup is None and until in (reply.text or ""), (command, reply)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0001")
    await complete_checkin(ben, "5")
    reply = await ben.send("/export")
    assert reply is not None and reply.document_name == "diary.csv", "a new record is not held"


@SQLITE_ONLY
async def test_infusions_the_clinic_recorded_before_its_patient_enrolled_are_held_from_the_account_that_opens_the_link(
    diary: Diary,
) -> None:
    """The clinic recorded Eva's infusions (`/infusion`, or `import --infusions`) before she opened her link: its own
    records, as an imported diary is. Whoever opened the link first could /delete them for good at once, and /history
    drew her infusion days: held for RELINK_HOLD_HOURS, as an imported diary's check-ins are."""
    sam = await a_member(diary)
    token = await diary.invite("P-0021")
    reply = await sam.send("/infusion P-0021 2026-11-10")
    assert reply is not None and "P-0021" in (reply.text or ""), reply
    someone = SimulatedUser(diary.standin, 312, "Someone")
    await someone.press(data=f"cs:y:{token}", message=await someone.send(f"/start {token}"))
    assert await account_of(diary, "P-0021") == someone.id
    for command in ("/delete", "/history"):
        reply = await someone.send(command)
        assert reply is not None and reply.reply_markup is None and reply.photo is None, (command, reply)
        assert "2026-11-24 09:00" in (reply.text or ""), (command, reply)


async def test_a_new_patient_whose_check_ins_came_before_they_enrolled_is_not_held(diary: Diary) -> None:
    """Staff may set an invited patient's schedule before they open their link; the check-ins due meanwhile are
    missed (there is no chat to ask in). Nothing was kept for them, so nothing is held: Eva can /export and
    /delete from her first day, as any new patient can."""
    admin = SimulatedUser(diary.standin, 900, "Admin")
    token = await diary.invite("P-0020")
    reply = await admin.send("/schedule P-0020 09:00,20:00 mon-sun Europe/Berlin")
    assert reply is not None and "P-0020" in (reply.text or ""), reply
    diary.clock.advance(days=1)
    await diary.dispatch()
    assert await diary.checkins(), "check-ins came, and were missed, before she enrolled"
    eva = SimulatedUser(diary.standin, 320, "Eva")
    await eva.press(data=f"cs:y:{token}", message=await eva.send(f"/start {token}"))
    reply = await eva.send("/delete")
    assert reply is not None and reply.reply_markup is not None, reply


@SQLITE_ONLY
async def test_a_first_answer_pressed_on_the_old_account_as_a_relink_commits_is_not_shown_on_the_new_one(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben's press is let through by the gate (his record, his account), and the re-link moves his open check-in to
    the new account's chat before the press is applied: the press is refused, or the new account would be asked
    question 2 with Ben's answer behind its Back button."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    someone = SimulatedUser(diary.standin, 411, "Someone")
    await diary.enrol(ben, "P-0001")
    await ben.send("/checkin")
    question = ben.last_with_buttons()
    act, gated, relinked = CheckIns.act, asyncio.Event(), asyncio.Event()

    async def act_after_the_relink(self: CheckIns, **press: Any) -> Any:
        gated.set()
        await relinked.wait()
        return await act(self, **press)

    monkeypatch.setattr(CheckIns, "act", act_after_the_relink)
    press = asyncio.create_task(ben.press("7", message=question))
    await gated.wait()
    token = await diary.invite("P-0001", relink=True)
    await someone.press(data=f"cs:y:{token}", message=await someone.send(f"/start {token}"))
    relinked.set()
    await press
    await someone.wait_for(lambda: any("Question" in (m.text or "") for m in someone.messages))
    assert not await diary.answers(), "nothing was answered"
    asked = [m.text or "" for m in someone.messages if "Question" in (m.text or "")]
    assert all("Question 1" in text for text in asked), asked


@SQLITE_ONLY
async def test_words_typed_on_the_old_account_as_a_relink_commits_reach_no_check_in_of_the_new_one(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a press is (the test above), so is a typed answer or note: Ben's "7", or his words at the check-in he asked
    for, let through by the gate (his record, his account), were stored in the check-in the re-link had just moved to
    the new account's chat, which was then asked question 2 there, with Ben's pain behind its Back button and his
    words in its note. They reach the care team as his message instead, and nothing is answered."""
    text, gated, relinked = Intake.text, asyncio.Event(), asyncio.Event()

    async def text_after_the_relink(self: Intake, **typed: Any) -> Any:
        gated.set()
        await relinked.wait()
        return await text(self, **typed)

    monkeypatch.setattr(Intake, "text", text_after_the_relink)

    async def typed_as_the_relink_commits(n: int, typed: str) -> None:
        gated.clear()
        relinked.clear()
        ben = SimulatedUser(diary.standin, 301 + n, "Ben")
        someone = SimulatedUser(diary.standin, 411 + n, "Someone")
        code = f"P-000{n + 1}"
        await diary.enrol(ben, code)
        await ben.send("/checkin")
        before = await handled(diary)
        ben.say(typed)
        await gated.wait()
        token = await diary.invite(code, relink=True)
        await someone.press(data=f"cs:y:{token}", message=await someone.send(f"/start {token}"))
        relinked.set()
        await diary.inbox_processed(at_least=before + 3)
        await someone.wait_for(lambda: any("Question" in (m.text or "") for m in someone.messages))
        assert not await diary.answers(), "nothing was answered"
        shown = [m.text or "" for m in someone.messages]
        assert not [t for t in shown if "Question 2" in t or "Private words" in t], shown
        await diary.wait_until(lambda: any(typed in (m.text or "") for m in staff_chat(diary)))

    for n, typed in enumerate(("7", "Private words from before the move")):
        await typed_as_the_relink_commits(n, typed)


@POSTGRESQL_ONLY
async def test_a_relink_waits_for_a_typed_answer_being_filed_on_the_old_account(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the two run side by side: Ben's "7" found his check-in asking in his chat, the re-link then moved
    it to the new account's chat and committed, and the "7" was stored in it, asked there with his pain behind its
    Back button. The message keeps his record first, as the move takes it: the move waits until the answer is filed,
    then ends the check-in begun on his account."""
    ben, someone = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 411, "Someone")
    await diary.enrol(ben, "P-0001")
    await ben.send("/checkin")
    real, found, release = storage_checkins.waiting_for_answer, asyncio.Event(), asyncio.Event()

    async def found_then_held(**lookup: Any) -> Any:
        waiting = await real(**lookup)
        found.set()
        await release.wait()
        return waiting

    token = await diary.invite("P-0001", relink=True)
    screen = await someone.send(f"/start {token}")
    monkeypatch.setattr(storage_checkins, "waiting_for_answer", found_then_held)
    ben.say("7")
    await found.wait()
    accepted = asyncio.create_task(someone.press(data=f"cs:y:{token}", message=screen))
    try:
        assert await waiting_for_a_lock(diary.database, accepted), "the move waits for the answer being filed"
    finally:
        release.set()
        await accepted
    assert await account_of(diary, "P-0001") == someone.id
    (checkin,) = await diary.checkins()
    assert checkin.chat_id == ben.chat_id and [a.value for a in await diary.answers()] == ["7"]
    await ben.wait_for(lambda: any("Saved" in (m.text or "") for m in ben.messages))
    assert not [m.text for m in someone.messages if "Question" in (m.text or "")], someone.messages


@POSTGRESQL_ONLY
@pytest.mark.parametrize("button", ["Skip today", "Snooze 1 h"])
async def test_skip_or_snooze_pressed_on_the_old_account_as_a_relink_commits_sets_nothing_aside_on_the_new_one(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, button: str
) -> None:
    """On PostgreSQL the two run side by side: Ben's Skip today (or Snooze) found his unbegun check-in asked in his
    chat, the re-link then moved it to the new account's chat (asked there anew) and committed, and the press skipped
    (or snoozed) it there. The chat is checked again in the change itself: the old account's press sets nothing
    aside of the new one's."""
    ben, someone = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 411, "Someone")
    await diary.enrol(ben, "P-0001")
    diary.clock.advance(hours=18)  # the next 03:00 in Berlin: a scheduled check-in, with Skip today and Snooze
    await diary.dispatch()
    await ben.wait_for(lambda: any("Question 1" in (m.text or "") for m in ben.messages))
    asked = next(m for m in ben.messages if "Question 1" in (m.text or ""))
    token = await diary.invite("P-0001", relink=True)
    screen = await someone.send(f"/start {token}")
    real, found, release = storage_checkins.questionnaire_of, asyncio.Event(), asyncio.Event()

    async def found_then_held(**lookup: Any) -> Any:
        name = await real(**lookup)
        if lookup.get("chat_id") is not None:  # set_aside's look, not the re-link's
            found.set()
            await release.wait()
        return name

    monkeypatch.setattr(storage_checkins, "questionnaire_of", found_then_held)
    pressed = asyncio.create_task(ben.press(button, message=asked))
    await found.wait()
    await someone.press(data=f"cs:y:{token}", message=screen)
    release.set()
    answered = await pressed
    assert answered.answer == "This check-in is closed.", answered
    (checkin,) = await diary.checkins()
    assert checkin.chat_id == someone.chat_id
    assert checkin.status == CheckInStatus.OPEN and checkin.snoozed_at is None, checkin


@SQLITE_ONLY
async def test_skip_and_snooze_pressed_by_hand_on_the_new_account_tell_nothing_of_the_old_ones_check_ins(
    diary: Diary,
) -> None:
    """Whoever opened Ben's re-link could put the number of any of his earlier check-ins in a Skip today or Snooze
    press (callback data is the client's to make up): "Skipped. The next check-in comes at its usual time." said
    which of them Ben had skipped (and "I will ask again in a few weeks", which questionnaires he had declined). A
    check-in asked on another account is closed to this one, as its answers are."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0001")
    diary.clock.advance(hours=18)  # the next 03:00 in Berlin: a scheduled check-in, with Skip today
    await diary.dispatch()
    await ben.wait_for(lambda: any("Question 1" in (m.text or "") for m in ben.messages))
    await ben.press("Skip today")
    (skipped,) = await diary.checkins()
    again = await ben.press(data=f"ck:t:{skipped.id}::", message=ben.last)  # a double tap: said again
    assert again.answer is None and (ben.last.text or "").startswith("Skipped"), (again, ben.last)
    token = await diary.invite("P-0001", relink=True)
    someone = SimulatedUser(diary.standin, 411, "Someone")
    await someone.press(data=f"cs:y:{token}", message=await someone.send(f"/start {token}"))
    reply = await someone.send("/help")
    assert reply is not None
    for action in ("t", "z"):
        press = await someone.press(data=f"ck:{action}:{skipped.id}::", message=reply)
        assert press.answer is not None and "closed" in press.answer, (action, press.answer)
        shown = diary.standin.messages[someone.chat_id][reply.message_id].text or ""
        assert "Skipped" not in shown, shown
