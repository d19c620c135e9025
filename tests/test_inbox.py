"""The durable inbox: stored before confirmed, replayed at start-up, never applied twice."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.delivery import owners, reading
from bot.diary import enrolment
from bot.sandbox import BotApiStandIn, SimulatedUser
from storage import inbox, migrate
from storage.database import Database
from storage.models import Answer, InboxUpdate
from tests.bot_process import bot_env, start_bot, stop, wait_for
from tests.harness import SQLITE_ONLY, START, Clock, Diary, running_diary
from tests.test_alerts import STAFF_CHAT, register_staff, staff_chat
from tests.test_care_team import a_question_forwarded


async def test_redelivered_update_is_processed_once(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    await ben.press("6")
    press_update = diary.standin.last_update_id
    sent_before = len(diary.standin.sent())
    diary.standin.redeliver(press_update)  # Telegram lost our confirmation and sends it again
    await ben.send("/help")  # a later update, processed after the re-delivered one
    assert [(a.item, a.value) for a in await diary.answers()] == [("pain", "6")]
    methods = [c.method for c in diary.standin.sent()[sent_before:]]
    assert methods.count("editMessageText") == 0, "the re-delivered press is not acted on again"


async def test_update_is_stored_before_it_is_confirmed(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    await ben.press("3")
    press_update = diary.standin.last_update_id
    # Telegram only forgets an update when a later getUpdates carries offset > its id; by then it is in the inbox.
    confirming = [c for c in diary.standin.sent("getUpdates") if int(c.params.get("offset") or 0) > press_update]
    assert confirming
    async with diary.database.session() as session:
        row = await session.get(InboxUpdate, press_update)
    assert row is not None and row.received_at <= diary.clock()


@pytest.mark.parametrize("left_by", [None, "another namespace|1|4242|deadbeef0000"], ids=["no owner", "unseen owner"])
async def test_unfinished_updates_are_processed_at_start_up(
    tmp_path: Path, database_url: str, left_by: str | None
) -> None:
    """A process stored updates and died before handling them: the next one handles them. So when the process that
    stored them cannot be seen from this one, its lease not yet run out: the bot's container started again after a
    crash (a new process namespace). Its updates waited for the lease, two minutes, behind newer ones."""
    async with running_diary(database_url, tmp_path / "files") as diary:
        ben = SimulatedUser(diary.standin, 303, "Ben")
        await diary.enrol(ben)
        await ben.send("/checkin")
        (checkin,) = await diary.checkins()
        user = ben.json
        message = ben.last
    # Write what the dead process had stored but not processed: two presses.
    payloads = []
    for update_id, value in [(900, "8"), (901, "8")]:
        payloads.append(
            (
                update_id,
                json.dumps(
                    {
                        "update_id": update_id,
                        "callback_query": {
                            "id": f"q{update_id}",
                            "from": user,
                            "chat_instance": "1",
                            "data": f"ck:a:{checkin.id}:pain:{value}",
                            "message": {
                                "message_id": message.message_id,
                                "date": 0,
                                "text": message.text,
                                "chat": {"id": user["id"], "type": "private"},
                            },
                        },
                    }
                ),
            )
        )
    database = Database(database_url)
    async with database.session() as session:
        await inbox.store_new(
            session=session, updates=payloads, now=START, owner=left_by, leased_until=START + timedelta(days=1)
        )
    await database.dispose()

    async with running_diary(database_url, tmp_path / "files2") as diary:
        assert [(a.item, a.value) for a in await diary.answers()] == [("pain", "8")]
        async with diary.database.session() as session:
            rows = (await session.exec(select(InboxUpdate).where(InboxUpdate.update_id >= 900))).all()
        assert [r.processed_at is not None and r.payload is None for r in rows] == [True, True]


def update_of(update_id: int) -> tuple[int, str]:
    return update_id, json.dumps({"update_id": update_id})


@pytest.mark.migrated
async def test_another_process_takes_only_updates_whose_process_ended_or_whose_lease_ran_out(database_url: str) -> None:
    """What a process still running holds is not taken, whatever its age; what one that ended held is, at once; what
    one on another machine held, once its lease ran out (it renews it while it runs); rows stored before owners were
    kept, as before. What is taken is the taker's."""
    database = Database(database_url)
    running, ended, elsewhere, me = "a|1|1|run", "a|2|2|end", "b|3|3|far", "a|4|4|me"
    lease = START + timedelta(minutes=2)
    async with database.session() as session:
        for update_id, owner in [(1, running), (2, ended), (3, elsewhere), (4, None)]:
            await inbox.store_new(
                session=session, updates=[update_of(update_id)], now=START, owner=owner, leased_until=lease
            )
        assert await inbox.owners(session=session) == {running, ended, elsewhere}

    async def take(now: datetime, unowned_before: datetime | None = None) -> list[int]:
        async with database.session() as session:
            taken = await inbox.take(
                session=session,
                owner=me,
                now=now,
                leased_until=now + timedelta(minutes=2),
                ended=[ended],
                unknown=[elsewhere],
                unowned_before=unowned_before,
            )
        return [row.update_id for row in taken]

    try:
        assert await take(START + timedelta(minutes=1), unowned_before=START) == [2]
        assert await take(START + timedelta(minutes=3), unowned_before=START) == [3]
        async with database.session() as session:
            await inbox.renew(session=session, owner=me, leased_until=START + timedelta(hours=1))
            assert await inbox.owners(session=session) == {running, me}
        assert await take(START + timedelta(minutes=30)) == [4]
        assert await take(START + timedelta(days=1)) == [], "a running process's, and the taker's own"
    finally:
        await database.dispose()


