"""At least once for what matters: the bot process is killed with SIGKILL again and again while patients
write, and every message still reaches the staff chat, and every patient is told it was passed on.
What was in flight at a kill may arrive twice; the test counts those duplicates and bounds them by the
requests that were in flight."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import json
import logging
import random
import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import telegram
from sqlalchemy import event, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select
from telegram import Update
from telegram.error import Forbidden, TimedOut
from telegram.ext import Application

from bot.alerts import escalation
from bot.alerts.desk import AlertDesk
from bot.care_team.intake import Intake
from bot.care_team.replies import Replies
from bot.care_team.staff_chat import StaffChat
from bot.care_team.text_limits import TEXT_LIMIT, split, units
from bot.delivery.inbox import Inbox
from bot.delivery.outbox import OutboxSender
from bot.delivery.telegram_http import MaybeDone
from bot.diary import enrolment
from bot.diary.scheduler import Scheduler
from bot.handlers import staff_replies
from bot.sandbox import BotApiStandIn, SimulatedUser
from bot.sandbox.server import ChatMessage, free_port
from storage import alerts, checkins, inbox, migrate, outbox, patient_messages, patients, staff
from storage import staff_chat as staff_chat_store
from storage.database import Database
from storage.models import InboxUpdate, OutboxMessage
from storage.statuses import OutboxStatus
from tests.bot_process import bot_env, start_bot, stop, wait_for
from tests.harness import POSTGRESQL_ONLY, SQLITE_ONLY, START, Clock, Diary, running_diary
from tests.postgres import PostgresCluster, waiting_for_a_lock
from tests.test_alerts import STAFF_CHAT, register_staff, staff_chat, up_to_the_note, with_history
from tests.test_care_team import BERLIN_CRISIS_LINE, a_question_in_the_staff_chat, all_sent, reply_to
from tests.test_instruments import NOT_AT_ALL, SEVERAL_DAYS, up_to_the_self_harm_question

STAFF = 800  # the staff chat is a staff member's direct chat here: paced at 1/s, not a group's 20/min


async def in_flight(database: Database) -> int:
    """Rows a killed process left marked as being sent: each may have arrived (a duplicate to come)."""
    async with database.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.status == "sending"))).all()
    return len(rows)


def reply_prompts(standin: BotApiStandIn) -> list[ChatMessage]:
    """The prompts Reply posted in the staff chat for P-0001."""
    return [m for m in standin.chat(STAFF_CHAT) if (m.text or "").startswith("Write your reply to P-0001")]


async def the_prompt_comes_once_and_takes_a_reply(diary: Diary, sam: SimulatedUser, ben: SimulatedUser) -> None:
    """After Sam pressed Reply: its prompt comes, once, and his reply to it reaches Ben."""
    await diary.wait_until(lambda: len(reply_prompts(diary.standin)) == 1)
    await diary.inbox_processed()
    assert len(reply_prompts(diary.standin)) == 1
    await sam.send("Take one tablet tonight.", chat_id=STAFF_CHAT, reply_to=reply_prompts(diary.standin)[0])
    await ben.wait_for(lambda: any(m.text == "Your care team: Take one tablet tonight." for m in ben.messages))


@pytest.mark.slow
async def test_a_kill_loop_while_patients_write_loses_no_message(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await kill_loop(database_url, capsys, webhook=False)


@pytest.mark.slow
@SQLITE_ONLY
async def test_a_kill_loop_while_patients_write_by_webhook_loses_no_message(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same behind a webhook: Telegram POSTs each update until the bot answers 200, which it does
    once the update is stored; a kill before that leaves it to Telegram, after it to the next start."""
    await kill_loop(database_url, capsys, webhook=True)


async def kill_loop(database_url: str, capsys: pytest.CaptureFixture[str], *, webhook: bool) -> None:
    """Patients write, each once in crisis words, while the bot is killed four times: every message is
    passed on and answered, and every crisis message gets its card and the crisis text."""
    standin = BotApiStandIn()
    await standin.start()
    database = Database(database_url)
    await migrate.upgrade(database)
    port = free_port()
    by_webhook = {
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/updates",
        "WEBHOOK_SECRET": "s3cret-token_for-the-kill-loop",
        "WEBHOOK_PORT": str(port),
    }
    env = bot_env(
        standin,
        database_url,
        STAFF_CHAT_ID=str(STAFF),
        OUTBOX_LEASE_SECONDS="2",
        DEFAULT_CHECKIN_TIMES="03:00",
        **(by_webhook if webhook else {}),
    )
    options = ("--webhook",) if webhook else ()
    SimulatedUser(standin, STAFF, "Sam")
    async with database.session() as session:
        await staff.add(session=session, telegram_user_id=STAFF, role="staff", now=START)
    patients = [SimulatedUser(standin, 400 + n, f"P{n}") for n in range(3)]
    rng = random.Random(11)
    bot = start_bot(env, *options)
    doubtful = 0
    try:
        for n, patient in enumerate(patients):
            token = await enrolment.create_invite(
                database,
                code=f"W-{n}",
                timezone="Europe/Berlin",
                language="en",
                checkin_times="",
                now=START,
                valid_for=timedelta(days=30),
            )
            await patient.send(f"/start {token}", timeout=60)
            await patient.press("I agree", timeout=60)
        written: list[tuple[SimulatedUser, str]] = []
        crises: list[tuple[SimulatedUser, str]] = []
        for kill in range(4):
            for _round in range(2):
                for patient in patients:
                    if kill == 1 and _round == 0:
                        text = f"message {len(written) + len(crises)} from {patient.first_name}: I want to kill myself"
                        crises.append((patient, text))
                    else:
                        text = f"message {len(written) + len(crises)} from {patient.first_name}: my hand hurts"
                        written.append((patient, text))
                    patient.say(text)
                await asyncio.sleep(rng.uniform(0.05, 0.3))
            await asyncio.sleep(rng.uniform(0.05, 1.0))
            bot.send_signal(signal.SIGKILL)
            bot.wait()
            doubtful += await in_flight(database)
            bot = start_bot(env, *options)

        def delivered() -> Counter[str]:
            return Counter(m.text or "" for m in standin.chat(STAFF) if m.text)

        def cards(text: str) -> int:
            return len([m for m in standin.chat(STAFF) if m.photo and text in (m.caption or "")])

        def said(patient: SimulatedUser, start: str) -> int:
            return len([m for m in patient.messages if (m.text or "").startswith(start)])

        async def everything_arrived() -> bool:
            arrived = delivered()
            forwarded = all(arrived[f"Message from W-{patients.index(p)}:\n{text}"] >= 1 for p, text in written)
            told = all(said(p, "I can't give medical advice") >= len(written) // len(patients) for p in patients)
            carded = all(cards(text) >= 1 for _, text in crises)
            helped = all(said(p, "Thank you for telling us") >= 1 for p in patients)
            return forwarded and told and carded and helped

        await wait_for(everything_arrived, 120)
        await asyncio.sleep(1)  # anything sent twice would be here by now
        duplicates = sum(count - 1 for text, count in delivered().items() if text.startswith("Message from"))
        duplicates += sum(cards(text) - 1 for _, text in crises)
        with capsys.disabled():
            print(
                f"\n[{database_url.split(':')[0]}{', webhook' if webhook else ''}] {len(written) + len(crises)} "
                f"messages ({len(crises)} in crisis), 4 kills: all delivered; {duplicates} duplicates, "
                f"{doubtful} requests in flight at the kills"
            )
        assert duplicates <= doubtful
    finally:
        stop(bot)
        await standin.stop()
        await database.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def test_a_row_left_sending_is_sent_again_while_the_bot_runs(tmp_path: Path, database_url: str) -> None:
    """Not only at start-up: a running sender finds rows whose lease ran out (another process died)."""
    async with running_diary(database_url, tmp_path / "files", outbox_lease_seconds=1) as diary:
        sam = SimulatedUser(diary.standin, 800, "Sam")
        async with diary.database.session() as session:
            await outbox.enqueue(session=session, kind="staff", chat_id=sam.id, text="left behind", now=diary.clock())
            await session.exec(
                update(OutboxMessage).values(status="sending", claimed_at=diary.clock())  # as a dead process left it
            )
        await asyncio.sleep(0.75)  # the sender looks for rows left behind twice meanwhile (a third of a lease apart)
        assert not sam.messages, "within its lease the row is someone else's"
        diary.clock.advance(seconds=3)
        await sam.wait_for(lambda: any(m.text == "left behind" for m in sam.messages))


def dies_at(monkeypatch: pytest.MonkeyPatch, target: str) -> asyncio.Event:
    """The process "dies" when `target` is called: it raises, and the update in hand is never marked
    handled, so the next process handles it again. The event is set when that happens."""
    died = asyncio.Event()

    async def dies(*_: object, **__: object) -> None:
        died.set()
        raise RuntimeError("the process died here")

    async def never_marked(**_: object) -> None:
        return None

    monkeypatch.setattr(target, dies)
    monkeypatch.setattr("bot.delivery.inbox.inbox.mark_processed", never_marked)
    return died


@SQLITE_ONLY
async def test_a_staff_reply_survives_a_crash_between_taking_the_reply_and_queuing_it(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sam presses Reply on Ben's message and writes his answer; the process dies while it handles it,
    before it is queued. The restart handles the answer again and it reaches Ben, once: the Reply pressed
    was used up in a transaction of its own, so the answer, read again, was for nobody and was lost."""
    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    try:
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
            await sam.press("Reply", message=forwarded)
            await diary.inbox_processed()
            died = dies_at(monkeypatch, "bot.care_team.replies.Replies.send")
            sam.say("Yes, one more is fine tonight.", chat_id=STAFF_CHAT)
            await asyncio.wait_for(died.wait(), 10)
        monkeypatch.undo()
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            answer = "Your care team: Yes, one more is fine tonight."
            await ben.wait_for(lambda: any(m.text == answer for m in ben.messages))
            await sam.wait_for(lambda: any("on its way to P-0001" in (m.text or "") for m in standin.chat(STAFF_CHAT)))
            await diary.inbox_processed()
            assert [m.text for m in ben.messages].count(answer) == 1
    finally:
        await standin.stop()


@SQLITE_ONLY
async def test_the_rest_of_a_long_staff_reply_reaches_the_patient_across_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    """Ada's reply of 5,000 characters in her direct chat, which Telegram's app sends in two parts a moment apart: the
    bot stops after the first and the second is handled by the next process. The rest still goes to Ben: what it
    goes with is kept in the database, not in the process that handled the first part."""
    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    leaflet = "Take one tablet with food, and no more than four in a day. " * 85 + "Call us if it gets worse."
    first, second = split(leaflet, TEXT_LIMIT)
    ben, ada = SimulatedUser(standin, 301, "Ben"), SimulatedUser(standin, 900, "Ada")
    try:
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.enrol(ben)
            await ben.send("i wish i was dead")
            clock.advance(minutes=16)
            await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=clock())
            await ada.wait_for(lambda: bool(ada.messages))
            await ada.press("Reply", message=ada.last)
            handled = len(await diary.inbox_processed())
            ada.say(first)
            await diary.inbox_processed(at_least=handled + 1)
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ada.say(second)
            await diary.inbox_processed(at_least=handled + 2)
            await ben.wait_for(lambda: reply_to(ben) == leaflet)
    finally:
        await standin.stop()


@SQLITE_ONLY
async def test_a_staff_reply_queued_before_a_crash_is_confirmed_after_the_restart(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sam presses Reply on Ben's message and writes his answer; it is queued for Ben, and the process dies
    before Sam is told "Your reply is on its way". The restart handled his answer again, found the Reply used
    up and took it for talk among staff: no word to Sam (in a direct chat, the staff commands' help instead),
    who would write it again, and Ben would get it twice. It is found as the reply it was, and confirmed."""
    async with restartable(tmp_path / "files") as (clock, standin):
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
            await sam.press("Reply", message=forwarded)
            await diary.inbox_processed()
            died = dies_at(monkeypatch, "telegram.Message.reply_text")  # the confirmation, after the reply is queued
            sam.say("Yes, one more is fine tonight.", chat_id=STAFF_CHAT)
            await asyncio.wait_for(died.wait(), 10)
        monkeypatch.undo()
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            answer = "Your care team: Yes, one more is fine tonight."
            await ben.wait_for(lambda: any(m.text == answer for m in ben.messages))
            await diary.inbox_processed()
            assert any("on its way to P-0001" in (m.text or "") for m in standin.chat(STAFF_CHAT))
            await all_sent(diary)
            assert [m.text for m in ben.messages].count(answer) == 1


@SQLITE_ONLY
async def test_a_reply_prompt_not_posted_before_a_crash_is_posted_after_the_restart(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sam presses Reply on Ben's message; the press is noted, and the process dies before its prompt is
    posted. The restart handled the press again and found it noted: it said "Write your reply in the chat"
    with no prompt to reply to, which in a group (where the bot hears only replies to its own messages) is
    no way to write to Ben at all. The prompt is posted then, once, and Sam's reply to it reaches Ben."""
    async with restartable(tmp_path / "files") as (clock, standin):
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
            await all_sent(diary)
            await diary.inbox_processed()
            died = dies_at(monkeypatch, "telegram.ext.ExtBot.send_message")  # the prompt is the next message sent
            await sam.press("Reply", message=forwarded, wait=False)
            await asyncio.wait_for(died.wait(), 10)
        monkeypatch.undo()

        assert not reply_prompts(standin)
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await the_prompt_comes_once_and_takes_a_reply(diary, sam, ben)


@SQLITE_ONLY
async def test_an_album_is_acknowledged_once_across_a_restart(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben sends three photos at once, an album; the process dies once it has handled the first, and the next handles
    the rest. He was thanked for the first and again for the second: which album had been acknowledged was known only
    to the process that died. An album sent after it is thanked for as before."""
    told = "Thank you, your care team will see what you sent."
    real_media, died = Intake.media, asyncio.Event()

    async def dies_after_the_first(self: Intake, **kwargs: Any) -> Any:
        if died.is_set() or kwargs["message_id"] != first:
            died.set()
            raise RuntimeError("the process died here")
        return await real_media(self, **kwargs)

    async def never_marked(**_: object) -> None:
        return None

    def album(standin: BotApiStandIn, ben: SimulatedUser, group: str, photos: int) -> None:
        for _ in range(photos):
            standin.user_media(ben.json, "photo", standin.new_file("photo", 1_000) | {"media_group_id": group})

    async with restartable(tmp_path / "files") as (clock, standin):
        ben = SimulatedUser(standin, 301, "Ben")
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.enrol(ben)
            await diary.inbox_processed()
            first = max(m.message_id for m in standin.chat(ben.id)) + 1
            monkeypatch.setattr(Intake, "media", dies_after_the_first)
            monkeypatch.setattr("bot.delivery.inbox.inbox.mark_processed", never_marked)
            album(standin, ben, "13579", 3)
            await asyncio.wait_for(died.wait(), 10)
            await all_sent(diary)
        monkeypatch.undo()
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.inbox_processed()
            album(standin, ben, "24680", 2)  # another, sent at once after it
            await diary.wait_until(lambda: sum(m.copied_from is not None for m in standin.chat(STAFF_CHAT)) == 5)
            await diary.inbox_processed()
            await all_sent(diary)
            assert sum((m.text or "").startswith(told) for m in ben.messages) == 2


@SQLITE_ONLY
async def test_a_check_in_finished_by_a_note_reaches_the_rules_after_a_crash(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben's note finishes a check-in of pain 9 after days of it; the process dies once the note is stored,
    before the rules look. The restart finds the note stored and changes nothing in the diary, and the
    rules look then: staff get the card at once, not at the next day's sweep."""
    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    try:
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ben = SimulatedUser(standin, 301, "Ben")
            await diary.enrol(ben)
            await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
            await ben.send("/checkin")
            for label in ["9", "The same", "The same", "Not swollen", "4 Good"]:
                await ben.press(label)
            died = dies_at(monkeypatch, "bot.alerts.desk.AlertDesk.evaluate")
            ben.say("Burning at night")
            await asyncio.wait_for(died.wait(), 10)
            assert not any(m.photo for m in standin.chat(STAFF_CHAT))
        monkeypatch.undo()
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.inbox_processed()
            await diary.wait_until(lambda: any(m.photo for m in standin.chat(STAFF_CHAT)))
            checkins = await diary.checkins()
            assert len(checkins) == 8 and checkins[-1].completed_at is not None, "finished once, before the crash"
    finally:
        await standin.stop()


@SQLITE_ONLY
@pytest.mark.parametrize("voice", [False, True], ids=["note", "voice"])
async def test_the_questionnaire_due_after_a_check_in_finished_at_the_note_is_offered_after_a_crash(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, voice: bool
) -> None:
    """Ben's note finishes his check-in on the day his mood questionnaire is due; the process dies once the
    note is stored, before the questionnaire is offered. The restart found the note stored and let the rules
    look, and offered nothing: the PHQ-2 waited for the next check-in Ben finished, a day or more later. It
    is offered then, once. With a voice message at the note question (no caption: no words for the note) the
    restart found the check-in it finished only through the note's words, so the summary waited as well."""
    async with restartable(tmp_path / "files") as (clock, standin):
        files = tmp_path / "files"
        async with running_diary(database_url, files, clock=clock, standin=standin, instruments="phq2") as diary:
            ben = SimulatedUser(standin, 301, "Ben")
            await diary.enrol(ben)
            await ben.send("/checkin")
            for label in ["4", "The same", "The same", "Not swollen", "4 Good"]:
                await ben.press(label)
            checkin = ben.last_with_buttons()
            await diary.inbox_processed()
            died = dies_at(monkeypatch, "bot.alerts.desk.AlertDesk.evaluate")
            if voice:
                ben.send_voice()
            else:
                ben.say("Burning at night")
            await asyncio.wait_for(died.wait(), 10)
        monkeypatch.undo()
        async with running_diary(database_url, files, clock=clock, standin=standin, instruments="phq2") as diary:
            await diary.inbox_processed()
            await all_sent(diary)
            if voice:
                assert "Thank you. Your answers:" in (standin.messages[ben.id][checkin.message_id].text or "")
            offers = [m for m in ben.messages if "Mood questionnaire" in (m.text or "")]
            assert len(offers) == 1 and offers[0].buttons


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("typed", "told"),
    [
        ("Burning at night", "Thank you, your note is saved with this check-in. Please go on with the buttons above."),
        ("7", "Saved."),
    ],
    ids=["note", "answer"],
)
async def test_words_typed_in_a_check_in_are_confirmed_once_across_a_crash(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, typed: str, told: str
) -> None:
    """Ben types a note (or the number) at the pain question; the process dies once it is stored, before he
    is told. The restart found it stored and said nothing: never told that his words were kept, he types them
    again. He is told, once."""
    async with restartable(tmp_path / "files") as (clock, standin):
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ben = SimulatedUser(standin, 301, "Ben")
            await diary.enrol(ben)
            await ben.send("/checkin")
            await diary.inbox_processed()
            died = dies_at(monkeypatch, "telegram.ext.ExtBot.edit_message_text")  # showing the check-in's new state
            ben.say(typed)
            await asyncio.wait_for(died.wait(), 10)
        monkeypatch.undo()
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.inbox_processed()
            await all_sent(diary)
            assert [m.text for m in ben.messages].count(told) == 1


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("typed", "edited", "item", "told"),
    [("Burning at night", "Burning all night", "note", "Your note is updated."), ("7", "8", "pain", "Saved.")],
    ids=["note", "answer"],
)
async def test_an_edit_of_words_typed_in_a_check_in_is_shown_and_confirmed_across_a_crash(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, typed: str, edited: str, item: str, told: str
) -> None:
    """Ben edits the note (typed at the note question) or the pain score he typed; the process dies once the edit
    is stored, before the check-in shows it and he is told. The restart found the edit stored and did nothing:
    his summary went on showing his old words, and he was never told that the change was kept. He is, once."""
    async with restartable(tmp_path / "files") as (clock, standin):
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ben = SimulatedUser(standin, 301, "Ben")
            await diary.enrol(ben)
            if item == "note":
                await up_to_the_note(ben, "4")
            else:
                await ben.send("/checkin")
            checkin = ben.last_with_buttons()
            said = ben.say(typed)
            await ben.wait_for(lambda: ben.last.text == "Saved." or "note is saved" in (ben.last.text or ""))
            await diary.inbox_processed()
            died = dies_at(monkeypatch, "telegram.ext.ExtBot.edit_message_text")  # showing the check-in's new state
            standin.edit_user_message(said, text=edited)
            await asyncio.wait_for(died.wait(), 10)
        monkeypatch.undo()
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.inbox_processed()
            await all_sent(diary)
            assert {a.item: a.value for a in await diary.answers()}[item] == edited
            if item == "note":
                assert edited in (standin.messages[ben.id][checkin.message_id].text or "")
            typed_told = 1 if told == "Saved." else 0  # the typed number's own "Saved."
            assert [m.text for m in ben.messages].count(told) == typed_told + 1


@SQLITE_ONLY
async def test_a_photo_telegram_will_not_copy_still_shows_staff_its_words(tmp_path: Path, database_url: str) -> None:
    """Telegram refuses to copy some messages into the staff chat: one the patient deleted before its
    turn came (an outage), a quiz poll. The copy was marked failed and staff saw only "P-0001 sent a
    photo:", never the words on it. Now they get what was written, saying the item itself could not be
    shown, under Reply and Seen."""
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        diary.standin.fail_next("copyMessage", 400, "Bad Request: message to copy not found", times=2)
        answered = ben.expect_reply()
        ben.send_photo("my hand this morning, the skin is shiny")
        await answered
        ben.send_voice()
        shown = (
            "P-0001 sent a photo that cannot be shown here (the patient may have deleted it). "
            "Its words:\nmy hand this morning, the skin is shiny"
        )
        await diary.wait_until(lambda: any(m.text == shown for m in diary.standin.chat(STAFF_CHAT)))
        voice = "P-0001 sent a voice message that cannot be shown here (the patient may have deleted it)."
        await diary.wait_until(lambda: any(m.text == voice for m in diary.standin.chat(STAFF_CHAT)))
        words = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == shown)
        assert [label for label, _ in words.buttons] == ["Reply", "Seen"]
        # Each copy is marked sent once its words are (the row is written after the send it records).
        await diary.wait_until_async(lambda rows: [r.status for r in rows if r.kind == "copy"] == ["sent", "sent"])


@SQLITE_ONLY
async def test_a_long_message_whose_second_part_fails_is_not_shown_to_staff_twice(
    tmp_path: Path, database_url: str
) -> None:
    """Ben's message is longer than one Telegram message: staff get it in two. The second fails (a 502) and
    is tried again a little later: the first is not sent again with it (each part is a row of its own)."""
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        await all_sent(diary)

        async def the_first_part() -> None:
            diary.standin.meanwhile(STAFF_CHAT, the_second_part)

        async def the_second_part() -> None:
            diary.standin.fail_chat(STAFF_CHAT, 502, "Bad Gateway")

        diary.standin.meanwhile(STAFF_CHAT, the_first_part)
        ben.say("My hand. " * 600)
        await diary.wait_until_async(lambda rows: any(r.error == "NetworkError" for r in rows))
        diary.standin.heal_chat(STAFF_CHAT)
        diary.clock.advance(minutes=1)  # past its backoff
        await diary.wait_until(lambda: any("(2/2)" in (m.text or "") for m in diary.standin.chat(STAFF_CHAT)))
        await all_sent(diary)
        parts = [(m.text or "").split(":", 1)[0] for m in diary.standin.chat(STAFF_CHAT)]
        assert parts == ["Message from P-0001 (1/2)", "Message from P-0001 (2/2)"]


@SQLITE_ONLY
async def test_a_reply_retried_through_an_outage_is_not_given_up_when_the_bot_restarts(
    tmp_path: Path, database_url: str
) -> None:
    """A row that keeps being left unfinished by dying processes is given up (it may be what kills them).
    But the count of tries also counted Telegram's outages: a staff reply or crisis card retried through
    some minutes of 502s, then in flight when the bot was restarted, was marked failed and never sent.
    Only a row left unfinished at its last try as well is taken for one that kills the process."""
    async with running_diary(database_url, tmp_path / "files", outbox_lease_seconds=1) as diary:
        ben, sam = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 800, "Sam")
        async with diary.database.session() as session:
            for text, error in (("through the outage", "NetworkError"), ("poison", outbox.ABANDONED)):
                await outbox.enqueue(session=session, kind="patient", chat_id=ben.id, text=text, now=diary.clock())
                await outbox.enqueue(session=session, kind="staff", chat_id=sam.id, text=text, now=diary.clock())
                await session.exec(
                    update(OutboxMessage)  # as a dead process left them, after 7 tries
                    .where(col(OutboxMessage.text) == text)
                    .values(status="sending", claimed_at=diary.clock(), attempts=7, error=error)
                )
        diary.clock.advance(seconds=3)
        await ben.wait_for(lambda: any(m.text == "through the outage" for m in ben.messages))
        await sam.wait_for(lambda: any(m.text == "through the outage" for m in sam.messages))
        await diary.wait_until_async(lambda rows: all(row.status in ("sent", "failed") for row in rows))
        async with diary.database.session() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        assert [(row.kind, row.status) for row in rows if row.text == "poison"] == [
            ("patient", "failed"),
            ("staff", "failed"),
        ], "a row left unfinished at its last try too is still given up"


