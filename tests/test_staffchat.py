"""Setting up the staff chat without looking up ids: an admin adds the bot to the clinic's group and sends
/staffchat there. The real bot over HTTP against the stand-in, on SQLite and PostgreSQL.

Without a staff chat the bot runs and what staff are owed waits; /staffchat stores the group (audited),
confirms there and from then on cards, digests and patients' messages go there and replies from there
reach patients; the stored chat wins over STAFF_CHAT_ID, also after a restart; non-admins are refused
and a direct chat is told to use a group; the chat follows the group when it becomes a supergroup
(whether the bot hears of it by the service messages or by a refused send), with the replies staff
had begun there, and a bot removed from the staff chat holds what is owed until it is back (or an admin
names another chat); one not let write there tries again until it may.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sized
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from telegram.error import Forbidden

from bot.alerts import escalation
from bot.alerts.desk import AlertDesk
from bot.care_team.staff_chat import StaffChat
from bot.delivery.outbox import OutboxSender
from bot.sandbox import BotApiStandIn, SimulatedUser
from bot.sandbox.server import ChatMessage
from storage import audit, clinic_settings, outbox, patients, staff, staff_chat
from storage.database import Database
from storage.models import AuditEvent, OutboxMessage
from storage.statuses import OWED
from tests.harness import POSTGRESQL_ONLY, SQLITE_ONLY, START, Clock, Diary, running_diary
from tests.test_delivery_faults import calls_to

GROUP = -4001
SUPERGROUP = -1004001


async def owed(diary: Diary) -> list[OutboxMessage]:
    async with diary.database.session() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    return [r for r in rows if r.status in ("pending", "sending")]


async def staff_chat_events(diary: Diary) -> list[AuditEvent]:
    async with diary.database.session() as session:
        return [e for e in await audit.since(session=session) if e.action.startswith("staff_chat")]


async def stored_chat(diary: Diary) -> str | None:
    async with diary.database.session() as session:
        return await clinic_settings.get(session=session, name="staff_chat_id")


async def eventually(found: Callable[[], Awaitable[Sized]], timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await found():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def bot_said(diary: Diary, chat_id: int) -> list[ChatMessage]:
    return [m for m in diary.standin.chat(chat_id) if m.from_bot]


async def people(diary: Diary) -> tuple[SimulatedUser, SimulatedUser, SimulatedUser]:
    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin (ADMIN_TELEGRAM_IDS in the test settings)
    sam = SimulatedUser(diary.standin, 800, "Sam")
    ben = SimulatedUser(diary.standin, 301, "Ben")
    async with diary.database.session() as session:
        await staff.add(session=session, telegram_user_id=sam.id, role="staff", now=diary.clock())
    await diary.enrol(ben)
    return ada, sam, ben


@SQLITE_ONLY
async def test_without_a_staff_chat_messages_wait_until_an_admin_sends_staffchat_in_a_group(
    database_url: str, tmp_path: Path
) -> None:
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=None) as diary:
        ada, sam, ben = await people(diary)
        reply = await ben.send("The swelling is back since this morning")
        assert reply is not None and "care team" in (reply.text or ""), "the patient is answered as always"
        await diary.wait_until_async(lambda rows: any(r.chat_id == outbox.STAFF_CHAT_UNKNOWN for r in rows))
        held = [r for r in await owed(diary) if r.chat_id == outbox.STAFF_CHAT_UNKNOWN]
        assert [r.kind for r in held] == ["staff"], "kept for the staff chat, not sent anywhere"

        reply = await ada.send("/staffchat")
        assert reply is not None and "send /staffchat there" in (reply.text or ""), "a direct chat is told"

        diary.standin.add_bot_to_group(-4002, "Coffee", by=sam)  # staff, not an admin: the bot leaves
        await diary.wait_until(lambda: -4002 in diary.standin.left_chats)

        hint = ada.expect_reply(chat_id=GROUP)
        diary.standin.add_bot_to_group(GROUP, "Clinic staff", by=ada)
        assert "an admin sends /staffchat here" in ((await hint).text or "")
        await sam.send("is the bot here now?", chat_id=GROUP, wait=False)  # talk: ignored, the bot stays
        reply = await sam.send("/staffchat", chat_id=GROUP)
        assert reply is not None and reply.text == "Only a clinic admin can make a group the staff chat."
        assert await stored_chat(diary) is None and GROUP not in diary.standin.left_chats

        reply = await ada.send("/staffchat", chat_id=GROUP)
        assert reply is not None and (reply.text or "").startswith("This group is now the clinic's staff chat")
        await diary.wait_until(lambda: any("The swelling is back" in (m.text or "") for m in bot_said(diary, GROUP)))
        assert await stored_chat(diary) == str(GROUP)
        assert [(e.actor_id, e.detail) for e in await staff_chat_events(diary)] == [(900, f"chat {GROUP}")]
        menu = diary.standin.commands[BotApiStandIn.commands_key({"type": "chat", "chat_id": GROUP})]
        assert "patients" in [c["command"] for c in menu], "the group gets the staff menu"

        # From now on: what patients write arrives here, and a reply from here reaches the patient.
        ben.say("Can I take one more tablet tonight?")
        await diary.wait_until(lambda: any("one more tablet" in (m.text or "") for m in bot_said(diary, GROUP)))
        forwarded = next(m for m in bot_said(diary, GROUP) if "one more tablet" in (m.text or ""))
        await sam.send("Yes, one more is fine.", chat_id=GROUP, reply_to=forwarded, wait=False)
        await ben.wait_for(lambda: "Your care team: Yes, one more is fine." in (ben.last.text or ""))
        reply = await sam.send("/patients", chat_id=GROUP)
        assert reply is not None and "P-0001" in (reply.text or ""), "staff commands work in the new staff chat"
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))


@SQLITE_ONLY
async def test_the_chosen_chat_wins_over_staff_chat_id_also_after_a_restart(database_url: str, tmp_path: Path) -> None:
    configured = -100500  # STAFF_CHAT_ID in the test settings
    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    try:
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ada, sam, ben = await people(diary)
            standin.add_group(configured, "Old staff chat", [ada.id, sam.id])
            hint = ada.expect_reply(chat_id=GROUP)
            standin.add_bot_to_group(GROUP, "Clinic staff", by=ada)
            await hint
            reply = await ada.send("/staffchat", chat_id=GROUP)
            assert reply is not None and (reply.text or "").startswith("This group is now")
            assert [e.detail for e in await staff_chat_events(diary)] == [f"chat {GROUP} (was {configured})"]
            reply = await ada.send("/staffchat", chat_id=GROUP)
            assert reply is not None and reply.text == "This group is already the staff chat."
            await sam.send("/patients", chat_id=configured, wait=False)  # no longer the staff chat: the bot leaves
            await diary.wait_until(lambda: configured in standin.left_chats)
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            assert diary.settings.staff_chat_id == configured, "still set in the environment"
            ben.say("Still here after the restart")
            await diary.wait_until(lambda: any("after the restart" in (m.text or "") for m in bot_said(diary, GROUP)))
            assert not any("after the restart" in (m.text or "") for m in standin.chat(configured))
    finally:
        await standin.stop()


async def test_the_staff_chat_follows_its_group_into_a_supergroup(database_url: str, tmp_path: Path) -> None:
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, sam, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id, sam.id])
        ben.say("Can I come in on Monday instead?")
        await diary.wait_until(lambda: any(m.buttons for m in bot_said(diary, GROUP)))
        await sam.press("Reply", message=next(m for m in bot_said(diary, GROUP) if m.buttons))
        diary.standin.migrate_to_supergroup(GROUP, SUPERGROUP, by=ada)
        await eventually(lambda: staff_chat_events(diary))
        assert [(e.action, e.detail) for e in await staff_chat_events(diary)] == [
            ("staff_chat_migrated", f"chat {GROUP} became the supergroup {SUPERGROUP}")
        ], "audited once, though Telegram tells it in both chats"
        # Sam pressed Reply before the move and writes after it, in the supergroup: it reaches Ben.
        await sam.send("Monday at 10 is fine.", chat_id=SUPERGROUP)
        await ben.wait_for(lambda: ben.last.text == "Your care team: Monday at 10 is fine.")
        ben.say("Writing after the move")
        await diary.wait_until(lambda: any("after the move" in (m.text or "") for m in bot_said(diary, SUPERGROUP)))
        assert SUPERGROUP not in diary.standin.left_chats and await stored_chat(diary) == str(SUPERGROUP)
        reply = await sam.send("/patients", chat_id=SUPERGROUP)
        assert reply is not None and "P-0001" in (reply.text or "")


@SQLITE_ONLY
async def test_a_send_refused_for_a_migrated_group_follows_it_and_arrives(database_url: str, tmp_path: Path) -> None:
    """Telegram's service messages about the move were missed (or not yet handled): the refused send says
    where the group went, and the message goes there."""
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        _, _, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff")
        diary.standin.add_group(SUPERGROUP, "Clinic staff", chat_type="supergroup")
        diary.standin.migrated[GROUP] = SUPERGROUP
        ben.say("Writing while the group moves")
        await diary.wait_until(lambda: any("group moves" in (m.text or "") for m in bot_said(diary, SUPERGROUP)))
        assert [e.action for e in await staff_chat_events(diary)] == ["staff_chat_migrated"]
        assert await stored_chat(diary) == str(SUPERGROUP)


async def test_the_bot_removed_from_the_staff_chat_holds_messages_for_the_next_one(
    database_url: str, tmp_path: Path
) -> None:
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, _, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id])
        diary.standin.set_bot_status(GROUP, "kicked", by=ada)
        ben.say("Is anyone reading this?")
        await diary.wait_until_async(
            lambda rows: any(r.chat_id == outbox.STAFF_CHAT_UNKNOWN and r.status == "pending" for r in rows)
        )
        assert not [r for r in await owed(diary) if r.chat_id == GROUP], "nothing left owed to a chat it cannot use"
        diary.standin.set_bot_status(GROUP, "member", by=ada)  # added back: what waited goes now
        await diary.wait_until(lambda: any("anyone reading" in (m.text or "") for m in bot_said(diary, GROUP)))
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))


async def test_a_message_delivered_as_another_process_holds_the_staff_chat_is_not_sent_again(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes on one database. One has delivered Ben's message to the staff chat, and before it writes
    that down Ada removes the bot from the group: the other process, refused there, holds what is owed to the
    staff chat for its return, and took Ben's message, on its way, with what waited. The first then found its
    row moved and owed it again; when Ada added the bot back, staff read Ben's message twice. What another
    sender has on its way stays with it: delivered, it is done; refused, that sender holds it."""
    real_finish = OutboxSender._finish
    held: list[int] = []

    async def removed_meanwhile(self: OutboxSender, row: OutboxMessage, *args: Any, **kwargs: Any) -> bool:
        if row.chat_id == GROUP and not held:
            diary.standin.set_bot_status(GROUP, "kicked", by=ada)
            async with diary.database.session() as session:  # as the other process does, refused there
                held.append(await StaffChat(diary.database, configured=GROUP).hold(session, chat_id=GROUP))
        return await real_finish(self, row, *args, **kwargs)

    monkeypatch.setattr(OutboxSender, "_finish", removed_meanwhile)
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, _, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id])
        ben.say("Is anyone reading this?")
        await diary.wait_until(lambda: bool(held))
        back = calls_to(monkeypatch, StaffChat, "rejoined")
        diary.standin.set_bot_status(GROUP, "member", by=ada)  # added back: what waited for it goes now
        await diary.wait_until(lambda: bool(back))
        ben.say("My foot is blue")
        await diary.wait_until(lambda: any("foot is blue" in (m.text or "") for m in bot_said(diary, GROUP)))
        assert sum("anyone reading" in (m.text or "") for m in bot_said(diary, GROUP)) == 1