def test_an_inbox_is_seen_running_while_its_process_runs() -> None:
    """On this machine, by its process (not another given its number later) and, in this process, by whether it was
    closed; another machine's cannot be seen."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        theirs = owners.of(process.pid)
        assert owners.seen(theirs) is owners.Seen.RUNNING
        machine, pid, _started, name = theirs.split("|")
        assert owners.seen(f"{machine}|{pid}|1|{name}") is owners.Seen.ENDED, "its number given to another"
        assert owners.seen(f"another machine|{pid}|1|{name}") is owners.Seen.UNKNOWN
    finally:
        process.kill()
        process.wait()
    assert owners.seen(theirs) is owners.Seen.ENDED
    mine = owners.new_owner()
    assert owners.seen(mine) is owners.Seen.RUNNING
    owners.ended(mine)
    assert owners.seen(mine) is owners.Seen.ENDED


@pytest.mark.slow
async def test_sigkill_at_any_instant_loses_no_answer_and_stores_none_twice(tmp_path: Path, database_url: str) -> None:
    """Patients press buttons while the bot process is killed with SIGKILL at random instants."""
    standin = BotApiStandIn()
    await standin.start()
    database = Database(database_url)
    await migrate.upgrade(database)
    # Their scheduled check-ins are twelve hours away, so none opens (and closes these) mid-test.
    later = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(hours=12)).strftime("%H:%M")
    env = bot_env(standin, database_url, DEFAULT_TIMEZONE="Europe/Berlin", DEFAULT_CHECKIN_TIMES=later)
    users = [SimulatedUser(standin, 400 + n, f"P{n}") for n in range(8)]
    rng = random.Random(7)
    bot = start_bot(env)
    try:
        for n, user in enumerate(users):
            token = await enrolment.create_invite(
                database,
                code=f"K-{n}",
                timezone="Europe/Berlin",
                language="en",
                checkin_times="",
                now=START,
                valid_for=timedelta(days=30),
            )
            await user.send(f"/start {token}", timeout=60)
            await user.press("I agree")
            await user.send("/checkin")
        checkin_ids = {user.id: int(user.last.buttons[0][1].split(":")[2]) for user in users}
        expected: dict[tuple[int, str], str] = {}
        items = [
            ("pain", [str(v) for v in range(11)]),
            ("skin_color", ["redder", "paler", "same"]),
            ("skin_temperature", ["warmer", "colder"]),
            ("swelling", ["none", "mild"]),
            ("mood", ["1", "5"]),
        ]
        for _ in range(3):  # three crashes
            for user in users:
                message = user.last_with_buttons()
                for item, values in items:
                    for value in rng.sample(values, 2):  # change of mind: the last press counts
                        user.server.callback_query(
                            user.json, message, f"ck:a:{checkin_ids[user.id]}:{item}:{value}", value
                        )
                        expected[(checkin_ids[user.id], item)] = value
            await asyncio.sleep(rng.uniform(0.05, 0.4))
            bot.send_signal(signal.SIGKILL)
            bot.wait()
            bot = start_bot(env)

        async def all_done() -> bool:
            if standin.pending_updates:
                return False
            async with database.session() as session:
                unfinished = await inbox.unfinished(session=session)
                answers = (await session.exec(select(Answer))).all()
            return not unfinished and {(a.checkin_id, a.item): a.value for a in answers} == expected

        await wait_for(all_done, 60)
        async with database.session() as session:
            answers = (await session.exec(select(Answer))).all()
        assert len(answers) == len(expected) == len(users) * len(items)
    finally:
        stop(bot)
        await standin.stop()
        await database.dispose()


def a_poll_this_version_cannot_read() -> dict[str, object]:
    """A poll whose options lack a field this version of python-telegram-bot requires: what an update looks like
    to it once Telegram's API has moved on (a field it requires no longer sent)."""
    return {
        "id": "1",
        "question": "which is worse?",
        "options": [{"text": "heat", "voter_count": 0}, {"text": "cold", "voter_count": 0}],  # no persistent_id
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }


def unreadable_at_all(user: SimulatedUser, message_id: int) -> dict[str, object]:
    """A message nothing of which reads: a date no clock holds, without which a message is none."""
    chat = {"id": user.id, "type": "private", "first_name": user.json["first_name"]}
    return {"message": {"message_id": message_id, "date": 2**70, "chat": chat, "from": user.json, "text": "hi"}}


async def test_an_update_the_bot_cannot_read_whole_is_read_in_part_and_the_rest_are_handled(
    diary: Diary, caplog: pytest.LogCaptureFixture
) -> None:
    """python-telegram-bot fails a whole getUpdates when one update in it does not read as its version of the Bot API
    has it. The polling loop died: nothing more was heard from anyone, and a restart fetched the same update and
    died again (and python-telegram-bot logged the whole batch, patients' words and all). Ben's poll is read
    without the poll (the staff chat gets Telegram's copy of it), the admins are told (with Ben's code, without
    its contents), and Ben's next message, in the same batch, is handled."""
    caplog.set_level(logging.INFO)
    ben = await an_unreadable_update_then_a_message(diary)
    assert "which is worse" not in caplog.text and "purple" not in caplog.text
    assert (await ben.send("/help")) is not None, "still listening"


async def an_unreadable_update_then_a_message(diary: Diary) -> SimulatedUser:
    """Ben (enrolled) sends a poll the bot cannot read, then a message: the poll is passed on all the same, the
    message answered, and the admin Ada told of the poll by its update's number and Ben's code, without its
    contents."""
    ben, ada = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 900, "Ada")  # an admin
    await diary.enrol(ben)
    reply = ben.expect_reply()
    diary.standin.user_media(ben.json, "poll", {"poll": a_poll_this_version_cannot_read()})
    unreadable = diary.standin.last_update_id
    assert "your care team will see what you sent" in ((await reply).text or "")
    await diary.wait_until(lambda: any(m.copied_from is not None for m in staff_chat(diary)))
    assert [m.text for m in staff_chat(diary)][-2:] == ["P-0001 sent a message:", None], "Telegram's copy of it"
    reply = await ben.send("my hand is purple today")
    assert reply is not None and (reply.text or "").startswith("I can't give medical advice")
    await ada.wait_for(lambda: any(f"update {unreadable}" in (m.text or "") for m in ada.messages))
    told = " ".join(m.text or "" for m in ada.messages)
    assert "from P-0001" in told and "fields: poll)" in told and "which is worse" not in told
    return ben


@SQLITE_ONLY
async def test_an_update_that_does_not_read_whole_is_told_to_the_staff_chat_when_no_admin_is_named(
    tmp_path: Path, database_url: str
) -> None:
    """No admin is named (the team is run from the command line): that Ben's poll did not read whole, so that the
    staff chat may not have all of it, was told to no one. The staff chat is told, to ask Ben what he sent."""
    async with running_diary(database_url, tmp_path / "files", admin_telegram_ids="") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        reply = ben.expect_reply()
        diary.standin.user_media(ben.json, "poll", {"poll": a_poll_this_version_cannot_read()})
        unreadable = diary.standin.last_update_id
        await reply
        await diary.wait_until(lambda: any(f"update {unreadable}" in (m.text or "") for m in staff_chat(diary)))
        told = next(m.text or "" for m in staff_chat(diary) if f"update {unreadable}" in (m.text or ""))
        assert "from P-0001" in told and "which is worse" not in told