@SQLITE_ONLY
async def test_a_reply_retried_through_an_outage_survives_one_internal_error(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for an error of the bot's own while sending (the database away for a moment while a card
    is drawn): after an outage's tries, the first one gave the row up. Only one that fails so twice
    running at its eighth try or later is given up."""
    real_send = OutboxSender._send
    failed: list[str] = []

    async def fails_once(self: OutboxSender, row: OutboxMessage) -> int | None:
        if row.text not in failed:
            failed.append(row.text or "")
            raise RuntimeError("the database went away for a moment")
        return await real_send(self, row)

    monkeypatch.setattr(OutboxSender, "_send", fails_once)
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        async with diary.database.session() as session:
            for text, error in (("through the outage", "NetworkError"), ("poison", outbox.INTERNAL_ERROR)):
                await outbox.enqueue(session=session, kind="patient", chat_id=ben.id, text=text, now=diary.clock())
                await session.exec(
                    update(OutboxMessage).where(col(OutboxMessage.text) == text).values(attempts=7, error=error)
                )
        await diary.wait_until(lambda: len(failed) == 1)  # the second waits for the first: one chat, in order
        diary.clock.advance(seconds=300)  # past the backoff
        await ben.wait_for(lambda: any(m.text == "through the outage" for m in ben.messages))
        await diary.wait_until(lambda: len(failed) == 3)  # staff's word of the poison failed once too
        diary.clock.advance(seconds=300)
        await diary.wait_until_async(lambda rows: all(row.status in ("sent", "failed") for row in rows))
        async with diary.database.session() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        assert [row.status for row in rows] == ["sent", "failed", "sent"], "through the outage, poison, staff told"
        assert any("poison" in (m.text or "") for m in diary.standin.chat(STAFF_CHAT))


def sending_fails_for(monkeypatch: pytest.MonkeyPatch, failing: Callable[[OutboxMessage], bool]) -> None:
    """Every send of a row `failing` picks fails with an error of the bot's own, at every try; the rest go as usual."""
    real_send = OutboxSender._send

    async def broken(self: OutboxSender, row: OutboxMessage) -> int | None:
        if failing(row):
            raise RuntimeError("a fault of the bot's own")
        return await real_send(self, row)

    monkeypatch.setattr(OutboxSender, "_send", broken)


@pytest.mark.parametrize("how", ["left-unfinished", "internal-error"])
async def test_a_reply_given_up_as_a_poison_row_is_shown_to_staff(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A row that processes keep dying with in flight, or that fails with an error of the bot's own at try after
    try, is given up: it may be what kills them. Sam's reply to Ben so given up was marked failed with a line in
    the log, and Sam believed Ben had it. Staff get its words, to reach him another way, as they do of a reply
    Telegram refuses."""
    if how == "internal-error":
        sending_fails_for(monkeypatch, lambda row: row.kind == "patient")
    async with running_diary(database_url, tmp_path / "files", outbox_lease_seconds=1) as diary:
        ben, _, _ = await a_question_in_the_staff_chat(diary)
        await all_sent(diary)
        left = {"status": "sending", "claimed_at": diary.clock(), "error": outbox.ABANDONED}
        values = left if how == "left-unfinished" else {"error": outbox.INTERNAL_ERROR}
        async with diary.database.session() as session:
            patient = await patients.by_code(session=session, code="P-0001")
            assert patient is not None
            reply = await outbox.enqueue(
                session=session,
                kind="patient",
                chat_id=ben.id,
                text="Your care team: Take one tablet tonight.",
                patient_id=patient.id,
                now=diary.clock(),
            )
            await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == reply)
                .values(attempts=outbox.MAX_ATTEMPTS - 1, **values)
            )
        diary.clock.advance(seconds=3)  # past the lease of a dead process's claim
        await diary.wait_until(
            lambda: any(
                "P-0001" in (m.text or "") and "Take one tablet tonight." in (m.text or "")
                for m in diary.standin.chat(STAFF_CHAT)
            )
        )
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
        assert not any("Take one tablet" in (m.text or "") for m in ben.messages)


async def test_a_notice_to_an_admin_given_up_as_a_poison_row_is_not_told_to_the_other_admins(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message for the staff chat given up as poison is told to each admin with its words. When it is the words
    that make the send fail, each notice fails so too and is given up in turn; told to the other admins, with the
    words again, it went round them for ever (with three admins, doubling at each round)."""
    poison = "<words the bot fails on>"
    sending_fails_for(monkeypatch, lambda row: poison in (row.text or ""))
    async with running_diary(database_url, tmp_path / "files", admin_telegram_ids="900,901") as diary:
        SimulatedUser(diary.standin, 900, "Ada")
        SimulatedUser(diary.standin, 901, "Bea")
        async with diary.database.session() as session:
            await outbox.enqueue(
                session=session, kind="staff", chat_id=STAFF_CHAT, text=f"Message from P-0001:\n{poison}", now=START
            )
        for _ in range(3):  # each row with the words at its last try, as after seven failed ones
            async with diary.database.session() as session:
                await session.exec(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.status) == "pending", col(OutboxMessage.text).contains(poison))
                    .values(attempts=outbox.MAX_ATTEMPTS - 1, error=outbox.INTERNAL_ERROR, not_before=diary.clock())
                )
            diary.clock.advance(seconds=1)
            await diary.wait_until_async(  # given up, and what it was told to in its place owed
                lambda rows: (
                    all(r.status not in ("pending", "sending") for r in rows)
                    or any(r.status == "pending" and r.attempts < outbox.MAX_ATTEMPTS - 1 for r in rows)
                )
            )
        async with diary.database.session() as session:
            rows = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.chat_id).in_([900, 901])))).all()
        assert sorted(r.chat_id for r in rows) == [900, 901]  # one notice each, given up: nothing told again


