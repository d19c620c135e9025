"""Holes an attacker, a crash or a typo found, each closed and kept closed: the real bot over HTTP
against the stand-in, on SQLite and PostgreSQL. Each test is named after the finding it guards."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from asyncio.subprocess import PIPE
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select

from bot.config import load_settings
from bot.diary import enrolment
from bot.logs import quiet_library_loggers
from bot.sandbox import BotApiStandIn, SimulatedUser
from bot.sandbox.server import free_port
from storage import audit, inbox, outbox, patients, wrong_tokens
from storage.models import InboxUpdate, Invite, OutboxMessage, Patient, PatientMessage
from tests.bot_process import ROOT, bot_env
from tests.cli import run_cli
from tests.harness import SQLITE_ONLY, START, Clock, Diary, running_diary
from tests.test_alerts import STAFF_CHAT, staff_chat, up_to_the_note, with_history
from tests.test_delivery_faults import dies_at
from tests.test_staff_commands import a_member

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


async def linked_to(diary: Diary, code: str) -> int | None:
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code=code)
    assert patient is not None
    return patient.telegram_user_id


def token_of(reply_text: str | None) -> str:
    assert reply_text is not None and "start=" in reply_text, reply_text
    return reply_text.split("start=")[1].split()[0]


async def test_takeover_through_a_second_open_invite_is_refused(diary: Diary) -> None:
    sam = await a_member(diary)
    first = token_of((await sam.send("/invite P-0001") or ben_none()).text)
    second = token_of((await sam.send("/invite P-0001") or ben_none()).text)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await ben.send(f"/start {second}")
    await ben.press("I agree")
    assert await linked_to(diary, "P-0001") == 301
    reply = await sam.send("/invites")
    assert reply is not None and "P-0001" not in (reply.text or ""), "enrolling withdrew the other link"

    mallory = SimulatedUser(diary.standin, 666, "Mallory")
    reply = await mallory.send(f"/start {first}")
    assert reply is not None and "expired or has already been used" in (reply.text or "")
    press = await mallory.press(data=f"cs:y:{first}", message=reply)
    assert press.answer is None and "expired or has already been used" in (mallory.last.text or "")
    reply = await mallory.send("/export")
    assert reply is not None and reply.document is None and "invite" in (reply.text or "")
    assert await linked_to(diary, "P-0001") == 301, "the record stays with the patient"

    reply = await sam.send("/invite P-0001")
    assert reply is not None and "already enrolled" in (reply.text or "") and "/relink P-0001" in (reply.text or "")
    with pytest.raises(enrolment.AlreadyEnrolled):
        await diary.invite("P-0001")


async def test_a_relink_moves_the_record_on_purpose_and_readmits_a_discharged_patient(diary: Diary) -> None:
    sam = await a_member(diary)
    ben, cleo = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 302, "Cleo")
    await diary.enrol(ben, "P-0001")
    await diary.enrol(cleo, "P-0002")

    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    token = token_of((await sam.send("/relink P-0001") or ben_none()).text)
    await new_phone.send(f"/start {token}")
    await new_phone.press("I agree")
    assert await linked_to(diary, "P-0001") == 311
    await ben.wait_for(lambda: "another Telegram account" in (ben.last.text or ""))  # told once, first
    reply = await ben.send("/history")
    assert reply is not None and "invite" in (reply.text or ""), "the old account has no access any more"

    await sam.send("/discharge P-0002")
    reply = await cleo.send("/checkin")
    assert reply is not None and "ended" in (reply.text or "")
    token = token_of((await sam.send("/relink P-0002") or ben_none()).text)
    await cleo.send(f"/start {token}")
    await cleo.press("I agree")
    async with diary.database.session() as session:
        readmitted = await patients.by_code(session=session, code="P-0002")
        events = [(e.action, e.patient_code, e.detail) for e in await audit.since(session=session)]
    assert readmitted is not None and readmitted.status == "active" and readmitted.telegram_user_id == 302
    reply = await cleo.send("/checkin")
    assert reply is not None and "Question 1 of 6" in (reply.text or "")
    assert ("relink_invite", "P-0001", "") in events and ("relink", "P-0001", "to another Telegram account") in events
    assert ("relink", "P-0002", "readmitted") in events


async def test_what_was_owed_to_a_relinked_patient_goes_to_their_new_account(diary: Diary) -> None:
    """A reply queued for the patient (held back by an outage, say) when staff re-link them to a new phone
    goes to the new account, not to the one they left, and to its main view (the topic they wrote in is of the chat
    left); an admin's own messages in that chat stay."""
    sam = await a_member(diary)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0001")
    later = diary.clock() + timedelta(hours=1)
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
        assert patient is not None
        for kind in ("patient", "escalation"):
            await outbox.enqueue(
                session=session,
                kind=kind,
                chat_id=301,
                text="held",
                patient_id=patient.id,
                now=later,
                not_before=later,
                thread_id=7,
            )
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    token = token_of((await sam.send("/relink P-0001") or ben_none()).text)
    await new_phone.send(f"/start {token}")
    await new_phone.press("I agree")
    async with diary.database.session() as session:
        held = (await session.exec(select(OutboxMessage).where(OutboxMessage.text == "held"))).all()
    assert sorted((row.kind, row.chat_id, row.thread_id) for row in held) == [
        ("escalation", 301, 7),
        ("patient", 311, None),
    ]