@SQLITE_ONLY
async def test_a_refusal_heard_after_the_bot_is_back_in_the_staff_chat_holds_nothing(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ada removes the bot from the staff group by mistake and adds it back at once, as Ben's message is on its
    way there. Telegram refuses the message (the bot was out), and the bot has handled its return before it
    handles the refusal: it then held everything owed to the staff chat for the next one an admin names,
    though it was back, and Ben's message and what came after waited for good. It goes now."""
    real_send = OutboxSender._send
    refused: list[int] = []

    async def out_and_back(self: OutboxSender, row: OutboxMessage) -> int | None:
        if row.chat_id == GROUP and not refused:
            refused.append(row.chat_id)
            back = calls_to(monkeypatch, StaffChat, "rejoined")
            diary.standin.set_bot_status(GROUP, "kicked", by=ada)
            diary.standin.set_bot_status(GROUP, "member", by=ada)
            await diary.wait_until(lambda: bool(back))
            raise Forbidden("Forbidden: bot was kicked from the group chat")
        return await real_send(self, row)

    monkeypatch.setattr(OutboxSender, "_send", out_and_back)
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, _, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id])
        ben.say("Is anyone reading this?")
        await diary.wait_until_async(lambda rows: any(r.error and r.status == "pending" for r in rows))
        diary.clock.advance(seconds=5)  # past the backoff of its try again
        await diary.wait_until(lambda: any("anyone reading" in (m.text or "") for m in bot_said(diary, GROUP)))
        ben.say("My foot is blue")
        await diary.wait_until(lambda: any("foot is blue" in (m.text or "") for m in bot_said(diary, GROUP)))