async def test_an_escalation_given_up_as_a_poison_row_for_every_admin_is_told_to_the_others(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An escalation carries no words that could fail again: given up for one admin, the others are told to look at
    the record (it was only logged once notices to admins stopped going round them)."""
    sending_fails_for(monkeypatch, lambda row: row.kind == "escalation")
    async with running_diary(database_url, tmp_path / "files", admin_telegram_ids="900,901") as diary:
        SimulatedUser(diary.standin, 900, "Ada")
        SimulatedUser(diary.standin, 901, "Bea")
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben, "P-0001")
        await ben.send("I want to die")
        await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
        async with diary.database.session() as session:
            patient = await patients.by_code(session=session, code="P-0001")
            assert patient is not None
            alert = await alerts.active(session=session, patient_id=patient.id, rule="crisis_text")
            assert alert is not None
            for admin in (900, 901):
                await outbox.enqueue(
                    session=session,
                    kind="escalation",
                    chat_id=admin,
                    alert_id=alert.id,
                    patient_id=patient.id,
                    now=diary.clock(),
                )
            await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.kind) == "escalation")
                .values(attempts=outbox.MAX_ATTEMPTS - 1, error=outbox.INTERNAL_ERROR, not_before=diary.clock())
            )
        diary.clock.advance(seconds=1)
        await diary.wait_until(
            lambda: all(any("P-0001" in (m.text or "") for m in diary.standin.chat(admin)) for admin in (900, 901))
        )


async def a_photo_whose_header_waits_for_its_retry(diary: Diary) -> SimulatedUser:
    """Ben, enrolled, sends a photo; the "P-0001 sent a photo:" above its copy fails with a 502 and waits
    to be tried again (the reply to Ben, in his own chat, goes as it would)."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    diary.standin.fail_next("sendMessage", 502, "Bad Gateway", chat_id=STAFF_CHAT)
    answered = ben.expect_reply()
    ben.send_photo()
    await answered
    await diary.wait_until_async(lambda rows: any(r.error == "NetworkError" for r in rows))
    return ben


async def test_messages_to_one_chat_keep_their_order_when_one_is_retried(tmp_path: Path, database_url: str) -> None:
    """A send that fails for a moment (a 502, a time-out) is tried again a little later. What was queued
    after it for the same chat waits for it: staff had seen a patient's photo with no name above it, and
    "P-0001 sent a photo:" only afterwards, right above the next patient's photo."""
    async with running_diary(database_url, tmp_path / "files") as diary:
        await a_photo_whose_header_waits_for_its_retry(diary)
        async with diary.database.session() as session:
            query = select(OutboxMessage).where(col(OutboxMessage.chat_id) == STAFF_CHAT)
            header_row, copy_row = (await session.exec(query.order_by(col(OutboxMessage.id)))).all()[-2:]
        # Not a matter of timing: the copy still owed, and nobody may take it before its header.
        assert (header_row.error, copy_row.status) == ("NetworkError", "pending")
        async with diary.database.session() as session:
            assert await outbox.claim_one(session=session, now=diary.clock()) is None
        diary.clock.advance(seconds=5)
        await diary.wait_until(lambda: len(diary.standin.chat(STAFF_CHAT)) == 2)
        header, copy = diary.standin.chat(STAFF_CHAT)
        assert (header.text, copy.kind) == ("P-0001 sent a photo:", "photo")


@SQLITE_ONLY
async def test_a_message_queued_while_an_earlier_one_waits_for_its_retry_keeps_its_place(
    tmp_path: Path, database_url: str
) -> None:
    """The header above Ben's photo fails with a 502 and waits a moment to be tried again; Ben writes
    again meanwhile. His new message was due before the header's retry and went first: staff saw it
    above "P-0001 sent a photo:". Each waits for what was queued before it for the same chat."""
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben = await a_photo_whose_header_waits_for_its_retry(diary)
        answered = ben.expect_reply()
        ben.say("and now my foot is burning too")
        await answered  # the reply to Ben went, in his own chat: the sender ran past the staff chat's rows
        await diary.wait_until_async(lambda rows: sum(r.chat_id == STAFF_CHAT for r in rows) == 3)
        await asyncio.sleep(0.3)
        assert diary.standin.chat(STAFF_CHAT) == [], "nothing goes before the header it waits for"
        diary.clock.advance(seconds=5)
        await diary.wait_until(lambda: len(diary.standin.chat(STAFF_CHAT)) == 3)
        header, copy, words = diary.standin.chat(STAFF_CHAT)
        assert (header.text, copy.kind) == ("P-0001 sent a photo:", "photo")
        assert words.text == "Message from P-0001:\nand now my foot is burning too"


async def every_five_minutes_until(
    diary: Diary, sam: SimulatedUser, failed: Callable[[list[OutboxMessage]], bool], *, minutes: int
) -> None:
    """Time goes on five minutes at a time, a note reaching Sam's chat at each step (other chats' messages
    go through), until `failed` holds of the outbox or `minutes` have passed."""
    for step in range(minutes // 5):
        async with diary.database.session() as session:
            await outbox.enqueue(session=session, kind="staff", chat_id=sam.id, text=f"note {step}", now=diary.clock())
        await sam.wait_for(lambda: any(m.text == f"note {step}" for m in sam.messages))  # noqa: B023
        async with diary.database.session() as session:
            rows = list((await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all())
        if failed(rows):
            return
        await minutes_later(diary)


async def minutes_later(diary: Diary, minutes: int = 5) -> None:
    """The clock moves on five minutes (the longest backoff) or more, and every row waiting for its retry
    is tried again (a try under way, the row taken, is waited for: the next step's clock would otherwise
    pass before its retry was scheduled)."""
    async with diary.database.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending"))).all()
    retrying = {row.id: row.attempts for row in rows if row.attempts}
    diary.clock.advance(minutes=minutes)
    await diary.wait_until_async(
        lambda rows: all(
            r.attempts > retrying[r.id] or r.status not in ("pending", "sending") for r in rows if r.id in retrying
        )
    )


@SQLITE_ONLY
async def test_a_crisis_text_telegram_will_not_deliver_for_an_hour_is_given_up_and_staff_are_told(
    tmp_path: Path, database_url: str
) -> None:
    """Telegram answers 502 to everything for Ben's chat, and to no one else's. His crisis text was tried
    for ever, and all that was owed to him waited behind it, while staff believed he had it. After an
    hour of failing while other messages went through it is given up, and the staff chat gets its words,
    to reach him another way; what came after it for him goes once his chat works again."""
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben, sam = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 800, "Sam")
        await diary.enrol(ben)
        diary.standin.fail_chat(ben.id, 502, "Bad Gateway")
        ben.say("I want to kill myself")
        await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))  # the card goes
        ben.say("and my hand is swollen")
        await diary.inbox_processed(at_least=3)

        def crisis_text(rows: list[OutboxMessage]) -> OutboxMessage:
            return next(r for r in rows if r.chat_id == ben.id and r.priority == 0)

        await every_five_minutes_until(diary, sam, lambda rows: crisis_text(rows).status == "failed", minutes=30)
        async with diary.database.session() as session:
            rows = list((await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all())
        assert crisis_text(rows).status in ("pending", "sending"), "half an hour is not given up"
        await every_five_minutes_until(diary, sam, lambda rows: crisis_text(rows).status == "failed", minutes=60)
        async with diary.database.session() as session:
            rows = list((await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all())
        words = crisis_text(rows).text
        assert crisis_text(rows).status == "failed" and words
        told = (
            "Telegram would not deliver the bot's message to P-0001 for over an hour, while other messages went "
            "through; it was given up so that what follows can go. Please contact them another way. "
            f"The message was:\n{words}"
        )
        await diary.wait_until(lambda: any(m.text == told for m in diary.standin.chat(STAFF_CHAT)))
        diary.standin.heal_chat(ben.id)
        diary.clock.advance(minutes=5)  # past the backoff of what was tried after it
        await ben.wait_for(lambda: any((m.text or "").startswith("I can't give medical advice") for m in ben.messages))
        assert not any(m.text == words for m in ben.messages)


@SQLITE_ONLY
async def test_nothing_is_given_up_while_telegram_fails_for_everyone(tmp_path: Path, database_url: str) -> None:
    """Through an outage (Telegram's, or the clinic's network) every chat fails: two hours of it give up
    nothing, and all arrives when it ends."""
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben, sam = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 800, "Sam")
        async with diary.database.session() as session:
            await outbox.enqueue(session=session, kind="patient", chat_id=ben.id, text="hello Ben", now=diary.clock())
            await outbox.enqueue(session=session, kind="staff", chat_id=sam.id, text="hello Sam", now=diary.clock())
        for user in (ben, sam):
            diary.standin.fail_chat(user.id, 502, "Bad Gateway")
        await diary.wait_until_async(lambda rows: all(r.attempts == 1 for r in rows))
        for _ in range(12):
            await minutes_later(diary, minutes=10)
        await diary.wait_until_async(lambda rows: all(r.attempts >= 12 and r.status == "pending" for r in rows))
        for user in (ben, sam):
            diary.standin.heal_chat(user.id)
        diary.clock.advance(minutes=5)
        await ben.wait_for(lambda: any(m.text == "hello Ben" for m in ben.messages))
        await sam.wait_for(lambda: any(m.text == "hello Sam" for m in sam.messages))


@SQLITE_ONLY
async def test_messages_that_came_while_the_database_was_away_reach_staff_once_it_is_back(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database answers nothing for a while (SQLite locked past its wait, PostgreSQL restarting) as Ben
    writes. He is told something went wrong (or gets the crisis text), and his words were marked handled
    all the same: staff never saw them, a crisis message included. Now they are tried again until the
    database is back, without telling Ben again at each try, and reach staff once. The crisis text he had
    at once is not queued for him again when his message is stored at last."""
    tries: list[str] = []

    async def away(**_: object) -> None:
        tries.append("")
        raise OperationalError("INSERT INTO patientmessage", {}, Exception("database is locked"))

    async with running_diary(database_url, tmp_path / "files") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        monkeypatch.setattr(patient_messages, "add", away)
        reply = await ben.send("my hand is purple")
        assert reply is not None and (reply.text or "").startswith("Sorry, something went wrong")
        crisis_text = await ben.send("I want to kill myself")
        assert crisis_text is not None and not (crisis_text.text or "").startswith("Sorry"), "the crisis text"
        await diary.wait_until(lambda: len(tries) >= 4)  # each tried again while it is away
        monkeypatch.undo()
        forwarded = "Message from P-0001:\nmy hand is purple"
        await diary.wait_until(lambda: any(m.text == forwarded for m in diary.standin.chat(STAFF_CHAT)))
        await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))  # the crisis card
        await diary.inbox_processed()
        await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
        assert [m.text for m in diary.standin.chat(STAFF_CHAT)].count(forwarded) == 1
        assert len([m for m in diary.standin.chat(STAFF_CHAT) if m.photo]) == 1
        assert sum((m.text or "").startswith("Sorry, something went wrong") for m in ben.messages) == 1
        assert [m.text for m in ben.messages].count(crisis_text.text) == 1, "not again once it is stored"


@SQLITE_ONLY
async def test_a_reply_that_came_while_the_database_was_away_is_handled_once_it_is_back(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sam's reply to Ben comes as the database answers nothing: it cannot be stored, and is handled from memory, and
    tried again until the database is back. Stored at last, it was handled once more besides its try: Sam was told
    twice that it is on its way (a check-in's "Saved." came twice so, and a note's "saved"). It is handled once."""
    away, tries, real_send, real_store = [True], [0], Replies.send, inbox.store_new

    def while_away(real: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if away[0]:
                tries[0] += real is real_send
                raise OperationalError("INSERT", {}, Exception("database is locked"))
            return await real(*args, **kwargs)

        return call

    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await sam.press("Reply", message=forwarded)
    prompt = diary.standin.chat(STAFF_CHAT)[-1]
    monkeypatch.setattr(Replies, "send", while_away(real_send))
    monkeypatch.setattr(inbox, "store_new", while_away(real_store))
    handled = len(await diary.inbox_processed())
    sent = calls_to(monkeypatch, Replies, "send")
    sam.say("Yes, one more is fine tonight.", chat_id=STAFF_CHAT, reply_to=prompt)
    await diary.wait_until(lambda: tries[0] >= 1)  # handled from memory: its next try comes a second later
    away[0] = False  # back before that try, and before Telegram gives the reply again
    await diary.wait_until(lambda: bool(sent))
    await asyncio.sleep(1.5)  # both have come by now
    await diary.inbox_processed(at_least=handled + 1)
    await all_sent(diary)
    assert len([m for m in staff_chat(diary) if "on its way to P-0001" in (m.text or "")]) == 1
    assert len(sent) == 1
    assert [m.text for m in ben.messages].count("Your care team: Yes, one more is fine tonight.") == 1


async def test_the_bot_carries_on_when_postgresql_restarts(tmp_path: Path) -> None:
    """The clinic's PostgreSQL is restarted (an update, a failover) while the bot runs and Ben writes. The
    message that came meanwhile reaches staff once the database is back, and so does what he writes
    after: the sender does not stop for good at the first statement that fails."""
    cluster = PostgresCluster()  # its own, to stop and start
    cluster.start()
    try:
        async with running_diary(await cluster.create_database(), tmp_path / "files") as diary:
            ben = SimulatedUser(diary.standin, 301, "Ben")
            await diary.enrol(ben)
            cluster.pause()
            reply = await ben.send("my hand is purple", timeout=60)
            assert reply is not None and (reply.text or "").startswith("Sorry, something went wrong")
            await asyncio.sleep(2)  # the sender looks for work meanwhile, and fails
            cluster.resume()
            forwarded = "Message from P-0001:\nmy hand is purple"
            await diary.wait_until(lambda: any(m.text == forwarded for m in diary.standin.chat(STAFF_CHAT)), 60)
            ben.say("and now it is cold")
            later = "Message from P-0001:\nand now it is cold"
            await diary.wait_until(lambda: any(m.text == later for m in diary.standin.chat(STAFF_CHAT)), 30)
            await diary.inbox_processed()
            assert [m.text for m in diary.standin.chat(STAFF_CHAT)].count(forwarded) == 1
            assert sum((m.text or "").startswith("Sorry, something went wrong") for m in ben.messages) == 1
    finally:
        cluster.stop()


@SQLITE_ONLY
async def test_an_update_another_process_stored_and_died_with_is_handled_by_the_one_running(
    tmp_path: Path, database_url: str
) -> None:
    """Two processes behind one webhook: one stores Ben's message, answers Telegram 200 and dies before
    handling it. It waited for that process to be started again, which may never happen while the other
    runs on; the running one handles it once it has been left a while."""
    async with running_diary(database_url, tmp_path / "files", schedule_tick_seconds=0.25) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        words = "my fingers went white and numb"
        payload = {
            "update_id": 10**6,
            "message": {
                "message_id": 900,
                "date": int(diary.clock().timestamp()),
                "chat": {"id": ben.id, "type": "private"},
                "from": {"id": ben.id, "is_bot": False, "first_name": "Ben"},
                "text": words,
            },
        }
        async with diary.database.session() as session:  # as the process that died left it
            await inbox.store_new(session=session, updates=[(10**6, json.dumps(payload))], now=diary.clock())
        forwarded = f"Message from P-0001:\n{words}"
        diary.clock.advance(seconds=30)
        await asyncio.sleep(0.7)  # the bot's ticks (each quarter second here) look meanwhile
        assert not any(m.text == forwarded for m in diary.standin.chat(STAFF_CHAT)), "maybe in that one's hands"
        diary.clock.advance(minutes=2)
        await diary.wait_until(lambda: any(m.text == forwarded for m in diary.standin.chat(STAFF_CHAT)), 20)
        await diary.inbox_processed(at_least=3)
        assert [m.text for m in diary.standin.chat(STAFF_CHAT)].count(forwarded) == 1


@SQLITE_ONLY
async def test_an_update_another_process_still_tries_after_a_long_outage_is_not_handled_here_too(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes behind one webhook, and the database away for minutes. The other one stored Ben's message before
    the outage and tries it again until the database is back (every 30 s at most); as it came back, this one found it
    stored long ago and unfinished, took it for left by a dead process and handled it too: staff got it twice (a crisis
    message, a second crisis text). Left alone for a minute after this process last met the database away (the other
    tries it every 30 s at most), it is handled here only if still unfinished then."""
    async with running_diary(database_url, tmp_path / "files", schedule_tick_seconds=0.25) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        words = "my fingers went white and numb"
        payload = a_message_of(ben, words, at=diary.clock())
        real, away = inbox.owners, [0]

        async def owners(**kwargs: Any) -> Any:  # the first read of a look for what was left unfinished
            if away[0] >= 0:
                away[0] += 1
                raise OperationalError("SELECT inboxupdate", {}, Exception("database is locked"))
            return await real(**kwargs)

        monkeypatch.setattr("bot.delivery.inbox.inbox.owners", owners)
        async with diary.database.session() as session:  # as the other process stored it, before the outage
            stored_at = diary.clock() - timedelta(minutes=3)
            await inbox.store_new(session=session, updates=[(10**6, json.dumps(payload))], now=stored_at)
        await diary.wait_until(lambda: away[0] >= 1)  # a tick of this process met the database away
        away[0] = -1  # back
        forwarded = f"Message from P-0001:\n{words}"
        await asyncio.sleep(0.7)  # the bot's ticks (each quarter second here) look meanwhile
        assert not any(m.text == forwarded for m in diary.standin.chat(STAFF_CHAT)), "in the other one's hands"
        diary.clock.advance(minutes=1)  # the other one has not handled it since: it died
        await diary.wait_until(lambda: any(m.text == forwarded for m in diary.standin.chat(STAFF_CHAT)), 20)
        await diary.inbox_processed(at_least=3)
        assert [m.text for m in diary.standin.chat(STAFF_CHAT)].count(forwarded) == 1


@SQLITE_ONLY
async def test_a_process_that_starts_leaves_alone_what_a_running_one_still_tries(
    tmp_path: Path, database_url: str
) -> None:
    """Two processes on one database. Sam's reply is queued for Ben, and Telegram fails its confirmation for a moment:
    the running process tries his update again. A second process started meanwhile replayed every update unfinished,
    that one too, and both confirmed it: Sam was told twice that his reply is on its way (so, on another update, a
    patient could get a check-in question twice). A start takes only what a process that ended left."""
    async with restartable(tmp_path / "files") as (clock, standin):
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
            await sam.press("Reply", message=forwarded)
            await diary.inbox_processed()
            standin.fail_chat(STAFF_CHAT, 502, "Bad Gateway")
            sam.say("Yes, one more is fine tonight.", chat_id=STAFF_CHAT)
            tried = lambda: standin.sent("sendMessage", STAFF_CHAT)  # noqa: E731
            await diary.wait_until(lambda: any("on its way" in str(c.params.get("text")) for c in tried()))  # it failed
            async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as other:
                standin.heal_chat(STAFF_CHAT)
                await other.inbox_processed()
                await ben.wait_for(
                    lambda: any(m.text == "Your care team: Yes, one more is fine tonight." for m in ben.messages)
                )
                await asyncio.sleep(1)  # a second confirmation would be here by now
        confirmations = [m for m in standin.chat(STAFF_CHAT) if "on its way to P-0001" in (m.text or "")]
        assert len(confirmations) == 1


def a_message_of(user: SimulatedUser, words: str, *, at: datetime) -> dict[str, Any]:
    """An update of `user`'s message, as Telegram gives it (stored in the inbox by hand, as another process did)."""
    return {
        "update_id": 10**6,
        "message": {
            "message_id": 900,
            "date": int(at.timestamp()),
            "chat": {"id": user.id, "type": "private"},
            "from": {"id": user.id, "is_bot": False, "first_name": user.first_name},
            "text": words,
        },
    }


@SQLITE_ONLY
async def test_one_update_failing_again_and_again_does_not_hold_back_what_a_dead_process_left(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cleo's message failed with a database error of its own (a statement of its own timing out) while the database
    answered, and was tried again every 30 s for the hour until it is set aside. Each failure was taken for the
    database away: what a dead process had left unfinished (Ben's message) waited a minute after the last of them,
    so for that hour it reached no one. Only the inbox's own reads and writes tell the database is away."""
    async with running_diary(
        database_url, tmp_path / "files", schedule_tick_seconds=1, inbox_retry_seconds=0.2
    ) as diary:
        ben, cleo = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 302, "Cleo")
        await diary.enrol(ben)
        await diary.enrol(cleo, "P-0002")
        real, tries = patient_messages.add, [0]

        async def add(**kwargs: Any) -> Any:
            if "statement of its own" in (kwargs.get("text") or ""):
                tries[0] += 1
                raise OperationalError(
                    "INSERT INTO patientmessage", {}, Exception("canceling statement due to timeout")
                )
            return await real(**kwargs)

        monkeypatch.setattr(patient_messages, "add", add)
        monkeypatch.setattr("bot.delivery.inbox.RETRY_AT_MOST", 1.0)  # real seconds here; 30 s in production
        cleo.say("a message with a statement of its own")
        await diary.wait_until(lambda: tries[0] >= 1)
        words = "my fingers went white and numb"
        async with diary.database.session() as session:  # stored by a process that died three minutes ago
            payload = json.dumps(a_message_of(ben, words, at=diary.clock()))
            await inbox.store_new(session=session, updates=[(10**6, payload)], now=diary.clock() - timedelta(minutes=3))
        forwarded = f"Message from P-0001:\n{words}"
        for _ in range(6):  # two minutes, Cleo's message tried again every 20 s
            seen = tries[0]
            diary.clock.advance(seconds=20)
            await diary.wait_until(lambda seen=seen: tries[0] > seen, 60)
            if any(m.text == forwarded for m in diary.standin.chat(STAFF_CHAT)):
                break
        assert any(m.text == forwarded for m in diary.standin.chat(STAFF_CHAT)), f"held back; Cleo's tried {tries[0]}x"


@SQLITE_ONLY
async def test_an_update_that_fails_for_an_hour_while_the_database_answers_is_set_aside_and_admins_told(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A fault of one update's own that the database reports as it reports an outage (SQLite's 'no such
    column', a PostgreSQL statement time-out) was tried every 30 seconds for ever, never marked handled,
    replayed at every start, and no one told. After an hour of it while the database answers, it is set
    aside: marked handled, a warning without the patient's words in the log, and the admins told once.
    The hour runs on across a restart: counted in memory, each start began it again, and an update that
    fails so was tried for ever by a bot restarted more often than hourly (a nightly job, a crash loop)."""
    tries: list[str] = []

    async def faulty(**_: object) -> None:
        tries.append("")
        raise OperationalError("INSERT INTO patientmessage", {}, Exception("no such column: patientmessage.kind"))

    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    try:
        ben, ada = SimulatedUser(standin, 301, "Ben"), SimulatedUser(standin, 900, "Ada")  # an admin
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.enrol(ben)
            monkeypatch.setattr(patient_messages, "add", faulty)
            reply = await ben.send("my hand is purple")
            assert reply is not None and (reply.text or "").startswith("Sorry, something went wrong")
            await diary.wait_until(lambda: len(tries) >= 2)
            clock.advance(minutes=40)
            await diary.wait_until(lambda: len(tries) >= 3)
            async with diary.database.session() as session:
                waiting = (await session.exec(select(InboxUpdate).where(col(InboxUpdate.processed_at).is_(None)))).all()
            assert len(waiting) == 1, "forty minutes are waited out"
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            clock.advance(minutes=21)  # an hour since the first failure, twenty-one minutes since the start
            await ada.wait_for(
                lambda: any("could not be handled for over an hour" in (m.text or "") for m in ada.messages), 30
            )
            await diary.inbox_processed()  # not replayed at the next start
        assert sum("could not be handled for over an hour" in (m.text or "") for m in ada.messages) == 1
        assert sum((m.text or "").startswith("Sorry, something went wrong") for m in ben.messages) == 1
        warned = [r for r in caplog.records if "set aside" in r.getMessage()]
        assert warned and all(r.levelname == "WARNING" and "purple" not in r.getMessage() for r in warned)
    finally:
        await standin.stop()


async def test_a_fault_reading_the_outbox_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """The sender waits and looks again when the outbox cannot be read. The database away says only so;
    a fault of ours (a bug in the query) must leave its traceback, or the sender would loop without a word
    of why."""

    async def away() -> None:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    async def fault() -> None:
        raise KeyError("skip_chats")

    assert await OutboxSender._or_wait(away()) is False
    assert await OutboxSender._or_wait(fault()) is False
    away_record, fault_record = [r for r in caplog.records if "outbox could not be read" in r.getMessage()]
    assert away_record.exc_info is None and away_record.levelname == "WARNING"
    assert fault_record.exc_info is not None and fault_record.exc_info[0] is KeyError


@SQLITE_ONLY
async def test_an_update_handled_while_its_mark_could_not_be_written_is_not_handled_again(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben's /help is answered, but marking it handled fails (the database locked for that moment). The
    tick that looks for what a dead process left took it, two minutes on, for one of those and answered
    it again; it is this process's own, handled, waiting only for its mark."""

    async def locked(**_: object) -> None:
        raise OperationalError("UPDATE inboxupdate", {}, Exception("database is locked"))

    async with running_diary(database_url, tmp_path / "files", schedule_tick_seconds=0.25) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        await diary.inbox_processed()
        monkeypatch.setattr("bot.delivery.inbox.inbox.mark_processed", locked)
        reply = await ben.send("/help")
        assert reply is not None and reply.text is not None
        looked = calls_to(monkeypatch, Inbox, "replay_abandoned")
        diary.clock.advance(minutes=3)
        await diary.wait_until(lambda: len(looked) >= 2)  # the bot's ticks (each quarter second here)
        assert [m.text for m in ben.messages].count(reply.text) == 1
        monkeypatch.undo()
        await diary.inbox_processed()  # a tick marks what waited for its mark
        assert [m.text for m in ben.messages].count(reply.text) == 1


@SQLITE_ONLY
async def test_a_crisis_escalates_while_the_check_ins_of_a_tick_fail(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sending the check-ins due fails at every tick (a fault of one patient's schedule): the tick stopped there, and
    nothing after it in the tick ran, for as long as the fault lasted. Ben's crisis, unacknowledged, never reached
    Ada, the admin; nor did the daily digest reach the staff chat. Each part of the tick runs whatever the others do."""

    async def faulty(*_: object, **__: object) -> None:
        raise ValueError("a schedule's times do not read")

    async with running_diary(database_url, tmp_path / "files", schedule_tick_seconds=1) as diary:
        ben, ada = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 900, "Ada")
        await diary.enrol(ben)
        monkeypatch.setattr(Scheduler, "dispatch_due", faulty)
        await ben.send("Honestly I want to die")
        await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))
        diary.clock.advance(minutes=16)
        await ada.wait_for(lambda: any((m.text or "").startswith("Not acknowledged for") for m in ada.messages))


@SQLITE_ONLY
async def test_what_is_owed_to_a_former_staff_chat_reaches_the_staff_chat(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clinic moves its staff chat: STAFF_CHAT_ID changed at a restart, or an admin names another
    group while a card is on its way to the old one and removes the bot from the old group. What was owed
    to the old group went there, where staff no longer look, or (the bot gone) was marked blocked and
    dropped, a crisis card as well. It goes to the staff chat now."""
    old, new = -100600, -100700
    database = Database(database_url)
    await migrate.upgrade(database)
    async with database.session() as session:  # queued while the old group was the staff chat
        await outbox.enqueue(session=session, kind="staff", chat_id=old, text="owed to the old group", now=START)
        await outbox.enqueue(session=session, kind="staff", chat_id=900, text="to Ada herself", now=START)
    await database.dispose()
    real_send = OutboxSender._send

    async def moved_meanwhile(self: OutboxSender, row: OutboxMessage) -> int | None:
        if row.text == "in flight" and row.chat_id == STAFF_CHAT:
            await self.staff_chat.choose(chat_id=new, actor_id=900, now=self.clock())
            raise Forbidden("Forbidden: bot was kicked from the group chat")
        return await real_send(self, row)

    monkeypatch.setattr(OutboxSender, "_send", moved_meanwhile)
    async with running_diary(database_url, tmp_path / "files") as diary:
        ada = SimulatedUser(diary.standin, 900, "Ada")
        await diary.wait_until(lambda: any(m.text == "owed to the old group" for m in diary.standin.chat(STAFF_CHAT)))
        await ada.wait_for(lambda: any(m.text == "to Ada herself" for m in ada.messages))
        async with diary.database.session() as session:
            await outbox.enqueue(session=session, kind="staff", chat_id=STAFF_CHAT, text="in flight", now=diary.clock())
        await diary.wait_until(lambda: any(m.text == "in flight" for m in diary.standin.chat(new)))
        assert diary.standin.chat(old) == []
        await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))


class LockedAt:
    """SQLite answers 'database is locked' at the n-th statement of the first try of the update that
    carries a chosen text (`plan`: text -> n); `counts` is how many statements each such handling ran."""

    def __init__(self, plan: dict[str, int]) -> None:
        self.plan = plan
        self.counts: dict[str, int] = {}
        self.failed: set[str] = set()
        self.handling: contextvars.ContextVar[str | None] = contextvars.ContextVar("handling", default=None)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = Application.process_update

        async def process_update(application: Application, update: object) -> None:  # type: ignore[type-arg]
            text = update.effective_message.text if isinstance(update, Update) and update.effective_message else None
            token = self.handling.set(text if text in self.plan and text not in self.counts else None)
            try:
                await real(application, update)
            finally:
                self.handling.reset(token)

        monkeypatch.setattr(Application, "process_update", process_update)
        event.listen(Engine, "before_cursor_execute", self._statement)

    def remove(self) -> None:
        if event.contains(Engine, "before_cursor_execute", self._statement):
            event.remove(Engine, "before_cursor_execute", self._statement)

    def _statement(self, *_: object) -> None:
        text = self.handling.get()
        if text is None or text in self.failed:
            return
        self.counts[text] = self.counts.get(text, 0) + 1
        if self.counts[text] == self.plan[text]:
            self.failed.add(text)
            raise sqlite3.OperationalError("database is locked")


@pytest.fixture
def locked_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, int]], LockedAt]]:
    """Installs LockedAt plans; each is removed at the end even when the test fails (its listener is on
    every engine of the process, and would lock the next test's statements)."""
    made: list[LockedAt] = []

    def install(plan: dict[str, int]) -> LockedAt:
        locked = LockedAt(plan)
        locked.install(monkeypatch)
        made.append(locked)
        return locked

    yield install
    for locked in made:
        locked.remove()


@SQLITE_ONLY
async def test_messages_and_replies_arrive_once_whichever_statement_finds_the_database_locked(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    locked_at: Callable[[dict[str, int]], LockedAt],
) -> None:
    """SQLite locked past its wait at one statement of a handling, each statement in turn: of a patient's
    message (one patient each), then of a staff reply to each. Every message reaches staff once, its
    patient is told once, and every reply reaches its patient once, with Sam told once it is on its way."""
    monkeypatch.setattr("bot.delivery.inbox.RETRY_AT_MOST", 0.1)  # Sam's replies wait, in order, for each retry
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben, sam = SimulatedUser(diary.standin, 300, "Ben"), SimulatedUser(diary.standin, STAFF, "Sam")
        async with diary.database.session() as session:
            await staff.add(session=session, telegram_user_id=STAFF, role="staff", now=diary.clock())
        await diary.enrol(ben, "P-0000")
        probe = locked_at({"my hand is purple": 10**6, "Take one tablet": 10**6})
        await ben.send("my hand is purple")
        await diary.wait_until(lambda: any(m.buttons for m in diary.standin.chat(STAFF_CHAT)))
        await sam.send("Take one tablet", chat_id=STAFF_CHAT, reply_to=diary.standin.chat(STAFF_CHAT)[-1])
        probe.remove()
        statements = max(probe.counts.values())
        patients = [SimulatedUser(diary.standin, 301 + n, f"P{n}") for n in range(statements)]
        for n, patient in enumerate(patients):
            await diary.enrol(patient, f"P-{n + 1:04d}")
        words = [f"my hand is purple ({n + 1})" for n in range(statements)]
        locked = locked_at({text: n + 1 for n, text in enumerate(words) if n < probe.counts["my hand is purple"]})
        for patient, text in zip(patients, words, strict=True):
            patient.say(text)
        forwarded = [f"Message from P-{n + 1:04d}:\n{text}" for n, text in enumerate(words)]
        await diary.wait_until(
            lambda: all(any(m.text == text for m in diary.standin.chat(STAFF_CHAT)) for text in forwarded), 20
        )
        locked.remove()
        assert locked.failed == set(locked.plan), "each statement failed once"
        replies = [f"Take one tablet ({n + 1})" for n in range(probe.counts["Take one tablet"])]
        locked = locked_at({text: n + 1 for n, text in enumerate(replies)})
        for text, patient_words in zip(replies, forwarded, strict=False):
            message = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == patient_words)
            sam.say(text, chat_id=STAFF_CHAT, reply_to=message)
        for patient, text in zip(patients, replies, strict=False):
            await patient.wait_for(lambda: any(m.text == f"Your care team: {text}" for m in patient.messages), 20)  # noqa: B023
        await diary.inbox_processed()
        await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
        locked.remove()
        assert locked.failed == set(locked.plan), "each statement failed once"
        texts = [m.text for m in diary.standin.chat(STAFF_CHAT)]
        for n, patient in enumerate(patients):
            assert texts.count(forwarded[n]) == 1
            said = [m.text or "" for m in patient.messages]
            assert sum(t.startswith("I can't give medical advice") for t in said) == 1, n + 1
            assert sum(t.startswith("Sorry, something went wrong") for t in said) <= 1, n + 1
            if n < len(replies):
                assert said.count(f"Your care team: {replies[n]}") == 1, n + 1
                assert texts.count(f"Your reply is on its way to P-{n + 1:04d}.") == 1, n + 1


async def ben_asks_sam(diary: Diary, words: str) -> tuple[SimulatedUser, SimulatedUser, ChatMessage]:
    """Ben, enrolled, and Sam, staff, and Ben's `words` as they reached Sam (the staff chat, here)."""
    ben, sam = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, STAFF, "Sam")
    async with diary.database.session() as session:
        await staff.add(session=session, telegram_user_id=STAFF, role="staff", now=diary.clock())
    await diary.enrol(ben)
    await ben.send(words)
    await diary.wait_until(lambda: any(m.buttons for m in diary.standin.chat(STAFF_CHAT)))
    return ben, sam, diary.standin.chat(STAFF_CHAT)[-1]