async def test_a_relink_opened_by_another_patients_account_moves_nothing_and_says_so(diary: Diary) -> None:
    """A re-link for P-0001 opened in the Telegram account of P-0002 (a shared phone): that account
    stays P-0002's, is told it is enrolled already, not "Thank you, you are enrolled", and the link
    still works for the phone it was meant for."""
    sam = await a_member(diary)
    ben, cleo = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 302, "Cleo")
    await diary.enrol(ben, "P-0001")
    await diary.enrol(cleo, "P-0002")
    token = token_of((await sam.send("/relink P-0001") or ben_none()).text)
    reply = await cleo.send(f"/start {token}")
    assert reply is not None and reply.text == "You are already enrolled. /help lists what you can do."
    await cleo.press(data=f"cs:y:{token}", message=reply)
    assert cleo.last.text == "You are already enrolled. /help lists what you can do."
    assert (await linked_to(diary, "P-0001"), await linked_to(diary, "P-0002")) == (301, 302)
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    await new_phone.send(f"/start {token}")
    await new_phone.press("I agree")
    assert await linked_to(diary, "P-0001") == 311


def ben_none() -> object:
    raise AssertionError("the bot did not answer")


async def test_answers_given_while_a_checkin_was_open_count_after_a_restart(tmp_path: Path, database_url: str) -> None:
    """What Telegram kept while the bot was down is handled before the scheduler's first tick: the tick
    would open the next check-in and close the one those answers belong to."""
    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    slot = {"default_checkin_times": "11:00"}  # Berlin; the test clock starts at 09:00 there
    try:
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin, **slot) as diary:
            ben = SimulatedUser(standin, 301, "Ben")
            await diary.enrol(ben)
            await ben.send("/checkin")  # open for twelve hours
            (checkin,) = await diary.checkins()
            for label in ["6", "The same", "The same", "Not swollen"]:
                await ben.press(label)
            message = ben.last_with_buttons()
        # The bot is down. Ben answers the mood question and types a note: Telegram keeps both.
        standin.callback_query(ben.json, message, f"ck:a:{checkin.id}:mood:3", "3 Okay")
        ben.say("slept badly, hand burning")
        clock.advance(hours=2)  # back after the 11:00 slot came due
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin, **slot) as diary:
            await ben.wait_for(lambda: any("Question 1 of 6" in (m.text or "") for m in ben.messages[-3:]))
            answers = {(a.checkin_id, a.item): a.value for a in await diary.answers()}
            assert answers[(checkin.id, "mood")] == "3"
            assert answers[(checkin.id, "note")] == "slept badly, hand burning"
            assert len(await diary.checkins()) == 2, "and then the scheduled check-in came"
    finally:
        await standin.stop()