@SQLITE_ONLY
async def test_a_return_heard_while_telegram_is_asked_about_a_refusal_holds_nothing(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben's message is refused by the staff chat, which Ada had removed the bot from. Telegram, asked, says
    the bot is out; Ada adds it back at that moment, and its return is handled before the bot holds what is
    owed there: the return found nothing to give back, and then everything was held for the next staff chat
    an admin names, though the bot was back. It goes now."""
    real_in_group = OutboxSender._in_group
    answers: list[bool | None] = []

    async def back_as_telegram_answers(self: OutboxSender, chat_id: int) -> bool | None:
        answer = await real_in_group(self, chat_id)
        if chat_id == GROUP and not answers:
            answers.append(answer)
            back = calls_to(monkeypatch, StaffChat, "rejoined")
            diary.standin.set_bot_status(GROUP, "member", by=ada)
            await diary.wait_until(lambda: bool(back))
        return answer

    monkeypatch.setattr(OutboxSender, "_in_group", back_as_telegram_answers)
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, _, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id])
        diary.standin.set_bot_status(GROUP, "kicked", by=ada)
        ben.say("Is anyone reading this?")
        await diary.wait_until(lambda: any("anyone reading" in (m.text or "") for m in bot_said(diary, GROUP)))
        assert answers == [False], "Telegram said the bot was out"
        assert not told_unwritable(ada)


@SQLITE_ONLY
async def test_a_staff_chat_that_keeps_refusing_though_telegram_says_the_bot_is_in_it_is_told_to_the_admins(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram says the bot is in the group (or cannot say), yet refuses every message there: each was tried
    again every five minutes for good, and no admin heard that staff were reading nothing. After a few tries
    what is owed there waits, and the admins are told, as when the bot is out."""
    real_send = OutboxSender._send

    async def refused(self: OutboxSender, row: OutboxMessage) -> int | None:
        if row.chat_id == GROUP:
            raise Forbidden("Forbidden: bot is not a member of the group chat")
        return await real_send(self, row)

    monkeypatch.setattr(OutboxSender, "_send", refused)
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, _, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id])
        ben.say("Is anyone reading this?")

        def asked() -> int:
            return len(diary.standin.sent("getChatMember", GROUP))

        def retried(tries: int) -> Callable[[list[OutboxMessage]], bool]:
            return lambda rows: (
                bool(told_unwritable(ada))
                or any(r.chat_id == GROUP and r.status == "pending" and r.attempts > tries for r in rows)
            )

        # Each refusal asks Telegram, and is tried again at most five minutes on; then the admins are told.
        # The clock moves only once the retry is written: moved between Telegram's answer and the writing, it
        # would put the retry five minutes past the next move.
        for tries in range(10):
            if told_unwritable(ada):
                break
            await diary.wait_until_async(retried(tries))
            diary.clock.advance(minutes=5)
        await ada.wait_for(lambda: told_unwritable(ada) == 1)
        assert asked() > 1