@SQLITE_ONLY
async def test_a_reply_tried_again_after_the_database_was_locked_keeps_its_place(
    tmp_path: Path, database_url: str, locked_at: Callable[[dict[str, int]], LockedAt]
) -> None:
    """Sam writes to Ben "Take two tablets tonight.", then at once "Sorry: one tablet, not two.". The first
    met the database locked and was tried again a second later, after the second had gone: Ben read the
    correction first and the dose it corrects last. What a chat sends after an update waiting for its
    retry waits for it, as a patient's messages to staff do."""
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben, sam, forwarded = await ben_asks_sam(diary, "How many tablets tonight?")
        first, second = "Take two tablets tonight.", "Sorry: one tablet, not two."
        locked = locked_at({first: 1})
        sam.say(first, chat_id=STAFF_CHAT, reply_to=forwarded)
        sam.say(second, chat_id=STAFF_CHAT, reply_to=forwarded)
        await ben.wait_for(lambda: sum((m.text or "").startswith("Your care team:") for m in ben.messages) == 2)
        locked.remove()
        assert locked.failed == {first}
        said = [m.text for m in ben.messages if (m.text or "").startswith("Your care team:")]
        assert said == [f"Your care team: {first}", f"Your care team: {second}"]
        ben.say("and my hand is cold")  # a patient's chat is not held by a staff chat's retry
        await diary.wait_until(lambda: any("my hand is cold" in (m.text or "") for m in diary.standin.chat(STAFF_CHAT)))