async def test_an_update_stored_before_close_and_replayed_after_counts_at_its_own_time(
    tmp_path: Path, database_url: str
) -> None:
    """An answer and a note stored in the inbox before the check-in closed, handled by a restart after it
    closed: each counts at its own time (the note's date; the press's storing), not the restart's."""
    clock = Clock()
    async with running_diary(database_url, tmp_path / "files", clock=clock) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        await ben.send("/checkin")
        (checkin,) = await diary.checkins()
        for label in ["6", "The same", "The same", "Not swollen"]:
            await ben.press(label)
        message = ben.last_with_buttons()
    stored_at = clock()
    date = int(stored_at.timestamp())
    press = {
        "update_id": 900,
        "callback_query": {
            "id": "q900",
            "from": ben.json,
            "chat_instance": "1",
            "data": f"ck:a:{checkin.id}:mood:3",
            "message": {"message_id": message.message_id, "date": date, "chat": {"id": 301, "type": "private"}},
        },
    }
    note = {
        "update_id": 901,
        "message": {
            "message_id": 77,
            "date": date,
            "chat": {"id": 301, "type": "private"},
            "from": ben.json,
            "text": "fingers stiff",
        },
    }
    async with diary.database.session() as session:
        await inbox.store_new(
            session=session, updates=[(900, json.dumps(press)), (901, json.dumps(note))], now=stored_at
        )
    clock.advance(hours=13)  # the process that stored them died; the next starts after the close
    async with running_diary(database_url, tmp_path / "files2", clock=clock) as diary:
        answers = {a.item: a.value for a in await diary.answers()}
        assert answers["mood"] == "3" and answers["note"] == "fingers stiff"
        async with diary.database.session() as session:
            filed = [(m.filed_as, m.text) for m in (await session.exec(select(PatientMessage))).all()]
        assert filed == [("note", "fingers stiff")], "a note, not a message for staff"


async def test_a_note_typed_before_the_next_checkin_opened_goes_to_the_one_open_then(
    tmp_path: Path, database_url: str
) -> None:
    """A note Telegram hands over only after the next check-in was opened (a webhook's backlog, a slow
    network): at its own time that check-in did not exist yet, so the note is the earlier one's."""
    clock = Clock()
    async with running_diary(database_url, tmp_path / "files", clock=clock, default_checkin_times="11:00") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        await ben.send("/checkin")
        (first,) = await diary.checkins()
        for label in ["6", "The same", "The same", "Not swollen"]:
            await ben.press(label)
        typed_at = clock() + timedelta(minutes=90)
        clock.advance(hours=2)  # 11:00 in Berlin: the scheduled check-in opens and closes the extra one
        await diary.dispatch()
        await ben.wait_for(lambda: "Question 1 of 6" in (ben.last.text or ""))
        await ben.send("fingers stiff", date=typed_at)
        answers = {(a.checkin_id, a.item): a.value for a in await diary.answers()}
        assert answers.get((first.id, "note")) == "fingers stiff", answers
        assert [item for (checkin_id, item) in answers if checkin_id != first.id] == []


async def test_a_checkin_completed_by_a_late_press_is_evaluated(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
    await up_to_the_note(ben, "9")
    diary.standin.fail_next("answerCallbackQuery", 400, TOO_OLD)
    await ben.press("Skip ▶", wait=False)
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    await asyncio.sleep(0.3)
    assert not [m for m in ben.messages if "went wrong" in (m.text or "")], "a late answer is not an error"


async def test_staff_commands_in_another_group_get_nothing_and_the_bot_leaves(diary: Diary) -> None:
    sam = await a_member(diary)
    await sam.send("/patients", chat_id=-200, wait=False)
    await sam.send("/invite P-0042", chat_id=-200, wait=False)
    await diary.wait_until(lambda: -200 in diary.standin.left_chats)
    assert not [m for m in diary.standin.chat(-200) if m.from_bot], "nothing posted in a foreign group"
    diary.standin.add_bot_to_group(-300, "Family", by=sam)
    await diary.wait_until(lambda: -300 in diary.standin.left_chats)
    reply = await sam.send("/patients", chat_id=STAFF_CHAT)
    assert (reply is not None and (reply.text or "").startswith("There are no patients")) or "Patients" in (
        reply.text or ""
    )


@SQLITE_ONLY
async def test_the_bot_leaves_a_foreign_group_also_when_telegram_fails_at_first(diary: Diary) -> None:
    """Sam, staff but no admin, adds the bot to his family's group, and Telegram answers 502 to its leaving: the
    failure was taken for "gone already" and the bot stayed in a group no admin chose. It leaves at the next try."""
    sam = await a_member(diary)
    diary.standin.fail_next("leaveChat", 502, "Bad Gateway")
    diary.standin.add_bot_to_group(-300, "Family", by=sam)
    await diary.wait_until(lambda: -300 in diary.standin.left_chats)


async def test_replayed_updates_take_effect_once_and_a_checkin_is_snoozed_once(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
    assert patient is not None
    diary.clock.now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # the next check-in, 03:00 in Berlin
    await diary.dispatch()
    await ben.wait_for(lambda: "Question 1 of 6" in (ben.last.text or ""))
    checkin_message = ben.last
    (snooze,) = [data for label, data in checkin_message.buttons if label == "Snooze 1 h"]
    for _ in range(10):  # a client that shows the old buttons, or presses replayed after a crash
        await ben.press(data=snooze, message=checkin_message)
    async with diary.database.session() as session:
        sends = (await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "checkin"))).all()
    assert len(sends) == 2, "sent once, and once more an hour later; not ten times"