@SQLITE_ONLY
async def test_updates_that_no_longer_read_after_an_upgrade_are_read_in_part_or_skipped_at_start(
    tmp_path: Path, database_url: str
) -> None:
    """The inbox held an update stored by the version before the upgrade, which read it and this one reads only in
    part; while the bot was down, one nothing of which reads waited at Telegram. The start handles the first in part
    and skips the other (neither replayed at every start), tells the admins once, and handles Ben's message behind
    them."""
    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    ben, ada = SimulatedUser(standin, 301, "Ben"), SimulatedUser(standin, 900, "Ada")
    try:
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.enrol(ben)
        chat = {"id": ben.id, "type": "private", "first_name": "Ben"}
        poll = {"message_id": 91, "date": standin.now(), "chat": chat, "from": ben.json}
        stored = {"update_id": 10**6, "message": poll | {"poll": a_poll_this_version_cannot_read()}}
        async with diary.database.session() as session:
            session.add(InboxUpdate(update_id=10**6, payload=json.dumps(stored), received_at=clock()))
            await session.commit()
        standin.push_update(unreadable_at_all(ben, 92))
        ben.say("my hand is purple today")
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await ben.wait_for(lambda: (ben.last.text or "").startswith("I can't give medical advice"))
            assert any("your care team will see what you sent" in (m.text or "") for m in ben.messages), "the poll"
            await ada.wait_for(lambda: any("from P-0001" in (m.text or "") for m in ada.messages))
            async with diary.database.session() as session:
                row = await session.get(InboxUpdate, 10**6)
            assert row is not None and row.processed_at is not None and row.payload is None
            assert sum("cannot read whole" in (m.text or "") for m in ada.messages) == 1, "told once within the hour"
    finally:
        await standin.stop()


def test_a_message_is_read_without_each_part_that_does_not_read_and_keeps_the_rest() -> None:
    """Two parts this version cannot read (the poll, and the poll of the message it replies to): both are left out,
    its words, its sender and what it replies to kept. What decides where a message goes (its sender, its chat,
    its command's entities) must read, or nothing of it is read; a press is read without a part of the message
    it was pressed on, not without the message."""
    chat = {"id": 301, "type": "private", "first_name": "Ben"}
    ben = {"id": 301, "is_bot": False, "first_name": "Ben"}
    quoted = {"message_id": 1, "date": 0, "chat": chat, "poll": a_poll_this_version_cannot_read()}
    message = {
        "message_id": 2,
        "date": 0,
        "chat": chat,
        "from": ben,
        "text": "end of my tether",
        "poll": a_poll_this_version_cannot_read(),
        "reply_to_message": quoted,
        "entities": [{"type": "bold", "offset": 0, "length": 3}],
    }
    read = reading.read({"update_id": 7, "message": message}, None)
    assert read.update is not None and read.left_out == ("reply_to_message.poll", "poll")
    got = read.update.message
    assert got is not None and got.text == "end of my tether" and got.from_user is not None and got.entities
    assert got.reply_to_message is not None and got.reply_to_message.message_id == 1
    for routing in ({"chat": {"id": 301}}, {"from": {"id": 301}}, {"entities": [{"type": "bot_command", "offset": 0}]}):
        assert reading.read({"update_id": 7, "message": message | routing}, None).update is None, routing
    unreadable_reply = {"reply_to_message": quoted | {"chat": {"id": 301}}}
    assert reading.read({"update_id": 7, "message": message | unreadable_reply}, None).update is None

    press = {"id": "9", "from": ben, "chat_instance": "1", "data": "p:6", "message": quoted}
    read = reading.read({"update_id": 8, "callback_query": press}, None)
    assert read.update is not None and read.left_out == ("message.poll",)
    query = read.update.callback_query
    assert query is not None and query.data == "p:6" and query.message is not None and query.message.message_id == 1

    whole = reading.read({"update_id": 9, "message": message | {"poll": None, "reply_to_message": None}}, None)
    assert whole.update is not None and whole.left_out == ()
    assert reading.sender({"update_id": 8, "callback_query": press}) == 301