@SQLITE_ONLY
async def test_a_reply_begun_in_the_supergroup_before_the_move_is_heard_wins(database_url: str, tmp_path: Path) -> None:
    """Telegram says a group moved in both chats, in either order: a staff member may press Reply in the
    supergroup before the move is recorded. Their newer reply stays; the move still happens."""
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        _, _, ben = await people(diary)
        cleo = SimulatedUser(diary.standin, 302, "Cleo")
        await diary.enrol(cleo, "P-0002")
        now = diary.clock()
        later = now + timedelta(minutes=30)
        async with diary.database.session() as session:
            first = await patients.by_chat(session=session, chat_id=ben.id)
            second = await patients.by_chat(session=session, chat_id=cleo.id)
            assert first is not None and second is not None and first.id is not None and second.id is not None
            for user, chat, patient in ((800, GROUP, first.id), (800, SUPERGROUP, second.id), (801, GROUP, first.id)):
                await staff_chat.expect_reply(
                    session=session, staff_user_id=user, chat_id=chat, patient_id=patient, expires_at=later
                )
        assert await StaffChat(diary.database, configured=GROUP).migrated(old=GROUP, new=SUPERGROUP, now=now)
        async with diary.database.session() as session:
            taken = [
                await staff_chat.take_pending(session=session, staff_user_id=user, chat_id=SUPERGROUP, now=now)
                for user in (800, 801)
            ]
            assert taken == [second.id, first.id]
            assert await staff_chat.take_pending(session=session, staff_user_id=800, chat_id=GROUP, now=now) is None