async def test_replayed_updates_take_effect_once_also_for_invites_and_relinks(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after an /invite was stored but before its update was marked handled: the restart handles
    it again, and must not make a second working link for the patient."""
    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    try:
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ben = SimulatedUser(standin, 301, "Ben")
            await diary.enrol(ben, "P-0001")
            sam = await a_member(diary)

            async def crashes_first(**_: object) -> None:  # the process dies before marking them
                return None

            monkeypatch.setattr("bot.delivery.inbox.inbox.mark_processed", crashes_first)
            await sam.send("/invite P-0002")
            await sam.send("/relink P-0001")
        monkeypatch.undo()
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.inbox_processed()
            async with diary.database.session() as session:
                made = [
                    (i.patient_id, i.relink) for i in (await session.exec(select(Invite))).all() if i.used_at is None
                ]
                events = [e.action for e in await audit.since(session=session)]
            assert sorted(made) == [(1, True), (2, False)], "one link each, not two"
            assert (events.count("invite"), events.count("relink_invite")) == (2, 1), "P-0001's own, then P-0002's"
    finally:
        await standin.stop()


@SQLITE_ONLY
async def test_an_invite_whose_link_a_crash_kept_from_staff_says_so_after_the_restart(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sam asks for P-0002's link; the invite is stored, and the process dies before the link is sent (its
    token is kept only as a hash: no one can send it later). The restart handled /invite again, made no
    second link, and said nothing: Sam waited for a link that never came. He is told to ask again (a new
    link replaces the one no one has)."""
    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    try:
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            sam = await a_member(diary)
            died = dies_at(monkeypatch, "telegram.ext.ExtBot.send_message")  # the link, the next message sent
            sam.say("/invite P-0002")
            await asyncio.wait_for(died.wait(), 10)
        monkeypatch.undo()
        assert not sam.messages
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.inbox_processed()
            assert [m.text for m in sam.messages] == [
                "The diary restarted while it made the link for P-0002. If the link did not reach you, send "
                "/invite P-0002 again: the new link replaces it."
            ]
            reply = await sam.send("/invite P-0002")
            assert reply is not None and "t.me/" in (reply.text or "")
    finally:
        await standin.stop()


async def test_wrong_tokens_count_on_the_consent_button_and_survive_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    try:
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            eve = SimulatedUser(standin, 666, "Eve")
            anchor = await eve.send("/start")
            assert anchor is not None
            for n in range(5):
                await eve.press(data=f"cs:y:{'G' * 20}{n:04d}", message=anchor)
            good = await diary.invite("P-0009")
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin):
            reply = await eve.send(f"/start {good}")
            assert reply is not None and "Too many links" in (reply.text or ""), "the limit outlives a restart"
            clock.advance(minutes=16)
            reply = await eve.send(f"/start {good}")
            assert reply is not None and "Do you agree" in (reply.text or "")
    finally:
        await standin.stop()


