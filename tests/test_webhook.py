"""`run --webhook`: Telegram POSTs updates to us with a secret header; we store, then answer 200."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.alerts import escalation
from bot.alerts.desk import AlertDesk
from bot.care_team.text_limits import TEXT_LIMIT, split
from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage, free_port
from tests.harness import SQLITE_ONLY, Diary, running_diary
from tests.test_alerts import STAFF_CHAT, up_to_the_note
from tests.test_care_team import (
    BERLIN_CRISIS_LINE,
    a_question_in_the_staff_chat,
    all_sent,
    crisis,
    reply_to,
    stored_messages,
)
from tests.test_inbox import an_unreadable_update_then_a_message

SECRET = "s3cret-token_for-the-webhook"


@asynccontextmanager
async def behind_a_webhook(database_url: str, tmp_path: Path) -> AsyncIterator[Diary]:
    """The bot receiving updates by webhook, on a port of its own."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/updates"
    async with running_diary(
        database_url, tmp_path / "files", webhook=True, webhook_url=url, webhook_secret=SECRET, webhook_port=port
    ) as diary:
        yield diary


async def handled(diary: Diary, deliver: Callable[[], object]) -> None:
    """`deliver` puts one more update on its way (one held back, an edit); back once it is handled and what it owes
    sent."""
    processed = len(await diary.inbox_processed())
    deliver()
    await diary.inbox_processed(at_least=processed + 1)
    await all_sent(diary)


@SQLITE_ONLY
async def test_updates_arrive_by_webhook_and_only_with_the_secret(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/updates"
    async with running_diary(
        database_url,
        tmp_path / "files",
        webhook=True,
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_port=port,
    ) as diary:
        assert diary.standin.webhook == {"url": url, "secret_token": SECRET}, "the bot registered its webhook"
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)  # /start and the consent press, both POSTed to the webhook
        reply = await ben.send("/checkin")
        assert reply is not None and reply.text is not None and "pain" in reply.text.lower()
        assert diary.standin.webhook_deliveries and set(diary.standin.webhook_deliveries) == {200}

        forged = {
            "update_id": 99999,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 301, "type": "private"},
                "from": {"id": 301, "is_bot": False, "first_name": "X"},
                "text": "/help",
            },
        }
        async with aiohttp.ClientSession() as client:
            for header in (
                {},
                {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]},
            ):
                async with client.post(url, json=forged, headers=header) as response:
                    assert response.status == 403
            secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            async with client.post(url, data=b"not json", headers=secret) as response:
                assert response.status == 400
            async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200 and await response.json() == {"ok": True}
        before = len(ben.messages)
        reply = await ben.send("/help")
        assert reply is not None and reply.text is not None and reply.text.startswith("This is your symptom diary")
        assert len(ben.messages) == before + 1, "the forged /help was not answered; the real one was"


@SQLITE_ONLY
async def test_an_edit_delivered_before_its_message_leaves_staff_with_the_edited_words(
    database_url: str, tmp_path: Path
) -> None:
    """By webhook Telegram may deliver an update after newer ones (a POST that failed is tried again later).
    A patient's correction that arrives before the message it corrects is what staff see last: the first
    version, arriving late, is kept in the diary but not shown to staff as if it were the newest."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        diary.standin.hold_back_next()
        message = ben.say("I took 20 tablets of ibuprofen today")
        reply = await ben.edit(message, "I took 2 tablets of ibuprofen today")
        assert reply is not None and reply.text == "Your change was passed on to your care team."
        await handled(diary, diary.standin.deliver_held)
        said = [m.text or "" for m in diary.standin.chat(STAFF_CHAT) if "tablets" in (m.text or "")]
        assert said == ["P-0001 edited a message:\nI took 2 tablets of ibuprofen today"]
        assert [m.text for m in await stored_messages(diary)] == [
            "I took 2 tablets of ibuprofen today",
            "I took 20 tablets of ibuprofen today",
        ], "both versions are kept"
        assert not any("20 tablets" in (m.text or "") for m in ben.messages if m.from_bot)


@SQLITE_ONLY
async def test_a_photo_delivered_after_its_own_edit_is_kept_but_not_shown_or_noted_again(
    database_url: str, tmp_path: Path
) -> None:
    """The same for a photo whose words were put right before its first version arrived: staff have the photo as
    it now is, copied when the edit came (a copy shows the message as it is). The first version, arriving late,
    is kept in the diary; it is not copied to staff again, not acknowledged to the patient again, and not taken
    for the note of the check-in that waits for one (its words are the ones the patient put right)."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        await up_to_the_note(ben, "6")
        diary.standin.hold_back_next()
        photo = ben.send_photo("swollen and red since the infusion")
        reply = await ben.edit_caption(photo, "swollen since the infusion, not red")
        assert reply is not None and reply.text == "Your change was passed on to your care team."
        await all_sent(diary)
        told = len(ben.messages)
        await handled(diary, diary.standin.deliver_held)
        copies = [m for m in diary.standin.chat(STAFF_CHAT) if m.copied_from is not None]
        assert [m.caption for m in copies] == ["swollen since the infusion, not red"]
        assert len(ben.messages) == told, "the patient was told once"
        (checkin,) = await diary.checkins()
        assert checkin.step == "note" and "note" not in {a.item for a in await diary.answers()}
        assert [m.text for m in await stored_messages(diary)] == [
            "swollen since the infusion, not red",
            "swollen and red since the infusion",
        ], "both versions are kept"