@POSTGRESQL_ONLY
@pytest.mark.migrated
@pytest.mark.parametrize("chosen", [False, True], ids=["configured", "chosen"])
async def test_the_two_words_of_a_supergroup_move_handled_at_once_move_it_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, chosen: bool
) -> None:
    """Telegram's two service messages of the move, handled side by side. One handling read the staff chat
    (the group); the other moved it and committed; the first then read the stored chat again, now the
    supergroup, and compared it with itself: the move went through twice, audited twice (seen once in CI).
    Each statement of a READ COMMITTED transaction sees what committed before it: the change is compared
    with the value the decision was made on."""
    database = Database(database_url)
    try:
        if chosen:  # an admin sent /staffchat in the group: stored, rather than STAFF_CHAT_ID
            await StaffChat(database, configured=None).choose(chat_id=GROUP, actor_id=900, now=START)
        read, go_on = asyncio.Event(), asyncio.Event()
        real_get = clinic_settings.get

        async def held_after_the_first_read(**kwargs: Any) -> str | None:
            value = await real_get(**kwargs)
            if not read.is_set():
                read.set()
                await go_on.wait()
            return value

        monkeypatch.setattr(clinic_settings, "get", held_after_the_first_read)
        staff_chat_ = StaffChat(database, configured=GROUP)
        first = asyncio.create_task(staff_chat_.migrated(old=GROUP, new=SUPERGROUP, now=START))
        await read.wait()
        try:
            assert await staff_chat_.migrated(old=GROUP, new=SUPERGROUP, now=START)
        finally:
            go_on.set()
        assert not await first, "the move was made already"
        async with database.session() as session:
            events = [e.action for e in await audit.since(session=session) if e.action != "staff_chat"]
            assert events == ["staff_chat_migrated"]
            assert await real_get(session=session, name="staff_chat_id") == str(SUPERGROUP)
    finally:
        await database.dispose()


@SQLITE_ONLY
async def test_a_staff_chat_where_the_bot_may_not_write_keeps_messages_until_it_may(
    database_url: str, tmp_path: Path
) -> None:
    """A clinic locks its group so that only admins may write, and the bot is not one: Telegram answers 400
    "not enough rights". The patient's words are tried again until the bot may write (Telegram says nothing
    when a group's permissions change back), instead of being marked failed and never shown."""
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, _, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id], bot_status="restricted")
        ben.say("My foot has turned blue since lunch")
        await diary.wait_until_async(lambda rows: any(r.error == "no rights to write in the chat" for r in rows))
        async with diary.database.session() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
        assert not [r for r in rows if r.status == "failed"], "nothing given up"
        diary.standin.set_bot_status(GROUP, "member")  # the group's permissions opened again, silently
        diary.clock.advance(minutes=5)
        await diary.wait_until(lambda: any("turned blue" in (m.text or "") for m in bot_said(diary, GROUP)))
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))