@SQLITE_ONLY
async def test_a_mistyped_link_tried_again_while_telegram_fails_counts_once(diary: Diary) -> None:
    """Dee mistypes her link, and Telegram answers 502 to telling her so, four times: the update is tried again each
    time (Telegram out of reach), and each try counted another wrong token. At the fifth she was taken for someone
    guessing, and her right link was refused for a quarter of an hour. A try of one update counts once."""
    dee = SimulatedUser(diary.standin, 305, "Dee")
    good = await diary.invite("P-0009")
    diary.standin.fail_next("sendMessage", 502, "Bad Gateway", times=4, chat_id=dee.id)
    mistyped = good[:-1] + ("y" if good.endswith("x") else "x")  # a token ends in "x" once in 64
    reply = await dee.send(f"/start {mistyped}", timeout=60)
    assert reply is not None and "has expired or has already been used" in (reply.text or ""), reply.text
    reply = await dee.send(f"/start {good}")
    assert reply is not None and "Do you agree" in (reply.text or ""), reply.text


async def test_wrong_tokens_count_on_the_decline_button_too(diary: Diary) -> None:
    """ "No, thank you" carries the token as well: a wrong one counts, and a blocked user's is not looked up
    (it would withdraw someone's invite)."""
    eve = SimulatedUser(diary.standin, 666, "Eve")
    anchor = await eve.send("/start")
    assert anchor is not None
    for n in range(5):
        await eve.press(data=f"cs:n:{'G' * 20}{n:04d}", message=anchor)
    good = await diary.invite("P-0009")
    reply = await eve.send(f"/start {good}")
    assert reply is not None and "Too many links" in (reply.text or "")
    await eve.press(data=f"cs:n:{good}", message=anchor)
    async with diary.database.session() as session:
        (invite,) = (await session.exec(select(Invite))).all()
    assert invite.declined_at is None and invite.expires_at > diary.clock(), "the invite still works"
    dee = SimulatedUser(diary.standin, 305, "Dee")
    await dee.send(f"/start {good}")
    await dee.press("I agree")
    assert await linked_to(diary, "P-0009") == 305


@SQLITE_ONLY
async def test_no_thank_you_with_a_link_used_or_expired_counts_as_a_wrong_token(diary: Diary) -> None:
    """A token pressed with "No, thank you" was counted when no invite had it, and not when one had, used or
    expired: whoever held an old link, or a word that might be one, could tell which (after five that counted, a
    sixth is not looked up), and learn that the link was real once. A link that opens nothing counts, whatever it
    once was, and an expired one is not marked declined (the patient it was for is shown as invited still)."""
    ben, eve = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 666, "Eve")
    used = await diary.invite("P-0001")
    await ben.press(data=f"cs:y:{used}", message=await ben.send(f"/start {used}"))
    expired = await diary.invite("P-0002")
    diary.clock.advance(days=8)
    anchor = await eve.send("/start")
    assert anchor is not None
    for token in (used, used, expired, expired, "G" * 24):
        await eve.press(data=f"cs:n:{token}", message=anchor)
    good = await diary.invite("P-0009")
    reply = await eve.send(f"/start {good}")
    assert reply is not None and "Too many links" in (reply.text or ""), reply
    async with diary.database.session() as session:
        overview = {line.code: line for line in await patients.overview(session=session)}
    assert not overview["P-0002"].declined