@SQLITE_ONLY
async def test_a_caption_put_back_after_its_photo_came_late_reaches_staff(database_url: str, tmp_path: Path) -> None:
    """The photo "swollen and red" comes after its edit "swollen, not red" (staff have that). Ben then puts his first
    words back: a change staff must see. The newest version of a message is the one written last, not the one stored
    last (the late first version): read so, the edit back to its words looked like no change, and staff kept
    "swollen, not red"."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        diary.standin.hold_back_next()
        photo = ben.send_photo("swollen and red since the infusion")
        diary.clock.advance(minutes=1)
        reply = await ben.edit_caption(photo, "swollen since the infusion, not red")
        assert reply is not None and reply.text == "Your change was passed on to your care team."
        await handled(diary, diary.standin.deliver_held)  # a copy shows the message as it is when sent
        diary.clock.advance(minutes=1)
        reply = await ben.edit_caption(photo, "swollen and red since the infusion")
        assert reply is not None and reply.text == "Your change was passed on to your care team."
        await all_sent(diary)
        copies = [m for m in diary.standin.chat(STAFF_CHAT) if m.copied_from is not None]
        assert [m.caption for m in copies] == [
            "swollen since the infusion, not red",
            "swollen and red since the infusion",
        ]


@SQLITE_ONLY
async def test_a_staff_reply_delivered_after_its_own_edit_reaches_the_patient_as_corrected(
    database_url: str, tmp_path: Path
) -> None:
    """Sam answers "Yes, two more is fine." and puts it right, "No, no more tonight.", before Telegram's webhook gets
    the reply itself through (its POST failed and was tried again). The edit, of a reply the bot had not heard of, went
    nowhere; the reply then came, and Ben was told the opposite of what Sam meant, while Sam was told it was on its way.
    The edit is the reply as Sam left it: it goes, and the late first version is not sent after it."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
        await all_sent(diary)
        diary.standin.hold_back_next()
        mine = diary.standin.user_message(sam.json, "Yes, two more is fine.", STAFF_CHAT, reply_to=forwarded)
        diary.clock.advance(seconds=20)
        await handled(diary, lambda: diary.standin.edit_user_message(mine, text="No, no more tonight."))
        await handled(diary, diary.standin.deliver_held)
        said = [m.text for m in ben.messages if (m.text or "").startswith("Your care team")]
        assert said == ["Your care team: No, no more tonight."]
        told = [m for m in diary.standin.chat(STAFF_CHAT) if "on its way to P-0001" in (m.text or "")]
        assert len(told) == 1, "the late first version is not confirmed again"