@SQLITE_ONLY
async def test_the_parts_of_a_reply_tried_again_through_an_outage_keep_their_order(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sam pastes a leaflet of 5,000 characters as a reply to Ben's message: Telegram's app sends it as two
    messages, and only the first answers Ben's. The database was away for both (a restart of PostgreSQL): the
    first failed at its try and at its retry a second later, the second at its first try, just after. Each
    was tried again on its own clock, the second (its first retry, a second on) before the first (its second,
    two seconds on): the rest, answering nothing and with no reply begun, went to no one, and Ben had half.
    A chat's updates tried again go in the order they came."""
    real_relay = staff_replies.relay
    failing: dict[str | None, int] = {}

    async def away_for_a_while(update: Update, context: Any) -> bool:
        message = update.effective_message
        words = message.text if message is not None else None
        if failing.get(words, 0) > 0:
            failing[words] -= 1
            raise OperationalError("SELECT staffreplypending", {}, Exception("database is locked"))
        return await real_relay(update, context)

    monkeypatch.setattr(staff_replies, "relay", away_for_a_while)
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben, sam, forwarded = await ben_asks_sam(diary, "What does the leaflet say?")
        leaflet = "Take one tablet with food, and no more than four in a day. " * 85 + "Call us if it gets worse."
        first, second = split(leaflet, TEXT_LIMIT)
        failing.update({first: 2, second: 1})
        handled = len(await diary.inbox_processed())
        sam.say(first, chat_id=STAFF_CHAT, reply_to=forwarded)
        sam.say(second, chat_id=STAFF_CHAT)
        await diary.inbox_processed(at_least=handled + 2)
        await all_sent(diary)
        assert failing == {first: 0, second: 0}
        assert reply_to(ben) == leaflet, "the whole reply, in order"
        assert not any("Clinic staff commands" in (m.text or "") for m in sam.messages)


@SQLITE_ONLY
async def test_a_card_in_flight_when_the_staff_chat_became_a_supergroup_arrives_there(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staff group becomes a supergroup while Ben's crisis card is on its way to it. Telegram's word
    of the move was handled first (the staff chat followed it), then the card's send was refused for the
    old group: it was marked failed, as for a group that is not the staff chat, and staff never saw it."""
    group, supergroup = -4001, -1004001
    real_send = OutboxSender._send

    async def moved_meanwhile(self: OutboxSender, row: OutboxMessage) -> int | None:
        if row.chat_id == group and row.kind == "alert":
            await self.staff_chat.migrated(old=group, new=supergroup, now=self.clock())
        return await real_send(self, row)

    monkeypatch.setattr(OutboxSender, "_send", moved_meanwhile)
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=group) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        diary.standin.add_group(group, "Clinic staff")
        diary.standin.add_group(supergroup, "Clinic staff", chat_type="supergroup")
        diary.standin.migrated[group] = supergroup
        ben.say("I want to kill myself")
        await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(supergroup)))
        await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))


@SQLITE_ONLY
async def test_a_message_sent_while_the_database_is_locked_for_a_moment_is_not_sent_again(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram took the crisis text and the card, then writing down that they were sent met SQLite locked
    past its wait: the text's row stayed 'sending' until its lease ran out and Ben got it again, and the
    card, its message not noted, was sent again at once. Each record is written again a moment later."""
    locked: list[str] = []

    def locked_once(real: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        async def write(**kwargs: object) -> None:
            if real.__name__ not in locked:
                locked.append(real.__name__)
                raise OperationalError("UPDATE", {}, Exception("database is locked"))
            await real(**kwargs)

        return write

    async with running_diary(database_url, tmp_path / "files", outbox_lease_seconds=1) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        monkeypatch.setattr(outbox, "finish", locked_once(outbox.finish))
        monkeypatch.setattr(alerts, "set_card", locked_once(alerts.set_card))
        crisis_text = await ben.send("I want to kill myself")
        assert crisis_text is not None
        await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
        looked = calls_to(monkeypatch, OutboxSender, "_recover")
        diary.clock.advance(seconds=3)  # past the lease
        await diary.wait_until(lambda: len(looked) >= 2)  # the sender looks for rows left behind
        assert sorted(locked) == ["finish", "set_card"]
        assert [m.text for m in ben.messages].count(crisis_text.text) == 1
        assert len([m for m in diary.standin.chat(STAFF_CHAT) if m.photo]) == 1


@SQLITE_ONLY
async def test_a_message_sent_as_the_database_goes_away_for_longer_is_not_sent_again(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram took the crisis text, then the database was away for longer than a moment (PostgreSQL restarting):
    writing down that it was sent was tried for four seconds, then left to the row's lease, and once that ran out
    Ben got the crisis text again. The row stays in hand, and is written down once the database is back."""
    async with running_diary(database_url, tmp_path / "files", outbox_lease_seconds=1) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        real, away = outbox.finish, [6]  # six tries of the crisis text's record: about six seconds

        async def finish(**kwargs: Any) -> bool:
            if away[0] > 0 and kwargs["chat_id"] == ben.id:
                away[0] -= 1
                raise OperationalError("UPDATE", {}, Exception("database is locked"))
            return await real(**kwargs)

        monkeypatch.setattr(outbox, "finish", finish)
        crisis_text = await ben.send("I want to kill myself")
        assert crisis_text is not None
        await diary.wait_until(lambda: away[0] == 0)
        await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
        looked = calls_to(monkeypatch, OutboxSender, "_recover")
        diary.clock.advance(seconds=3)  # past the lease
        await diary.wait_until(lambda: len(looked) >= 2)  # the sender looks for rows left behind
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
        assert [m.text for m in ben.messages].count(crisis_text.text) == 1
        assert len([m for m in diary.standin.chat(STAFF_CHAT) if m.photo]) == 1


@SQLITE_ONLY
async def test_a_slow_send_keeps_its_lease_so_another_process_does_not_send_it_again(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes on one database. Telegram takes longer than the lease to answer one send: the other
    process took the row for one a dead process had left and sent it as well. A running process keeps the
    lease of what it is sending."""
    real_send = OutboxSender._send
    answer = asyncio.Event()

    async def slow(self: OutboxSender, row: OutboxMessage) -> int | None:
        if row.text == "slow":
            await answer.wait()
        return await real_send(self, row)

    monkeypatch.setattr(OutboxSender, "_send", slow)
    async with running_diary(database_url, tmp_path / "files", outbox_lease_seconds=2) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        async with diary.database.session() as session:
            await outbox.enqueue(session=session, kind="patient", chat_id=ben.id, text="slow", now=diary.clock())
        await diary.wait_until_async(lambda rows: rows[0].status == "sending")
        diary.clock.advance(seconds=3)  # past the lease of its claim
        now = diary.clock()
        # The sender renews what it has in hand meanwhile (without it this would time out).
        await diary.wait_until_async(lambda rows: rows[0].claimed_at is not None and rows[0].claimed_at >= now)
        async with diary.database.session() as session:  # the other process looks for rows left behind
            taken, given_up = await outbox.recover_stale(session=session, now=diary.clock(), lease=timedelta(seconds=2))
        answer.set()
        await ben.wait_for(lambda: any(m.text == "slow" for m in ben.messages))
        assert taken == 0 and not given_up


@SQLITE_ONLY
async def test_a_message_sent_as_the_database_went_away_for_longer_than_its_lease_is_not_sent_again_by_another_process(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes on one database. Telegram takes a staff reply for Ben from one, and the database goes away for
    longer than the lease (PostgreSQL restarting). Back, the other process looked for rows left behind a moment
    before the first wrote down its send: it took the reply for one a dead process had left, and Ben got it twice.
    A process that saw the database away gives the others a lease to write down what they have in hand."""
    away, late, failed = [False], [False], [0]
    real = {name: getattr(outbox, name) for name in ("claim_one", "recover_stale", "renew", "finish")}

    def while_away(name: str) -> Callable[..., Awaitable[Any]]:
        async def call(**kwargs: Any) -> Any:
            # The sending process's writes come back last: it renews its leases a third of a lease apart.
            if away[0] or (late[0] and name in ("renew", "finish")):
                failed[0] += 1
                raise OperationalError(name, {}, Exception("database is locked"))
            return await real[name](**kwargs)

        return call

    for name in real:
        monkeypatch.setattr(outbox, name, while_away(name))

    async def goes_away() -> None:
        away[0] = late[0] = True

    reply = "Your care team: Take one tablet tonight."
    async with restartable(tmp_path / "files") as (clock, standin):
        ben = SimulatedUser(standin, 301, "Ben")
        settings = {"clock": clock, "standin": standin, "outbox_lease_seconds": 2}
        async with (
            running_diary(database_url, tmp_path / "files", **settings) as diary,
            running_diary(database_url, tmp_path / "files", **settings),
        ):
            standin.meanwhile(ben.id, goes_away)  # as Telegram takes it
            async with diary.database.session() as session:
                await outbox.enqueue(session=session, kind="patient", chat_id=ben.id, text=reply, now=clock())
            await ben.wait_for(lambda: any(m.text == reply for m in ben.messages))
            clock.advance(seconds=3)  # past the lease of its claim, while the database is away
            seen = failed[0]
            await diary.wait_until(lambda: failed[0] >= seen + 4)  # both processes meet it away
            away[0] = False
            looked = calls_to(monkeypatch, OutboxSender, "_claim")
            await diary.wait_until(lambda: len(looked) >= 20)  # each process goes round its loop, looking
            late[0] = False
            await diary.wait_until_async(lambda rows: rows[0].status == "sent")
            clock.advance(seconds=3)
            recovered = calls_to(monkeypatch, OutboxSender, "_recover")
            await diary.wait_until(lambda: len(recovered) >= 4)
            await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
        assert [m.text for m in ben.messages].count(reply) == 1


@SQLITE_ONLY
async def test_a_message_sent_as_the_database_went_away_is_not_sent_again_by_a_process_that_starts_as_it_is_back(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, but the second process starts as the database comes back: it never met the database away, took the
    reply the first had sent (its lease run out meanwhile, its sending not yet written down) for left by a dead
    process, and Ben got it twice. A row a running process took is left to it, whatever its lease."""
    away, late, failed = [False], [False], [0]
    real = {name: getattr(outbox, name) for name in ("claim_one", "recover_stale", "renew", "finish")}

    def while_away(name: str) -> Callable[..., Awaitable[Any]]:
        async def call(**kwargs: Any) -> Any:
            if away[0] or (late[0] and name in ("renew", "finish")):  # the first process's writes come back last
                failed[0] += 1
                raise OperationalError(name, {}, Exception("database is locked"))
            return await real[name](**kwargs)

        return call

    for name in real:
        monkeypatch.setattr(outbox, name, while_away(name))

    async def goes_away() -> None:
        away[0] = late[0] = True

    reply = "Your care team: Take one tablet tonight."
    async with restartable(tmp_path / "files") as (clock, standin):
        ben = SimulatedUser(standin, 301, "Ben")
        settings = {"clock": clock, "standin": standin, "outbox_lease_seconds": 2}
        async with running_diary(database_url, tmp_path / "files", **settings) as diary:
            standin.meanwhile(ben.id, goes_away)  # as Telegram takes it
            async with diary.database.session() as session:
                await outbox.enqueue(session=session, kind="patient", chat_id=ben.id, text=reply, now=clock())
            await ben.wait_for(lambda: any(m.text == reply for m in ben.messages))
            clock.advance(seconds=3)  # past the lease of its claim, while the database is away
            seen = failed[0]
            await diary.wait_until(lambda: failed[0] >= seen + 2)
            away[0] = False
            async with running_diary(database_url, tmp_path / "files", **settings):
                recovered = calls_to(monkeypatch, OutboxSender, "_recover")
                await diary.wait_until(lambda: len(recovered) >= 2)  # the new process looked for rows left behind
                late[0] = False
                await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
        assert [m.text for m in ben.messages].count(reply) == 1


@pytest.mark.migrated
async def test_rows_a_running_process_took_are_not_taken_for_left_behind_whatever_their_lease(
    database_url: str,
) -> None:
    """Storage: a row names the process whose sender took it; one a running process took stays `sending` past its
    lease, one an ended process (or one before names were kept) took is owed again."""
    database = Database(database_url)
    try:
        async with database.session() as session:
            for chat, text, owner in [
                (301, "running", "a|1|1|run"),
                (302, "ended", "a|2|2|end"),
                (303, "before", None),
            ]:
                await outbox.enqueue(session=session, kind="patient", chat_id=chat, text=text, now=START)
                row = await outbox.claim_one(session=session, now=START, owner=owner)
                assert row is not None and row.claimed_by == owner
            assert await outbox.claimants(session=session) == {"a|1|1|run", "a|2|2|end"}
            later = START + timedelta(minutes=5)
            taken, _ = await outbox.recover_stale(
                session=session, now=later, lease=timedelta(seconds=30), running=["a|1|1|run"]
            )
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        assert taken == 2
        assert [(r.text, r.status) for r in rows] == [
            ("running", "sending"),
            ("ended", "pending"),
            ("before", "pending"),
        ]
    finally:
        await database.dispose()


@SQLITE_ONLY
async def test_a_fault_while_deciding_to_set_an_update_aside_does_not_silence_its_chat(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben's first message fails (a fault of its own) and so does the look at how long it has failed (a bug
    there). What he writes next waited behind it for good: nothing of his reached staff, a crisis message
    included, until a restart. Now the first is tried again, and what follows goes meanwhile."""
    real_add = patient_messages.add

    async def faulty_for_the_first(**values: Any) -> Any:
        if values.get("text") == "my hand is purple":
            raise OperationalError("INSERT INTO patientmessage", {}, Exception("no such column: patientmessage.kind"))
        return await real_add(**values)

    async def broken(**_: object) -> None:
        raise KeyError("failing_since")

    async with running_diary(database_url, tmp_path / "files") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        monkeypatch.setattr(patient_messages, "add", faulty_for_the_first)
        monkeypatch.setattr(inbox, "failing_since", broken)
        ben.say("my hand is purple")
        ben.say("I want to kill myself")
        await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))


def calls_to(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[None]:
    """Each finished call of the method from now on: a test that checks nothing happened waits for the
    look that could have made it happen, rather than sleeping and hoping the look came."""
    calls: list[None] = []
    real = getattr(owner, name)

    async def counted(*args: Any, **kwargs: Any) -> Any:
        result = await real(*args, **kwargs)
        calls.append(None)
        return result

    monkeypatch.setattr(owner, name, counted)
    return calls


def away_for(tries: list[str]) -> Callable[..., Awaitable[None]]:
    """patient_messages.add as the database answers it while away (SQLite locked past its wait): each try
    is counted in `tries`."""

    async def away(**_: object) -> None:
        tries.append("")
        raise OperationalError("INSERT INTO patientmessage", {}, Exception("database is locked"))

    return away


@contextlib.asynccontextmanager
async def restartable(files: Path) -> AsyncIterator[tuple[Clock, BotApiStandIn]]:
    """A clock and a stand-in that outlive a `running_diary` block: the bot restarted where it stopped."""
    clock = Clock()
    standin = BotApiStandIn(files_dir=files, clock=clock)
    await standin.start()
    try:
        yield clock, standin
    finally:
        await standin.stop()


async def crisis_message_stored(diary: Diary) -> None:
    """Until the crisis message is stored and all that it owes has gone: its card is in the staff chat."""
    await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))
    await diary.inbox_processed()
    await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))


def crisis_texts(user: SimulatedUser) -> int:
    return sum("Thank you for telling us" in (m.text or "") for m in user.messages)


@SQLITE_ONLY
async def test_a_follow_up_stored_before_the_crisis_it_follows_up_is_a_crisis_card_of_its_own(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two crisis messages in the backlog of an outage: "I want to overdose" cannot be stored for a while (it gets the
    crisis text at once, from memory), and "already took them", typed next, is stored first, when no crisis was
    there to follow up: an ordinary message. Once the crisis is stored, the follow-up is a crisis card of its own
    with its crisis text, not news that staff never see as urgent."""
    real_add = patient_messages.add
    tries: list[str] = []

    async def away_for_the_crisis(**values: Any) -> int | None:
        if values.get("text") == "I want to overdose":
            tries.append("")
            raise OperationalError("INSERT INTO patientmessage", {}, Exception("database is locked"))
        return await real_add(**values)

    async with running_diary(database_url, tmp_path / "files") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        monkeypatch.setattr(patient_messages, "add", away_for_the_crisis)
        ben.say("I want to overdose")
        await ben.wait_for(lambda: crisis_texts(ben) == 1)
        diary.clock.advance(minutes=2)
        reply = await ben.send("already took them")
        assert reply is not None and (reply.text or "").startswith("I can't give medical advice"), "nothing before it"
        monkeypatch.undo()
        await diary.wait_until(lambda: len([m for m in diary.standin.chat(STAFF_CHAT) if m.photo]) == 2)
        await diary.inbox_processed()
        await all_sent(diary)
        first, second = [m for m in diary.standin.chat(STAFF_CHAT) if m.photo]
        assert "already took them" not in (first.caption or "")
        assert "I want to overdose\nalready took them" in (second.caption or "")
        assert crisis_texts(ben) == 2, "the follow-up's own crisis text; the first's not again"


@SQLITE_ONLY
@pytest.mark.parametrize("refused", [False, True], ids=["sent", "refused"])
async def test_a_crisis_text_goes_once_and_on_time_across_a_restart(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, refused: bool
) -> None:
    """Ben's crisis message cannot be stored for a while, and he gets the crisis text at once, from memory;
    the bot is restarted before a try stores the message. Sent: the next process stored it and queued the
    crisis text again, for it did not know the first had gone. Refused by Telegram (a 502): the replayed
    update had failed before, so its failure was taken for a retry, which says nothing, and the crisis
    text waited for the database to store his message. That it went is kept in the update's row."""
    tries: list[str] = []
    async with restartable(tmp_path / "files") as (clock, standin):
        ben = SimulatedUser(standin, 301, "Ben")
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.enrol(ben)
            monkeypatch.setattr(patient_messages, "add", away_for(tries))
            if refused:
                standin.fail_chat(ben.id, 502, "Bad Gateway")
            ben.say("I want to kill myself")
            await diary.wait_until(lambda: len(tries) >= 2)  # tried again: how the first try went is written
            assert crisis_texts(ben) == (0 if refused else 1)
        standin.heal_chat(ben.id)
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await ben.wait_for(lambda: crisis_texts(ben) == 1, 20)  # the message still cannot be stored
            monkeypatch.undo()
            await crisis_message_stored(diary)
        assert crisis_texts(ben) == 1


@SQLITE_ONLY
async def test_a_crisis_text_telegram_refused_at_once_goes_at_the_next_try(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two faults at once: Ben's crisis message cannot be stored, and Telegram refuses the crisis text sent
    at once (a 502). The tries after that said nothing to him, so he got it only when the database let his
    message be stored. Now each try sends it until it has gone; once."""
    tries: list[str] = []
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        monkeypatch.setattr(patient_messages, "add", away_for(tries))
        diary.standin.fail_chat(ben.id, 502, "Bad Gateway")
        ben.say("I want to kill myself")
        await diary.wait_until(lambda: len(tries) >= 2)  # the error handler's send was refused at the first
        assert crisis_texts(ben) == 0
        diary.standin.heal_chat(ben.id)
        await ben.wait_for(lambda: crisis_texts(ben) == 1, 20)
        monkeypatch.undo()
        await crisis_message_stored(diary)
        assert crisis_texts(ben) == 1


@SQLITE_ONLY
@pytest.mark.parametrize(
    "refusal", [(403, "Forbidden: bot was blocked by the user"), (400, "Bad Request: chat not found")]
)
async def test_an_escalation_an_admins_chat_refuses_goes_to_the_staff_chat(
    diary: Diary, refusal: tuple[int, str]
) -> None:
    """Ada, the clinic's only admin, blocked the bot, or never opened a chat with it, or her account is gone:
    the escalation of Ben's unacknowledged crisis was marked blocked (or failed) and reached no one, at each
    step. It goes to the staff chat instead, once."""
    ada = SimulatedUser(diary.standin, 900, "Ada")  # ADMIN_TELEGRAM_IDS in the test settings
    ben = SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ben)
    diary.standin.fail_chat(ada.id, *refusal)
    await ben.send("Honestly I want to die")
    await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))

    def escalations() -> list[str]:
        return [m.text or "" for m in diary.standin.chat(STAFF_CHAT) if (m.text or "").startswith("Not acknowledged")]

    desk = AlertDesk.for_settings(diary.database, diary.settings)
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(desk, now=diary.clock()) == 1
    await diary.wait_until(lambda: len(escalations()) == 1)
    await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
    assert len(escalations()) == 1 and not ada.messages


@pytest.mark.parametrize(
    "refusal", [(403, "Forbidden: bot can't initiate conversation with a user"), (400, "Bad Request: chat not found")]
)
async def test_an_urgent_word_to_the_admins_an_admins_chat_refuses_goes_to_the_staff_chat(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, refusal: tuple[int, str]
) -> None:
    """Ben's words of crisis meet a fault of the diary's own as they are stored: no card is made, and the admins are
    told to contact him. Ada, the clinic's only admin, never opened a chat with the bot (or blocked it, or her account
    is gone): the word was marked blocked and reached no one, and no one heard of Ben. It goes to the staff chat
    instead, once."""
    ada, ben = SimulatedUser(diary.standin, 900, "Ada"), SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ben)
    await all_sent(diary)
    diary.standin.fail_chat(ada.id, *refusal)

    async def failing(**_: object) -> None:
        raise RuntimeError("the message could not be stored")

    monkeypatch.setattr(patient_messages, "add", failing)
    ben.say("I want to kill myself")
    told = "P-0001 wrote words of suicide or self-harm"
    await diary.wait_until(lambda: any(told in (m.text or "") for m in diary.standin.chat(STAFF_CHAT)))
    await diary.inbox_processed()
    await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
    assert [told in (m.text or "") for m in diary.standin.chat(STAFF_CHAT)].count(True) == 1
    assert not ada.messages


@SQLITE_ONLY
async def test_an_urgent_word_to_the_admins_of_a_clinic_with_none_goes_to_the_staff_chat(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No admin is named (the team is run from the command line): Ben's words of crisis, which a fault of the diary's
    own kept from being stored, were told to no one, as no card was made. The staff chat is told, as an escalation
    with no admin goes there."""
    async with running_diary(database_url, tmp_path / "files", admin_telegram_ids="") as diary:
        ben = SimulatedUser(diary.standin, 302, "Ben")
        await diary.enrol(ben)
        await all_sent(diary)

        async def failing(**_: object) -> None:
            raise RuntimeError("the message could not be stored")

        monkeypatch.setattr(patient_messages, "add", failing)
        ben.say("I want to kill myself")
        told = "P-0001 wrote words of suicide or self-harm"
        await diary.wait_until(lambda: any(told in (m.text or "") for m in diary.standin.chat(STAFF_CHAT)))
        await diary.inbox_processed()
        await all_sent(diary)
        assert [told in (m.text or "") for m in diary.standin.chat(STAFF_CHAT)].count(True) == 1


async def test_an_escalation_refused_as_its_patient_is_erased_is_owed_to_no_one(
    diary: Diary, caplog: pytest.LogCaptureFixture
) -> None:
    """Ben erases his diary while Ada's chat refuses his crisis's escalation: there is no alert left to
    escalate in the staff chat. The sender failed on the alert that was gone (its message left 'sending',
    an error out of its task); nothing is owed, and what comes next is sent."""
    ada = SimulatedUser(diary.standin, 900, "Ada")  # ADMIN_TELEGRAM_IDS in the test settings
    ben = SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ben)
    diary.standin.fail_chat(ada.id, 403, "Forbidden: bot was blocked by the user")
    await ben.send("Honestly I want to die")
    await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))
    async with diary.database.session() as session:
        patient = await patients.by_telegram_user(session=session, telegram_user_id=ben.id)
    assert patient is not None and patient.id is not None

    async def erased() -> None:
        assert patient.id is not None
        await diary.erase(patient.id, ben.id)

    diary.standin.meanwhile(ada.id, erased)
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock()) == 1
    await diary.wait_until(lambda: any(m.text == "P-0001 erased" for m in diary.standin.chat(STAFF_CHAT)))
    await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
    assert not any((m.text or "").startswith("Not acknowledged") for m in diary.standin.chat(STAFF_CHAT))
    gc.collect()  # a task that died of an error says so when it is collected
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "asyncio"]