@SQLITE_ONLY
async def test_no_thank_you_on_the_patients_own_used_link_is_no_wrong_token(diary: Diary) -> None:
    """Ben opened his link twice and agreed on the first consent screen: "No, thank you" on the second (or a double
    tap of it, or the press replayed) counted as a wrong token, where "I agree" there does not; five such, and his
    next real link was refused. A used link whose record is his account's is known, and changes nothing."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    token = await diary.invite("P-0001")
    first, second = await ben.send(f"/start {token}"), await ben.send(f"/start {token}")
    await ben.press(data=f"cs:y:{token}", message=first)
    await ben.press(data=f"cs:y:{token}", message=second)
    for _ in range(5):
        await ben.press(data=f"cs:n:{token}", message=second)
    assert "already enrolled" in (ben.last.text or ""), ben.last
    async with diary.database.session() as session:
        since = START - timedelta(hours=1)
        counted = await wrong_tokens.count_since(session=session, telegram_user_id=301, since=since)
        (invite,) = (await session.exec(select(Invite))).all()
    assert counted == 0 and invite.declined_at is None
    assert await linked_to(diary, "P-0001") == 301


async def test_webhook_refuses_huge_ids_deep_nesting_and_non_integer_ids(database_url: str, tmp_path: Path) -> None:
    port, secret = free_port(), "s3cret-token_for-the-webhook"
    url = f"http://127.0.0.1:{port}/telegram/updates"
    async with running_diary(
        database_url, tmp_path / "files", webhook=True, webhook_url=url, webhook_secret=secret, webhook_port=port
    ) as diary:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
        message = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "hi"}
        bodies = [
            json.dumps({"update_id": 2**70, "message": message}),
            json.dumps({"update_id": "12", "message": message}),
            json.dumps({"update_id": 1.5, "message": message}),
            json.dumps({"update_id": True, "message": message}),
            '{"update_id": 7, "message": ' + "[" * 200_000 + "]" * 200_000 + "}",
        ]
        async with aiohttp.ClientSession() as client:
            for body in bodies:
                async with client.post(url, data=body.encode(), headers=headers) as response:
                    assert response.status == 400, body[:60]
        async with diary.database.session() as session:
            assert not (await session.exec(select(InboxUpdate))).all(), "nothing stored"


async def test_webhook_skips_updates_with_dates_too_large_for_a_clock(database_url: str, tmp_path: Path) -> None:
    """Inside a well-formed update with the secret, a date no clock can hold (Python raises OverflowError or OSError
    for it, not ValueError) does not read: a message's date is one without which it is none, and it is skipped; an
    edit's date it is read without (bot/delivery/reading.py). Answered 200 so that Telegram does not send them
    again, the admins told once; never a 500."""
    port, secret = free_port(), "s3cret-token_for-the-webhook"
    url = f"http://127.0.0.1:{port}/telegram/updates"
    async with running_diary(
        database_url, tmp_path / "files", webhook=True, webhook_url=url, webhook_secret=secret, webhook_port=port
    ) as diary:
        ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
        chat = {"id": 5, "type": "private"}
        bodies = [
            json.dumps({"update_id": 11, "message": {"message_id": 1, "date": 2**70, "chat": chat, "text": "hi"}}),
            json.dumps({"update_id": 12, "message": {"message_id": 1, "date": 1e20, "chat": chat, "text": "hi"}}),
            json.dumps({"update_id": 13, "message": {"message_id": 1, "date": -(2**63), "chat": chat, "text": "hi"}}),
            '{"update_id": 14, "message": {"message_id": 1, "date": Infinity, "chat": {"id": 5, "type": "private"}}}',
            json.dumps(
                {"update_id": 15, "edited_message": {"message_id": 1, "date": 0, "chat": chat, "edit_date": 2**70}}
            ),
        ]
        async with aiohttp.ClientSession() as client:
            for body in bodies:
                async with client.post(url, data=body.encode(), headers=headers) as response:
                    assert response.status == 200, body[:70]
        async with diary.database.session() as session:
            stored = (await session.exec(select(InboxUpdate))).all()
        assert [row.update_id for row in stored] == [15], "the edit, read without its date"
        await ada.wait_for(lambda: any("update 11)" in (m.text or "") for m in ada.messages))
        assert sum("cannot read" in (m.text or "") for m in ada.messages) == 1


async def test_secrets_are_secret_and_debug_logs_never_print_the_token(
    diary: Diary, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(_env_file=None, telegram_bot_token="123456:secret-token-abc", webhook_secret="x" * 20)
    assert "secret-token-abc" not in repr(settings) and "x" * 20 not in repr(settings)
    caplog.set_level(logging.DEBUG)
    for name in ("telegram", "aiohttp", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        await ben.send("/checkin")
        await ben.press("5")
        logging.getLogger("test").debug("a request to %s/bot%s/getMe failed", "http://x", diary.standin.token)
    finally:
        quiet_library_loggers()
    text = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "/getMe" in text, "the scan saw DEBUG records"
    assert diary.standin.token not in text


async def test_secrets_are_secret_even_when_telegram_rejects_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A revoked or mistyped token: `run` and `invite` (which asks Telegram for the bot's name) stop with
    one line, exit status 2, and print no token (the library's own message carries it in full). `run`
    as a real process, with the logging it sets up itself (the command line's one subprocess test of
    exit status 2); `invite` in this process, with the command line's own logging set-up, every record
    kept."""
    standin = BotApiStandIn(files_dir=tmp_path / "files")
    await standin.start()
    rejected = "123456:revoked-token-abc"
    refused = (
        "error: TELEGRAM_BOT_TOKEN: Telegram refused the token (revoked, or mistyped): copy it again from @BotFather"
    )
    try:
        env = bot_env(standin, f"sqlite:///{tmp_path / 'diary.db'}") | {"TELEGRAM_BOT_TOKEN": rejected}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=ROOT, stdout=PIPE, stderr=PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        said = (out + err).decode()
        assert process.returncode == 2, said
        assert rejected not in said and "revoked-token" not in said, said
        assert said.strip().splitlines()[-1] == refused

        caplog.set_level(logging.DEBUG)
        done = await asyncio.to_thread(
            run_cli,
            "invite",
            "--code",
            "P-0001",
            own_logging=True,
            TELEGRAM_BOT_TOKEN=rejected,
            TELEGRAM_API_BASE_URL=standin.url,
            DATABASE_URL=f"sqlite:///{tmp_path / 'invite.db'}",
        )
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert done.returncode == 2 and done.stderr.strip() == refused, done
        assert "revoked-token" not in done.stdout + done.stderr + logged
    finally:
        quiet_library_loggers()
        await standin.stop()