@SQLITE_ONLY
async def test_a_staff_chat_that_takes_no_photos_still_shows_staff_every_message_and_card(
    database_url: str, tmp_path: Path
) -> None:
    """The clinic's group lets members post text only (patients' pictures are not to sit on staff phones). Telegram
    refused the copy of Ben's photo, and every alert card (a photo of its chart), with 400 "not enough rights to
    send photos": they were tried again for good, as if the bot could not write there at all, and Ben's words
    queued after the photo never came, nor did his crisis card. The group takes text: a photo reaches staff as the
    word of it with its caption, and a card as text with its buttons, kept up to date there."""
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, sam, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id, sam.id])
        diary.standin.forbidden_kinds[GROUP] = {"photo", "voice", "document"}
        ben.send_photo("my hand this morning")
        ben.say("and it is purple now")
        await diary.wait_until(lambda: any("purple now" in (m.text or "") for m in bot_said(diary, GROUP)))
        notice = next(m for m in bot_said(diary, GROUP) if "my hand this morning" in (m.text or ""))
        assert notice.text is not None and notice.text.startswith("P-0001 sent a photo"), notice.text
        assert [label for label, _ in notice.buttons] == ["Reply", "Seen"]

        await ben.send("I want to die")
        await diary.wait_until(lambda: any("I want to die" in (m.text or "") for m in bot_said(diary, GROUP)))
        card = next(m for m in bot_said(diary, GROUP) if "I want to die" in (m.text or ""))
        assert (card.text or "").startswith("🔴 URGENT") and "Acknowledge" in [label for label, _ in card.buttons]
        diary.clock.advance(minutes=16)
        assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
        await ada.wait_for(lambda: any("Acknowledge" in [label for label, _ in m.buttons] for m in ada.messages))
        await ada.press("Acknowledge", message=next(m for m in ada.messages if m.buttons))
        await diary.wait_until(lambda: "Ada" in (diary.standin.messages[GROUP][card.message_id].text or ""))
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
        async with diary.database.session() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
        assert not [(r.kind, r.error) for r in rows if r.status == "failed"], "nothing given up"


UNWRITABLE = (
    "The diary bot cannot post in the staff chat (it was removed, or may not write there). Patients' messages "
    "and alert cards wait until it can: please let it write there again, or send /staffchat in another group."
)


def told_unwritable(ada: SimulatedUser) -> int:
    return [m.text for m in ada.messages].count(UNWRITABLE)


@SQLITE_ONLY
async def test_admins_are_told_once_in_their_own_chats_when_the_bot_may_not_post_in_the_staff_chat(
    database_url: str, tmp_path: Path
) -> None:
    """Only the log said so: patients' words and cards waited unseen while staff believed all was quiet.
    The admins hear it in their direct chats, once while it lasts (not at each try), and again the next
    time it happens; the same when the bot is removed from the group."""
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, _, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id], bot_status="restricted")
        ben.say("My foot has turned blue since lunch")
        await ada.wait_for(lambda: told_unwritable(ada) == 1)
        ben.say("and it is cold")
        for _ in range(3):  # tried again and again: told once
            diary.clock.advance(minutes=5)
            tries = len(diary.standin.sent("sendMessage", GROUP))
            await diary.wait_until(lambda: len(diary.standin.sent("sendMessage", GROUP)) > tries)  # noqa: B023
            # The stand-in counts a try as it arrives; the clock moves on only once its next time is written.
            await diary.wait_until_async(lambda rows: all(r.status != "sending" for r in rows))
        assert told_unwritable(ada) == 1
        diary.standin.set_bot_status(GROUP, "member")
        diary.clock.advance(minutes=5)
        await diary.wait_until(lambda: any("it is cold" in (m.text or "") for m in bot_said(diary, GROUP)))
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
        diary.standin.set_bot_status(GROUP, "kicked", by=ada)
        ben.say("Is anyone reading this?")
        await ada.wait_for(lambda: told_unwritable(ada) == 2)
        await diary.wait_until_async(lambda rows: all(r.status != "sending" for r in rows))
        assert told_unwritable(ada) == 2