def deliveries(monkeypatch: pytest.MonkeyPatch) -> list[OutboxMessage]:
    """Each row whose delivery has ended from now on, however it ended: a test waits for the one it races."""
    ended: list[OutboxMessage] = []
    real = OutboxSender._deliver

    async def deliver(self: OutboxSender, row: OutboxMessage) -> None:
        try:
            await real(self, row)
        finally:
            ended.append(row)

    monkeypatch.setattr(OutboxSender, "_deliver", deliver)
    return ended


async def test_a_message_about_a_patient_sent_to_staff_as_they_are_erased_is_written_down(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Ben's question is on its way to the staff chat as he erases his diary. Telegram took it; noting that
    the message in the staff chat is about Ben (for a reply to it) failed on Ben's record, gone: an error out
    of the sender's task. The message is sent and there is no one to note."""
    ben = SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ben)
    async with diary.database.session() as session:
        patient = await patients.by_telegram_user(session=session, telegram_user_id=ben.id)
    assert patient is not None and patient.id is not None

    async def erased() -> None:
        assert patient.id is not None
        assert await diary.erase(patient.id, ben.id)

    ended = deliveries(monkeypatch)
    diary.standin.meanwhile(STAFF_CHAT, erased)
    # The reply to Ben may be gone with his diary before it is sent: which of two chats goes first is not fixed.
    await ben.send("Can I take another ibuprofen tonight?", wait=False)
    await diary.wait_until(lambda: any("ibuprofen" in (r.text or "") for r in ended))
    assert any("ibuprofen" in (m.text or "") for m in diary.standin.chat(STAFF_CHAT))
    async with diary.database.session() as session:
        assert await patients.by_id(session=session, patient_id=patient.id) is None
    gc.collect()  # a task that died of an error says so when it is collected
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "deletion",
    [None, (502, "Bad Gateway"), (400, "Bad Request: message to delete not found")],
    ids=["deleted", "through-a-5xx", "gone-already"],
)
async def test_a_reply_on_its_way_as_the_patient_moves_to_a_new_phone_reaches_the_new_one(
    diary: Diary, deletion: tuple[int, str] | None
) -> None:
    """Sam's reply to Ben is on its way to Ben's chat as Ben opens a re-link on his new phone: what is owed to
    him moves to the new account, the reply in flight too, but the sender marked it sent to the old one, and
    the new phone never had it. It is owed to the new account, and goes there. Telegram delivered it to the
    old account as the move committed (the request was on its way): it is deleted there, which may be a
    phone the patient lost, or someone else's.

    Through a passing 502 too: the deletion was tried once, in passing, and nothing recorded it, so the reply
    stayed there for good (as it would after a crash between marking the reply owed to the new phone and the
    deletion). It is owed with that mark and tried again as any message is; given up only when Telegram says
    the message is gone (or cannot be deleted)."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await all_sent(diary)
    token = await diary.invite("P-0001", relink=True)
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")

    async def relinked() -> None:
        screen = await new_phone.send(f"/start {token}")
        await new_phone.press(data=f"cs:y:{token}", message=screen)
        if deletion is not None:
            diary.standin.fail_next("deleteMessage", *deletion)

    diary.standin.meanwhile(ben.id, relinked)
    await sam.send("Take one tablet tonight.", chat_id=STAFF_CHAT, reply_to=forwarded)
    answer = "Your care team: Take one tablet tonight."
    await new_phone.wait_for(lambda: any(m.text == answer for m in new_phone.messages))
    if deletion is not None and deletion[0] == 502:
        await diary.wait_until_async(lambda rows: any(r.kind == "take_back" and r.error for r in rows))
        diary.clock.advance(minutes=1)  # past its backoff
    await all_sent(diary)
    assert [m.text for m in new_phone.messages].count(answer) == 1
    gone_already = deletion is not None and deletion[0] == 400
    assert len(diary.standin.sent("deleteMessage", ben.id)) == (1 if deletion is None or gone_already else 2)
    if not gone_already:
        await diary.wait_until(lambda: not any(m.text == answer for m in ben.messages))


async def test_a_reply_taken_for_sending_as_the_patient_moves_to_a_new_phone_goes_to_the_new_one_alone(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sam's reply to Ben was taken for sending, and waited for its turn under Telegram's limits (behind a
    429, a busy minute), as Ben opened a re-link on his new phone. The move had committed, and still the reply
    went to the old account (a phone he lost, or someone else's) as well as to the new one. It goes to the new
    one alone, once."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await all_sent(diary)
    token = await diary.invite("P-0001", relink=True)
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    answer = "Your care team: Take one tablet tonight."
    real_claim = OutboxSender._claim
    moved: list[OutboxMessage] = []

    async def taken_then_moved(self: OutboxSender) -> OutboxMessage | None:
        row = await real_claim(self)
        if row is not None and row.text == answer and not moved:
            moved.append(row)
            screen = await new_phone.send(f"/start {token}")
            await new_phone.press(data=f"cs:y:{token}", message=screen)
        return row

    monkeypatch.setattr(OutboxSender, "_claim", taken_then_moved)
    await sam.send("Take one tablet tonight.", chat_id=STAFF_CHAT, reply_to=forwarded)
    await new_phone.wait_for(lambda: any(m.text == answer for m in new_phone.messages))
    await all_sent(diary)
    assert moved and moved[0].chat_id == ben.id, "taken for the old account before the move"
    assert [m.text for m in new_phone.messages].count(answer) == 1
    sent_to_old = [call.params.get("text") for call in diary.standin.sent("sendMessage", ben.id)]
    assert answer not in sent_to_old, "never sent to the old account"


@SQLITE_ONLY
async def test_a_message_on_its_way_as_an_admin_names_another_staff_chat_reaches_the_new_one(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben's question is on its way to the staff chat as an admin names another group the staff chat (the
    bot stays in the old one): what is owed to the old group moves to the new one, what is in flight too,
    but the sender marked it sent to the old group, where staff no longer look. It goes to the new one."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    new = -100700

    async def moved() -> None:
        await StaffChat(diary.database, configured=STAFF_CHAT).choose(chat_id=new, actor_id=900, now=diary.clock())

    diary.standin.meanwhile(STAFF_CHAT, moved)
    await ben.send("Can I take another ibuprofen tonight?")
    words = "Message from P-0001:\nCan I take another ibuprofen tonight?"
    await diary.wait_until(lambda: any(m.text == words for m in diary.standin.chat(new)))
    await all_sent(diary)
    assert [m.text for m in diary.standin.chat(new)].count(words) == 1


@SQLITE_ONLY
async def test_an_escalation_acknowledged_as_telegram_fails_still_updates_the_staff_chats_card(diary: Diary) -> None:
    """Ada acknowledges the escalation of Ben's crisis in her own chat, and Telegram answers 502 to showing it
    there. The acknowledgement was stored, but the staff chat's card was queued for its update only after
    that edit: it went on showing the crisis open and unacknowledged, for good. It is queued with the
    acknowledgement."""
    ada, ben = SimulatedUser(diary.standin, 900, "Ada"), SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ben)
    await ben.send("Honestly I want to die")
    await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))
    card = next(m for m in diary.standin.chat(STAFF_CHAT) if m.photo)
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock()) == 1
    await ada.wait_for(lambda: bool(ada.messages))
    diary.standin.fail_next("editMessageText", 502, "Bad Gateway")
    await ada.press("Acknowledge", message=ada.last, wait=False)
    await diary.wait_until(
        lambda: "Acknowledged by Ada" in (diary.standin.messages[STAFF_CHAT][card.message_id].caption or "")
    )


async def test_a_card_acknowledged_as_telegram_fails_to_show_it_shows_it_at_the_next_try(diary: Diary) -> None:
    """Sam acknowledges Ben's crisis card in the staff chat, and Telegram answers 502 to showing it there. The
    acknowledgement was stored, but the update was marked handled with the card still offering Acknowledge,
    and nothing queued to update it (the press shows the card pressed itself): the staff chat went on showing
    the crisis unacknowledged. Telegram out of reach for a moment, the update is tried again."""
    ben, sam = SimulatedUser(diary.standin, 302, "Ben"), SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    await ben.send("Honestly I want to die")
    await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(STAFF_CHAT)))
    card = next(m for m in diary.standin.chat(STAFF_CHAT) if m.photo)
    await all_sent(diary)
    diary.standin.fail_next("editMessageCaption", 502, "Bad Gateway")
    await sam.press("Acknowledge", message=card, wait=False)
    await diary.wait_until(
        lambda: "Acknowledged by Sam" in (diary.standin.messages[STAFF_CHAT][card.message_id].caption or "")
    )
    shown = diary.standin.messages[STAFF_CHAT][card.message_id]
    assert "Acknowledge" not in [label for label, _ in shown.buttons]


@SQLITE_ONLY
async def test_a_staff_reply_whose_confirmation_telegram_fails_is_confirmed_at_the_next_try(diary: Diary) -> None:
    """Sam's reply to Ben is queued, and Telegram answers 502 to "Your reply is on its way": the update was marked
    handled, and Sam, never told, would write it again (Ben getting it twice). It is tried again: Sam is told,
    and Ben gets the reply once."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await sam.press("Reply", message=forwarded)
    await all_sent(diary)
    prompt = diary.standin.chat(STAFF_CHAT)[-1]
    diary.standin.fail_next("sendMessage", 502, "Bad Gateway", chat_id=STAFF_CHAT)
    sam.say("Yes, one more is fine tonight.", chat_id=STAFF_CHAT, reply_to=prompt)
    await diary.wait_until(lambda: any("on its way to P-0001" in (m.text or "") for m in staff_chat(diary)))
    await diary.inbox_processed()
    await all_sent(diary)
    assert [m.text for m in ben.messages].count("Your care team: Yes, one more is fine tonight.") == 1