@pytest.mark.parametrize("ahead", [0, 5], ids=["clocks agree", "telegram 5 s ahead"])
async def test_a_long_direct_chat_reply_whose_rest_is_delivered_first_reaches_the_patient_whole(
    database_url: str, tmp_path: Path, ahead: int
) -> None:
    """Ada pressed Reply in her direct chat and pasted the leaflet's 5,000 characters, which Telegram's app sent as two
    messages a second apart, answering nothing. Telegram's webhook delivered the second first (the first's POST failed
    and was tried again): it was the next message, went to Ben and used up the Reply; the first then came as talk with
    no Reply pressed, and Ada got the staff help, half of what she wrote lost. A message as long as the first part of
    a longer one, written just before the rest that went to a patient, is that reply's first part and goes to them. So
    when Telegram's clock is ahead of this server's, which dates the rest by its own (never later than now)."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben, ada = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 900, "Ada")
        await diary.enrol(ben)
        await crisis(diary, ben, "i wish i was dead")
        diary.clock.advance(minutes=16)
        await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
        await ada.wait_for(lambda: bool(ada.messages) and bool(ada.last.buttons))
        await ada.press("Reply", message=ada.last)
        await all_sent(diary)
        leaflet = "Take one tablet with food, and no more than four in a day. " * 85 + "Call us if it gets worse."
        first, second = split(leaflet, TEXT_LIMIT)
        diary.standin.hold_back_next()
        written = diary.clock() + timedelta(seconds=ahead)
        ada.say(first, date=written)
        diary.clock.advance(seconds=1)
        await handled(diary, lambda: ada.say(second, date=written + timedelta(seconds=1)))
        diary.clock.advance(seconds=30)
        await handled(diary, diary.standin.deliver_held)
        assert reply_to(ben) == second + first, "the whole of it, in the order Telegram delivered its parts"
        assert not any("Clinic staff commands" in (m.text or "") for m in ada.messages)
        assert [m.text for m in ada.messages].count("Your reply is on its way to P-0001.") == 2, "one for each part"


async def test_a_direct_chat_reply_delivered_after_its_own_edit_reaches_the_patient_as_corrected(
    database_url: str, tmp_path: Path
) -> None:
    """Ada pressed Reply in her direct chat with the bot and wrote "Stop the gabapentin tonight." without replying to
    anything (there the next message goes to the patient), then put it right, "Keep the gabapentin tonight.", before
    Telegram's webhook got her message through. The edit answered nothing, so it went nowhere; the message then came
    and took the Reply still pressed: Ben was told to stop, the opposite of what Ada left. The edit of a message
    written after Reply was pressed is the reply; the late first version is not sent after it. A message written
    before the press, edited after, is not taken for a reply."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben, ada = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 900, "Ada")
        earlier = ada.say("hello")
        await ada.wait_for(lambda: bool(ada.messages))
        await diary.enrol(ben)
        await crisis(diary, ben, "i wish i was dead")
        diary.clock.advance(minutes=16)
        await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
        await ada.wait_for(lambda: bool(ada.last.buttons))
        await ada.press("Reply", message=ada.last)
        await all_sent(diary)
        diary.clock.advance(seconds=20)
        await handled(diary, lambda: diary.standin.edit_user_message(earlier, text="hello again"))
        diary.standin.hold_back_next()
        mine = diary.standin.user_message(ada.json, "Stop the gabapentin tonight.")
        diary.clock.advance(seconds=20)
        await handled(diary, lambda: diary.standin.edit_user_message(mine, text="Keep the gabapentin tonight."))
        await handled(diary, diary.standin.deliver_held)
        said = [m.text for m in ben.messages if (m.text or "").startswith("Your care team")]
        assert said == ["Your care team: Keep the gabapentin tonight."]
        told = [m for m in ada.messages if "on its way to P-0001" in (m.text or "")]
        assert len(told) == 1, "the late first version is not confirmed again"


@SQLITE_ONLY
async def test_an_edit_delivered_after_a_newer_edit_leaves_staff_and_the_note_with_the_newer_words(
    database_url: str, tmp_path: Path
) -> None:
    """Ben puts "20 tablets" right twice, "200" (a slip) and then "2"; by webhook the first edit's POST fails and is
    tried again after the second. Staff were shown "200 tablets" last, as his latest words, and a check-in's note
    went back to the words he had put right. The edit written last is the newest, whatever order they came in: the
    older is kept in the diary, not shown to staff, not put in the note, not acknowledged."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)

        async def edited_twice_out_of_order(message: ChatMessage, slip: str, right: str) -> None:
            diary.clock.advance(minutes=1)
            diary.standin.hold_back_next()
            diary.standin.edit_user_message(message, text=slip)
            diary.clock.advance(minutes=1)
            await ben.edit(message, right)
            await handled(diary, diary.standin.deliver_held)

        message = ben.say("I took 20 tablets of ibuprofen today")
        await all_sent(diary)
        await edited_twice_out_of_order(message, "I took 200 tablets of ibuprofen today", "I took 2 tablets today")
        said = [m.text or "" for m in diary.standin.chat(STAFF_CHAT) if "tablets" in (m.text or "")]
        assert said == [
            "Message from P-0001:\nI took 20 tablets of ibuprofen today",
            "P-0001 edited a message:\nI took 2 tablets today",
        ]
        assert [m.text for m in ben.messages].count("Your change was passed on to your care team.") == 1
        texts = [m.text for m in await stored_messages(diary)]
        assert "I took 200 tablets of ibuprofen today" in texts, "both versions are kept"

        await up_to_the_note(ben, "6")
        note = ben.say("slept badly")
        await all_sent(diary)
        await edited_twice_out_of_order(note, "slept very badly", "slept well for once")
        assert {a.item: a.value for a in await diary.answers()}["note"] == "slept well for once"
        assert [m.text for m in ben.messages].count("Your note is updated.") == 1

        # Words of crisis in the older edit were written all the same: heard, as they would have been in order.
        message = ben.say("what a week")
        await all_sent(diary)
        await edited_twice_out_of_order(message, "what a week. i want to die", "what a week. i want to dine out")
        assert any("i want to die" in (m.caption or "") for m in diary.standin.chat(STAFF_CHAT) if m.photo)
        assert any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages)


@SQLITE_ONLY
async def test_an_update_the_bot_cannot_read_whole_by_webhook_is_read_in_part_and_what_follows_is_handled(
    database_url: str, tmp_path: Path
) -> None:
    """Refused with 400, Telegram would post it again and again: read in part, answered 200, the admins told."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        await an_unreadable_update_then_a_message(diary)
        assert set(diary.standin.webhook_deliveries) == {200}