@POSTGRESQL_ONLY
async def test_a_card_queued_as_an_admin_names_another_staff_chat_goes_to_the_new_one(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben writes words of crisis as Ada sends /staffchat in a new group. The intake read the staff chat (the
    old group), Ada's choice committed and moved what was owed to the old group, and then the intake committed
    the card, for the old group: the bot, still in it, delivered it there, where nobody looks any more, and
    nothing gathered it. What goes to a group goes to the staff chat as it is when it is sent."""
    new = -4002
    real_destination = StaffChat.destination
    armed: list[bool] = []
    chosen: list[int | None] = []

    async def chosen_meanwhile(self: StaffChat, session: Any) -> int:
        chat_id = await real_destination(self, session)
        if armed and not chosen:  # the intake's transaction read the old group and is still open
            chosen.append(
                await StaffChat(diary.database, configured=GROUP).choose(chat_id=new, actor_id=900, now=diary.clock())
            )
        return chat_id

    monkeypatch.setattr(StaffChat, "destination", chosen_meanwhile)
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, sam, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id, sam.id])
        diary.standin.add_group(new, "Clinic staff (new)", [ada.id, sam.id])
        armed.append(True)
        ben.say("I want to die")
        await diary.wait_until(lambda: bool(chosen))
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
        assert chosen == [GROUP] and await stored_chat(diary) == str(new)
        assert [m.caption for m in bot_said(diary, GROUP) if m.photo] == [], "not in the old group"
        assert len([m for m in bot_said(diary, new) if m.photo]) == 1, "the card is in the staff chat"


@SQLITE_ONLY
async def test_a_staff_chat_telegram_cannot_find_holds_messages_for_the_next_one_and_tells_the_admins(
    database_url: str, tmp_path: Path
) -> None:
    """STAFF_CHAT_ID names a group Telegram does not know (a digit mistyped, or the group deleted): each send
    there is refused with 400 "chat not found". Ben was told his message was passed on, yet it was marked
    failed and never shown to anyone, nor did an admin hear that staff read nothing; an admin naming the right
    group did not bring it back. It waits, as when the bot is removed from the group, and the admins are told."""
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, _, ben = await people(diary)
        diary.standin.fail_chat(GROUP, 400, "Bad Request: chat not found")
        reply = await ben.send("My foot has turned blue since lunch")
        assert reply is not None and "care team" in (reply.text or "")
        await diary.wait_until_async(lambda rows: not any(r.chat_id == GROUP and r.status in OWED for r in rows))
        async with diary.database.session() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
        assert not [r for r in rows if r.status == "failed"], "nothing given up"
        await ada.wait_for(lambda: told_unwritable(ada) == 1)
        hint = ada.expect_reply(chat_id=-4002)
        diary.standin.add_bot_to_group(-4002, "Clinic staff", by=ada)
        await hint
        await ada.send("/staffchat", chat_id=-4002)
        await diary.wait_until(lambda: any("turned blue" in (m.text or "") for m in bot_said(diary, -4002)))


@SQLITE_ONLY
async def test_what_a_staff_chat_telegram_cannot_find_held_goes_to_the_one_configured_after_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    """The operator puts STAFF_CHAT_ID right and restarts, without anyone sending /staffchat: what was held for
    the mistyped group goes to the right one, not only what comes after."""
    clock, right = Clock(), -4002
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    try:
        async with running_diary(
            database_url, tmp_path / "files", clock=clock, standin=standin, staff_chat_id=GROUP
        ) as diary:
            ada, sam, ben = await people(diary)
            standin.add_group(right, "Clinic staff", [ada.id, sam.id])
            standin.fail_chat(GROUP, 400, "Bad Request: chat not found")
            await ben.send("My foot has turned blue since lunch")
            await diary.wait_until_async(lambda rows: not any(r.chat_id == GROUP and r.status in OWED for r in rows))
        async with running_diary(
            database_url, tmp_path / "files", clock=clock, standin=standin, staff_chat_id=right
        ) as diary:
            await diary.wait_until(lambda: any("turned blue" in (m.text or "") for m in bot_said(diary, right)))
    finally:
        await standin.stop()


@SQLITE_ONLY
async def test_a_staff_forum_whose_general_topic_is_closed_keeps_messages_until_it_opens(
    database_url: str, tmp_path: Path
) -> None:
    """The staff chat is a forum, and its General topic, where the bot posts, was closed: Telegram answers 400
    "TOPIC_CLOSED". Ben's words were marked failed and never shown. They are tried again until the topic is
    open again (Telegram says nothing when it is), and the admins are told meanwhile."""
    async with running_diary(database_url, tmp_path / "files", staff_chat_id=GROUP) as diary:
        ada, _, ben = await people(diary)
        diary.standin.add_group(GROUP, "Clinic staff", [ada.id])
        diary.standin.fail_chat(GROUP, 400, "Bad Request: TOPIC_CLOSED")
        ben.say("My foot has turned blue since lunch")
        await diary.wait_until_async(lambda rows: any(r.error or r.status == "failed" for r in rows))
        async with diary.database.session() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
        assert not [r for r in rows if r.status == "failed"], "nothing given up"
        await ada.wait_for(lambda: told_unwritable(ada) == 1)
        diary.standin.heal_chat(GROUP)  # the topic reopened, silently
        diary.clock.advance(minutes=5)
        await diary.wait_until(lambda: any("turned blue" in (m.text or "") for m in bot_said(diary, GROUP)))