def answer_lost_once(monkeypatch: pytest.MonkeyPatch, error: Exception, *, saying: str) -> list[str]:
    """The bot's next answer saying `saying` reaches its chat, but Telegram's answer to the request is lost (`error`:
    a time-out, a connection dropped on the way). The texts so answered are listed."""
    real = telegram.Message.reply_text
    lost: list[str] = []

    async def reply_text(self: telegram.Message, text: str, *args: Any, **kwargs: Any) -> Any:
        sent = await real(self, text, *args, **kwargs)
        if saying in text and not lost:
            lost.append(text)
            raise error
        return sent

    monkeypatch.setattr(telegram.Message, "reply_text", reply_text)
    return lost


TRY_AGAIN = "Please try again"


async def sam_pressed_reply_to_ben(diary: Diary) -> tuple[SimulatedUser, SimulatedUser]:
    """Ben asks a question; Sam, whose direct chat is the staff chat, has pressed Reply on it."""
    ben, sam = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, STAFF, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    await ben.send("Can I take another ibuprofen tonight?")
    await diary.wait_until(lambda: any(m.buttons for m in sam.messages))
    await sam.press("Reply", message=next(m for m in sam.messages if m.buttons))
    return ben, sam


@SQLITE_ONLY
@pytest.mark.parametrize("error", [TimedOut(), MaybeDone("aiohttp.ServerDisconnectedError")])
async def test_a_staff_reply_whose_confirmation_timed_out_is_not_asked_for_again(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """Sam, whose direct chat is the staff chat, replies to Ben; the reply is queued and "Your reply is on its way"
    reaches him, but Telegram's answer to it is lost (a time-out). He was then told "Sorry, something went wrong
    ... Please try again in a moment": written again, Ben would get the reply twice. He is told nothing more."""
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=STAFF) as diary:
        ben, sam = await sam_pressed_reply_to_ben(diary)
        lost = answer_lost_once(monkeypatch, error, saying="on its way to P-0001")
        sam.say("Yes, one more is fine tonight.")
        await diary.wait_until(lambda: bool(lost))
        await diary.inbox_processed()
        await all_sent(diary)
        assert not any(TRY_AGAIN in (m.text or "") for m in sam.messages), sam.messages[-1].text
        assert [m.text for m in ben.messages].count("Your care team: Yes, one more is fine tonight.") == 1