async def test_a_staff_reply_to_the_copy_of_a_message_read_in_part_goes_to_its_patient(diary: Diary) -> None:
    """Cy's poll this version cannot read reaches the staff chat as Telegram's copy, and Sam answers it by a reply,
    with a Reply pressed on Ben's message before: read without the message it replies to, his answer went to Ben.
    What a reply answers is read in part itself, and the answer goes to Cy. A staff command whose entities do not
    read is not passed on to Ben as words: nothing of it is read, and the admins are told."""
    ben, cy = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 302, "Cy")
    sam, ada = SimulatedUser(diary.standin, 800, "Sam"), SimulatedUser(diary.standin, 900, "Ada")  # staff, admin
    await register_staff(diary, sam)
    forwarded = await a_question_forwarded(diary, ben)
    await diary.enrol(cy, "P-0002")
    reply = cy.expect_reply()
    diary.standin.user_media(cy.json, "poll", {"poll": a_poll_this_version_cannot_read()})
    await reply
    await diary.wait_until(lambda: any(m.copied_from is not None for m in staff_chat(diary)))
    cys_poll = next(m for m in staff_chat(diary) if m.copied_from is not None)
    await sam.press("Reply", message=forwarded)
    reply = cy.expect_reply()
    sam.say("Cy: the left one, and rest it today.", chat_id=STAFF_CHAT, reply_to=cys_poll)
    assert (await reply).text == "Your care team: Cy: the left one, and rest it today."

    diary.clock.advance(hours=1)  # the admins are told of Sam's reply read in part at most once an hour
    await sam.press("Reply", message=forwarded)
    staff_chat_of = {"id": STAFF_CHAT, "type": "supergroup", "title": "Clinic staff"}
    command = {"message_id": 9999, "date": diary.standin.now(), "chat": staff_chat_of, "from": sam.json}
    entities = [{"type": "bot_command", "offset": 0}]  # without its length: any field Telegram stopped sending
    pushed = diary.standin.push_update({"message": command | {"text": "/patient P-0002", "entities": entities}})
    await ada.wait_for(lambda: any(f"update {pushed}" in (m.text or "") for m in ada.messages))
    assert not any("/patient" in (m.text or "") for m in diary.standin.chat(ben.id))


async def test_an_update_that_does_not_read_is_not_confirmed_while_the_database_is_away(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing of Ben's message reads, and the database is away as it is skipped: confirmed all the same, it was lost
    with no one told. It is fetched again until the database is back, and the admins are told then."""
    ben, ada = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 900, "Ada")  # an admin
    await diary.enrol(ben)
    tries: list[str] = []

    async def away(**_: object) -> None:
        tries.append("")
        raise OperationalError("UPDATE inboxupdate", {}, Exception("database is locked"))

    monkeypatch.setattr("bot.delivery.inbox.inbox.mark_processed", away)
    pushed = diary.standin.push_update(unreadable_at_all(ben, 90))
    await diary.wait_until(lambda: len(tries) >= 2)  # fetched again: not confirmed
    monkeypatch.undo()
    await ada.wait_for(lambda: any(f"update {pushed}" in (m.text or "") for m in ada.messages))


@SQLITE_ONLY
async def test_telegram_asking_the_bot_to_wait_as_it_starts_does_not_stop_it(tmp_path: Path, database_url: str) -> None:
    """A 429 (retry after a second) to the first getUpdates, as the bot catches up with what Telegram kept while it was
    down, stopped its start: now the polling loop waits the second and carries on."""
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=Clock())
    await standin.start()
    standin.fail_next("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
    try:
        async with running_diary(database_url, tmp_path / "files", standin=standin) as diary:
            ben = SimulatedUser(standin, 301, "Ben")
            await diary.enrol(ben)
            reply = await ben.send("/help")
            assert reply is not None and (reply.text or "").startswith("This is your symptom diary")
    finally:
        await standin.stop()