async def test_a_declined_invite_shows_declined_and_its_link_stops_working(diary: Diary) -> None:
    sam = await a_member(diary)
    token = token_of((await sam.send("/invite P-0050") or ben_none()).text)
    dee = SimulatedUser(diary.standin, 305, "Dee")
    await dee.send(f"/start {token}")
    await dee.press("No, thank you")
    assert "ask your care team for a new invite link" in (dee.last.text or "")
    reply = await sam.send("/patients")
    assert reply is not None and "P-0050 – declined" in (reply.text or "")
    reply = await dee.send(f"/start {token}")
    assert reply is not None and "expired or has already been used" in (reply.text or "")
    async with diary.database.session() as session:
        stored = (await session.exec(select(Patient).where(Patient.code == "P-0050"))).one()
    assert stored.telegram_user_id is None, "nothing about the person who declined"


async def test_a_declined_invite_stays_usable_when_the_clinic_says_so(database_url: str, tmp_path: Path) -> None:
    async with running_diary(database_url, tmp_path / "files", invite_usable_after_decline=True) as diary:
        token = await diary.invite("P-0051")
        dee = SimulatedUser(diary.standin, 305, "Dee")
        await dee.send(f"/start {token}")
        await dee.press("No, thank you")
        assert "open the same link again" in (dee.last.text or "")
        await dee.send(f"/start {token}")
        await dee.press("I agree")
        assert await linked_to(diary, "P-0051") == 305


async def test_a_server_clock_behind_telegrams_holds_back_no_crisis_text_card_or_reply(diary: Diary) -> None:
    """Telegram dates a message by its own clock; this server's may be behind it (set back, or a board with
    no real-time clock before time synchronisation). What a message brings is owed from the moment it is
    handled: the crisis text, the card and a staff reply waited until this clock reached Telegram's date."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = await a_member(diary)
    await diary.enrol(ben)
    ahead = diary.clock() + timedelta(minutes=10)  # Telegram's clock; the test clock stands still
    reply = await ben.send("I want to end it all", date=ahead, timeout=10)
    assert reply is not None and "TelefonSeelsorge" in (reply.text or "")
    await diary.wait_until(lambda: any((m.caption or "").startswith("🔴 URGENT") for m in staff_chat(diary)), 10)
    card = next(m for m in staff_chat(diary) if (m.caption or "").startswith("🔴 URGENT"))
    await sam.send("We will call you in five minutes.", chat_id=STAFF_CHAT, reply_to=card, date=ahead)
    await ben.wait_for(lambda: "call you in five minutes" in (ben.last.text or ""), 10)