@SQLITE_ONLY
async def test_an_answer_typed_whose_saved_timed_out_is_not_asked_for_again(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben types 7 at the check-in's first question; it is saved, and "Saved." reaches him, but Telegram's answer to
    it is lost (a time-out). He was then told to try again, and a 7 typed again answers the question shown now,
    the second."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    lost = answer_lost_once(monkeypatch, TimedOut(), saying="Saved.")
    ben.say("7")
    await diary.wait_until(lambda: bool(lost))
    await diary.inbox_processed()
    await all_sent(diary)
    assert any("Question 2 of 6" in (m.text or "") for m in ben.messages)
    assert not any(TRY_AGAIN in (m.text or "") for m in ben.messages), ben.messages[-1].text


@SQLITE_ONLY
async def test_a_staff_reply_the_database_fails_for_a_moment_is_not_asked_for_again(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sam, whose direct chat is the staff chat, replies to Ben as SQLite is locked past its wait. The reply is tried
    again by itself a second later and goes, but Sam was told "Sorry, something went wrong ... Please try again in a
    moment": written again, Ben got it twice. He is told that it goes through without his sending it again."""
    real_send, locked = Replies.send, [1]

    async def locked_once(self: Replies, **kwargs: Any) -> Any:
        if locked[0]:
            locked[0] -= 1
            raise OperationalError("INSERT INTO outboxmessage", {}, Exception("database is locked"))
        return await real_send(self, **kwargs)

    async with running_diary(database_url, tmp_path / "files", staff_chat_id=STAFF) as diary:
        ben, sam = await sam_pressed_reply_to_ben(diary)
        monkeypatch.setattr(Replies, "send", locked_once)
        sam.say("Yes, one more is fine tonight.")
        await diary.wait_until(lambda: any("on its way to P-0001" in (m.text or "") for m in sam.messages))
        await diary.inbox_processed()
        await all_sent(diary)
        assert not any(TRY_AGAIN in (m.text or "") for m in sam.messages), sam.messages[-2].text
        assert any((m.text or "").startswith("Sorry, something went wrong") for m in sam.messages)
        assert [m.text for m in ben.messages].count("Your care team: Yes, one more is fine tonight.") == 1


@SQLITE_ONLY
async def test_an_answer_typed_as_the_database_fails_for_a_moment_is_not_asked_for_again(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben types 7 at the check-in's first question as SQLite is locked past its wait: he was told to try again, and
    the 7 tried again by itself a second later answered the first question, the one he typed again the second."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    tries: list[str] = []
    monkeypatch.setattr(patient_messages, "add", away_for(tries))
    ben.say("7")
    await diary.wait_until(lambda: bool(tries))
    monkeypatch.undo()
    await ben.wait_for(lambda: any(m.text == "Saved." for m in ben.messages))
    await diary.inbox_processed()
    assert any("Question 2 of 6" in (m.text or "") for m in ben.messages)
    assert not any(TRY_AGAIN in (m.text or "") for m in ben.messages), ben.messages[-2].text


@SQLITE_ONLY
async def test_reply_pressed_as_telegram_fails_to_post_its_prompt_posts_it_at_the_next_try(diary: Diary) -> None:
    """Sam presses Reply in the staff group and Telegram answers 502 to the prompt: the press was noted, the update
    marked handled, and in a group, where the bot hears only replies to its own messages, Sam had no message to
    reply to and no word why. It is tried again: the prompt comes, once, and Sam's reply to it reaches Ben."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await all_sent(diary)
    diary.standin.fail_next("sendMessage", 502, "Bad Gateway", chat_id=STAFF_CHAT)
    await sam.press("Reply", message=forwarded, wait=False)
    await the_prompt_comes_once_and_takes_a_reply(diary, sam, ben)


@SQLITE_ONLY
async def test_a_check_in_asked_for_as_telegram_fails_comes_at_the_next_try(diary: Diary) -> None:
    """Ben's /checkin opened a check-in, and Telegram answered 502 to showing it: it stayed open with no message,
    and Ben was told to try again. It comes at the next try, once, with no word of a failure he need not act on."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    diary.standin.fail_next("sendMessage", 502, "Bad Gateway", chat_id=ben.id)
    ben.say("/checkin")
    await ben.wait_for(lambda: any("Question 1" in (m.text or "") for m in ben.messages))
    await diary.inbox_processed()
    assert len([m for m in ben.messages if "Question 1" in (m.text or "")]) == 1
    assert len(await diary.checkins()) == 1
    assert not any("something went wrong" in (m.text or "") for m in ben.messages)


@SQLITE_ONLY
@pytest.mark.parametrize("arrived", [False, True], ids=["lost", "arrived"])
async def test_a_check_in_asked_for_whose_request_timed_out_reaches_the_patient(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, arrived: bool
) -> None:
    """Ben's /checkin opened a check-in, and the request showing it timed out: it may or may not have arrived. Told
    nothing (a word of failure could make a duplicate elsewhere), and never tried again, Ben was left in silence with
    a check-in open and no question when it had not. The outbox owes it now, as it owes a scheduled one: it comes
    (a second time, at worst, when it had arrived), and its buttons answer the check-in."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    real, lost = telegram.Message.reply_text, []

    async def reply_text(self: telegram.Message, text: str, *args: Any, **kwargs: Any) -> Any:
        if "Question 1" in text and not lost:
            lost.append(text)
            if arrived:
                await real(self, text, *args, **kwargs)
            raise TimedOut
        return await real(self, text, *args, **kwargs)

    monkeypatch.setattr(telegram.Message, "reply_text", reply_text)
    ben.say("/checkin")
    await ben.wait_for(lambda: len([m for m in ben.messages if "Question 1" in (m.text or "")]) == 2 - (not arrived))
    await diary.inbox_processed()
    await all_sent(diary)
    assert len(await diary.checkins()) == 1
    assert not any("something went wrong" in (m.text or "") for m in ben.messages)
    await ben.press("7", message=ben.last_with_buttons())
    assert "Question 2 of 6" in (ben.last.text or "")


@SQLITE_ONLY
@pytest.mark.parametrize("gone", [False, True], ids=["topic", "topic gone"])
async def test_a_check_in_asked_for_in_a_topic_whose_request_timed_out_comes_in_that_topic(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, gone: bool
) -> None:
    """Ben types /checkin in a topic of his chat with the diary (threaded mode, Bot API 9.3): its question comes there,
    where he is reading. The request timed out, and the check-in owed through the outbox came to the chat's main
    view, where he may not see it. It comes to the topic; a topic deleted since, to the main view."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    real = telegram.Message.reply_text

    async def reply_text(self: telegram.Message, text: str, *args: Any, **kwargs: Any) -> Any:
        if "Question 1" in text:
            raise TimedOut
        return await real(self, text, *args, **kwargs)

    monkeypatch.setattr(telegram.Message, "reply_text", reply_text)
    handled = len(await diary.inbox_processed())
    topic = diary.standin.open_topic(ben.id, "Bad day", by=ben)
    await diary.inbox_processed(at_least=handled + 1)
    await all_sent(diary)  # what he is told of the topic's name
    if gone:
        diary.standin.fail_next("sendMessage", 400, "Bad Request: message thread not found", chat_id=ben.id)
    diary.standin.user_message(ben.json, "/checkin", topic=topic)
    await ben.wait_for(lambda: any("Question 1" in (m.text or "") for m in ben.messages))
    question = next(m for m in ben.messages if "Question 1" in (m.text or ""))
    assert question.thread == (None if gone else topic.thread)
    await ben.press("7", message=question)
    assert "Question 2 of 6" in (diary.standin.messages[ben.id][question.message_id].text or "")


@SQLITE_ONLY
async def test_a_check_in_asked_for_whose_request_timed_out_comes_once_across_a_crash(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben's /checkin timed out showing its question, which the outbox then owed him; the process died before it went,
    and before the update was marked handled. The next process handled /checkin again, found the question not shown
    and showed it, and the outbox sent it as well: Ben got it twice. What the outbox owes is left to the outbox."""
    async with restartable(tmp_path / "files") as (clock, standin):
        ben = SimulatedUser(standin, 301, "Ben")
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.enrol(ben)
            real = telegram.Message.reply_text

            async def reply_text(self: telegram.Message, text: str, *args: Any, **kwargs: Any) -> Any:
                if "Question 1" in text:
                    raise TimedOut
                return await real(self, text, *args, **kwargs)

            async def never_marked(**_: object) -> None:
                return None

            monkeypatch.setattr(telegram.Message, "reply_text", reply_text)
            monkeypatch.setattr("bot.delivery.inbox.inbox.mark_processed", never_marked)
            standin.fail_chat(ben.id, 502, "Bad Gateway")  # the outbox's try fails, and waits for its next
            ben.say("/checkin")
            await diary.wait_until_async(lambda rows: any(r.kind == "checkin" and r.attempts for r in rows))
        monkeypatch.undo()
        standin.heal_chat(ben.id)
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.inbox_processed()
            clock.advance(minutes=1)
            await ben.wait_for(lambda: any("Question 1" in (m.text or "") for m in ben.messages))
            await all_sent(diary)
            assert len([m for m in ben.messages if "Question 1" in (m.text or "")]) == 1
            await ben.press("7", message=ben.last_with_buttons())
            assert "Question 2 of 6" in (ben.last.text or "")


@SQLITE_ONLY
@pytest.mark.parametrize("answer", [SEVERAL_DAYS, NOT_AT_ALL])
async def test_an_answer_to_the_crisis_question_pressed_while_the_database_is_away(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    """Ben answers the PHQ-9's item 9 (thoughts of being better off dead) while his answer cannot be stored.
    'Several days': he was told only that something went wrong, and the crisis text waited until the
    database let the answer be stored; a crisis message gets it at once, from memory. So does this press,
    once: not again when the answer is stored. 'Not at all': the question's own words are the bot's, not
    his, and he is never sent the crisis text, at the first try or any later one."""
    real_upsert = checkins.upsert_answer
    tries: list[str] = []

    async def away(**values: Any) -> None:
        if values.get("item") == "phq_self_harm":
            tries.append("")
            raise OperationalError("INSERT INTO answer", {}, Exception("database is locked"))
        await real_upsert(**values)

    def crisis_texts() -> int:
        return sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages)

    expected = 1 if answer == SEVERAL_DAYS else 0
    async with running_diary(database_url, tmp_path / "files", instruments="phq2") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        shown = await up_to_the_self_harm_question(diary, ben)
        monkeypatch.setattr(checkins, "upsert_answer", away)
        await ben.press(answer, message=shown)
        await diary.wait_until(lambda: len(tries) >= 2)
        await ben.wait_for(lambda: crisis_texts() == expected)
        monkeypatch.undo()
        await diary.inbox_processed()
        await all_sent(diary)
        assert crisis_texts() == expected


def connection_lost_after_commit(session: Any) -> None:
    """The connection to the database is lost as `session` commits, after the commit has landed: the caller
    hears of a failure (PostgreSQL's connection reset during COMMIT) and may well try the same again."""

    def lost(_: object) -> None:
        raise OperationalError("COMMIT", {}, ConnectionResetError("connection was closed in the middle of operation"))

    event.listen(session.sync_session, "after_commit", lost, once=True)


@SQLITE_ONLY
@pytest.mark.parametrize(
    "fault", ["", "database-locked-a-moment", "connection-lost-after-commit"], ids=lambda fault: fault
)
async def test_a_reply_telegram_refuses_for_the_patient_is_shown_to_staff(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """Sam's reply to Ben is refused by Telegram for Ben's chat (400 'chat not found': the account behind it
    gone). It was marked failed with a line in the log: Sam had been told it was on its way, and nobody
    learnt that Ben never got it. Staff get its words, to reach him another way; at once also when the
    database is locked for a moment as that is written (the row would wait for its lease to run out); once
    when the connection is lost as that is committed, after the commit landed (written again, the notice
    was queued twice)."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    real_finish, failures = outbox.finish, [OperationalError("UPDATE outboxmessage", {}, Exception("locked"))]

    async def faulty_once(**values: Any) -> Any:
        if values.get("status") == OutboxStatus.FAILED and failures:
            if fault == "database-locked-a-moment":
                raise failures.pop()
            failures.pop()
            connection_lost_after_commit(values["session"])
        return await real_finish(**values)

    if fault:
        monkeypatch.setattr(outbox, "finish", faulty_once)
    told = calls_to(monkeypatch, OutboxSender, "_failed_and_told")
    diary.standin.fail_chat(ben.id, 400, "Bad Request: chat not found")
    await sam.send("Take one tablet tonight.", chat_id=STAFF_CHAT, reply_to=forwarded)

    def notices() -> int:
        return sum(
            "P-0001" in (m.text or "") and "Take one tablet tonight." in (m.text or "")
            for m in diary.standin.chat(STAFF_CHAT)
        )

    await diary.wait_until(lambda: notices() >= 1 and len(told) == 1)  # written, tries and all
    await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
    assert notices() == 1 and not (fault and failures)


@SQLITE_ONLY
async def test_a_formatted_reply_telegram_refuses_comes_back_to_staff_with_its_struck_words_marked(
    diary: Diary,
) -> None:
    """Sam's "Take ~~two~~ one tablet" is refused for Ben's chat: staff get its words back to reach him another way,
    and read "Take two one tablet" without the line through "two" (the notice is words only)."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    diary.standin.fail_chat(ben.id, 400, "Bad Request: chat not found")
    words = "Take two one tablet 💊 tonight."
    struck = {"type": "strikethrough", "offset": units("Take "), "length": 3}
    diary.standin.user_message(sam.json, words, STAFF_CHAT, reply_to=forwarded, entities=[struck])
    await diary.wait_until(lambda: any("The message was:" in (m.text or "") for m in diary.standin.chat(STAFF_CHAT)))
    told = next(m.text or "" for m in diary.standin.chat(STAFF_CHAT) if "The message was:" in (m.text or ""))
    assert told.endswith("The message was:\nYour care team: Take ~~two~~ one tablet 💊 tonight."), told


@SQLITE_ONLY
async def test_a_reply_whose_formatting_telegram_refuses_reaches_the_patient_as_words(diary: Diary) -> None:
    """Telegram refuses a reply for its formatting alone (a link it will not take): the patient got nothing, and staff
    the words back. They go as words, the struck ones marked."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await all_sent(diary)
    diary.standin.fail_next("sendMessage", 400, "Bad Request: can't parse entities: wrong URL", chat_id=ben.id)
    words = "Take two one tablet tonight."
    struck = {"type": "strikethrough", "offset": units("Take "), "length": 3}
    diary.standin.user_message(sam.json, words, STAFF_CHAT, reply_to=forwarded, entities=[struck])
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Your care team:"))
    assert ben.last.text == "Your care team: Take ~~two~~ one tablet tonight."
    await all_sent(diary)
    assert not any("The message was:" in (m.text or "") for m in diary.standin.chat(STAFF_CHAT))


@SQLITE_ONLY
async def test_a_quoting_reply_telegram_refuses_so_formatted_reaches_the_patient_with_the_quote_marked(
    diary: Diary,
) -> None:
    """Sam quotes Ben's question above his answer; Telegram refuses the reply for its formatting. It went as words, the
    quote no longer shown as one: "Your care team: Can I take another ibuprofen tonight?\nYes, one more." read as the
    care team asking. As words, the quoted lines begin with "> ", on a line of their own, as words quoted do."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await all_sent(diary)
    diary.standin.fail_next("sendMessage", 400, "Bad Request: can't parse entities: wrong URL", chat_id=ben.id)
    question = "Can I take another ibuprofen tonight?"
    words = "Yes, take two one more."
    struck = {"type": "strikethrough", "offset": units("Yes, take "), "length": 3}
    diary.standin.user_message(sam.json, words, STAFF_CHAT, reply_to=forwarded, quote=question, entities=[struck])
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Your care team:"))
    assert ben.last.text == f"Your care team:\n> {question}\nYes, take ~~two~~ one more.", ben.last.text


@SQLITE_ONLY
@pytest.mark.parametrize("locked_at", ["expect_reply", "remember"], ids=["noting-the-press", "recording-the-prompt"])
async def test_a_reply_prompt_is_posted_once_while_the_database_takes_no_writes(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, locked_at: str
) -> None:
    """Sam presses Reply while another process holds SQLite's write lock (reads still work): the prompt was
    posted, then noting it failed, and each try of the press posted another, every few seconds until the
    lock went. It is posted once, whether the lock meets the press's note before the prompt is posted or its
    record after, and Sam's reply to it still reaches Ben."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    # The sender records the forwarded question too: done first, so the failures meet the press's writes.
    await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
    monkeypatch.setattr("bot.delivery.inbox.RETRY_AT_MOST", 0.1)  # each try of the press follows at once
    real = getattr(staff_chat_store, locked_at)
    tries: list[str] = []

    async def locked(**values: Any) -> None:
        if len(tries) < 2:
            tries.append("")
            raise OperationalError("INSERT INTO pendingreply", {}, Exception("database is locked"))
        await real(**values)

    monkeypatch.setattr(staff_chat_store, locked_at, locked)
    await sam.press("Reply", message=forwarded)
    await diary.wait_until(lambda: len(reply_prompts(diary.standin)) >= 1 and len(tries) == 2)
    await diary.inbox_processed()
    assert len(reply_prompts(diary.standin)) == 1
    await sam.send("Take one tablet tonight.", chat_id=STAFF_CHAT, reply_to=reply_prompts(diary.standin)[0])
    await ben.wait_for(lambda: any("Take one tablet tonight." in (m.text or "") for m in ben.messages))


@POSTGRESQL_ONLY
async def test_a_staff_reply_postgresql_fails_to_end_a_deadlock_is_tried_again(diary: Diary) -> None:
    """Sam replies to Ben as another process's transaction (the command line, a second bot) holds Sam's staff
    row and then wants a row Sam's reply holds. PostgreSQL ends such a deadlock by failing one of the two,
    and says to run it again; the reply was taken for a fault of its own, never tried again, and lost (in a
    group, without a word to Sam). It is tried again, as for the database away, and reaches Ben once."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await sam.press("Reply", message=forwarded)
    prompt = diary.standin.chat(STAFF_CHAT)[-1]
    answer = "Your care team: Take one tablet tonight."
    async with diary.database.engine.connect() as other:
        holding = await other.begin()  # rolled back: it only holds its locks meanwhile
        await other.execute(text("SET LOCAL deadlock_timeout = '60s'"))  # the reply is the one PostgreSQL fails
        await other.execute(text("SELECT name FROM staffmember WHERE telegram_user_id = 800 FOR UPDATE"))
        reply = asyncio.create_task(ben.wait_for(lambda: any(m.text == answer for m in ben.messages), 30))
        sam.say("Take one tablet tonight.", chat_id=STAFF_CHAT, reply_to=prompt)
        assert await waiting_for_a_lock(diary.database, reply), "the reply waits for Sam's row"
        await other.execute(text("SELECT * FROM pendingreply WHERE staff_user_id = 800 FOR UPDATE"))
        await holding.rollback()
    await reply
    await diary.inbox_processed()
    await all_sent(diary)
    assert [m.text for m in ben.messages].count(answer) == 1
