"""The Bot API stand-in answers in Telegram's shapes, over HTTP, with form and JSON parameters."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from telegram import (
    Bot,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    MessageEntity,
    MessageId,
    MessageOriginUser,
    ReplyParameters,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.sandbox import BotApiStandIn, SimulatedUser

# The start of an 800x450 PNG: enough for the stand-in, which reads the size from the header.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    + (800).to_bytes(4, "big")
    + (450).to_bytes(4, "big")
    + b"\x08\x02\x00\x00\x00"
)


class FakeClock:
    """Epoch seconds that a test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def standin() -> BotApiStandIn:
    server = BotApiStandIn(flood_limits=True)
    await server.start()
    yield server  # type: ignore[misc]
    await server.stop()


async def test_form_and_json_parameters(standin: BotApiStandIn) -> None:
    SimulatedUser(standin, 7, "Ben")
    async with httpx.AsyncClient(base_url=f"{standin.url}/bot{standin.token}") as client:
        form = (await client.post("/sendMessage", data={"chat_id": "7", "text": "form"})).json()
        as_json = (await client.post("/sendMessage", json={"chat_id": 7, "text": "json"})).json()
        unknown = await client.post("/launchRocket", json={})
        wrong_token = await httpx.AsyncClient().post(f"{standin.url}/botnope/getMe")
    assert form["ok"] and form["result"]["text"] == "form"
    assert as_json["ok"] and as_json["result"]["chat"]["id"] == 7
    assert unknown.status_code == 404 and unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert wrong_token.status_code == 401


async def test_telegram_errors_reach_ptb_as_its_own_exceptions(standin: BotApiStandIn) -> None:
    ben = SimulatedUser(standin, 8, "Ben")
    async with Bot(standin.token, base_url=f"{standin.url}/bot") as bot:
        message = await bot.send_message(ben.id, "hello")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("hello", chat_id=ben.id, message_id=message.message_id)
        standin.block(ben.id)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(ben.id, "again")
        standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(ben.id, "later")
        assert retry.value.retry_after in (3, __import__("datetime").timedelta(seconds=3))
        await bot.delete_message(ben.id, message.message_id)
        assert standin.chat(ben.id) == []


async def test_flood_limits_answer_429_per_chat(standin: BotApiStandIn) -> None:
    ben = SimulatedUser(standin, 9, "Ben")
    async with Bot(standin.token, base_url=f"{standin.url}/bot") as bot:
        for n in range(3):  # a short burst is allowed
            await bot.send_message(ben.id, f"burst {n}")
        with pytest.raises(RetryAfter):
            await bot.send_message(ben.id, "one too many")
    assert standin.too_many_requests == 1


async def test_get_updates_confirms_with_offset(standin: BotApiStandIn) -> None:
    ben = SimulatedUser(standin, 10, "Ben")
    async with Bot(standin.token, base_url=f"{standin.url}/bot") as bot:
        await ben.send("one", wait=False)
        await ben.send("two", wait=False)
        first = await bot.get_updates(timeout=0)
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in first] == [u.update_id for u in again], "unconfirmed updates come again"
        confirmed = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
        assert confirmed == ()
        assert first[0].message is not None and first[0].message.text == "one"


# ----------------------------------------------------------------------------- limits, as Telegram counts them

EMOJI = "😀"  # outside the BMP: two UTF-16 code units, as Telegram counts it


@pytest.fixture
async def unlimited() -> BotApiStandIn:
    """A stand-in without flood limits, for tests that send more than a short burst to one chat."""
    server = BotApiStandIn()
    await server.start()
    yield server  # type: ignore[misc]
    await server.stop()


async def test_text_limit_counts_utf16_units_after_html_parsing(unlimited: BotApiStandIn) -> None:
    ben = SimulatedUser(unlimited, 20, "Ben")
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        at_limit = await bot.send_message(ben.id, EMOJI * 2048)  # 2048 characters, 4096 units
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(ben.id, EMOJI * 2048 + "a")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.edit_message_text(EMOJI * 2048 + "a", chat_id=ben.id, message_id=at_limit.message_id)

        # Tags do not count, escaped characters count once; the stored text is what the user sees.
        bold = await bot.send_message(ben.id, "<b>" + "a" * 4095 + "</b>&lt;", parse_mode="HTML")
        stored = unlimited.messages[ben.id][bold.message_id]
        assert stored.text == "a" * 4095 + "<"
        assert stored.entities == [{"type": "bold", "offset": 0, "length": 4095}]
        assert bold.entities[0].type == MessageEntity.BOLD
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(ben.id, "<i>" + "a" * 4096 + "</i>&amp;", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(ben.id, "pain < 5", parse_mode="HTML")

        given = [MessageEntity(MessageEntity.ITALIC, 0, 4)]
        italic = await bot.send_message(ben.id, "calm day", entities=given)
        assert unlimited.messages[ben.id][italic.message_id].entities == [{"type": "italic", "offset": 0, "length": 4}]


async def test_caption_limit_for_every_media_send_and_edit(unlimited: BotApiStandIn) -> None:
    ben = SimulatedUser(unlimited, 21, "Ben")
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        photo = await bot.send_photo(ben.id, PNG, caption=EMOJI * 512)
        assert unlimited.messages[ben.id][photo.message_id].caption == EMOJI * 512
        with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
            await bot.send_photo(ben.id, PNG, caption=EMOJI * 512 + "a")
        with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
            await bot.send_document(ben.id, b"csv", filename="diary.csv", caption=EMOJI * 512 + "a")
        with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
            await bot.send_voice(ben.id, b"OggS", caption=EMOJI * 512 + "a")
        with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
            await bot.edit_message_caption(chat_id=ben.id, message_id=photo.message_id, caption=EMOJI * 512 + "a")
        with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
            await bot.copy_message(ben.id, ben.id, photo.message_id, caption=EMOJI * 512 + "a")
        # A Premium user's caption longer than a bot's is copied as it is, but not with buttons added.
        long = ben.send_photo("x" * 2000)
        copied = await bot.copy_message(-1001, ben.id, long.message_id)
        assert unlimited.messages[-1001][copied.message_id].caption == "x" * 2000
        buttons = InlineKeyboardMarkup([[InlineKeyboardButton("Reply", callback_data="r")]])
        with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
            await bot.copy_message(-1001, ben.id, long.message_id, reply_markup=buttons)
        text = await bot.send_message(ben.id, "text")
        with pytest.raises(BadRequest, match=r"(?i)there is no caption"):
            await bot.edit_message_caption(chat_id=ben.id, message_id=text.message_id, caption="x")


async def test_callback_data_over_64_bytes_is_refused(unlimited: BotApiStandIn) -> None:
    ben = SimulatedUser(unlimited, 22, "Ben")

    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton("ok", callback_data="ok"), InlineKeyboardButton("x", callback_data=data)]]
        )

    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        sent = await bot.send_message(ben.id, "pick", reply_markup=keyboard("é" * 32))  # 64 bytes
        assert ben.last.buttons[1] == ("x", "é" * 32)
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(ben.id, "pick", reply_markup=keyboard("é" * 32 + "a"))
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.edit_message_reply_markup(ben.id, sent.message_id, reply_markup=keyboard("a" * 65))


async def test_callback_answer_over_200_characters_is_refused_and_the_query_stays_open(
    unlimited: BotApiStandIn,
) -> None:
    ben = SimulatedUser(unlimited, 23, "Ben")
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        await bot.send_message(
            ben.id, "pick", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
        )
        query_id = unlimited.callback_query(ben.json, ben.last, "a", "a")
        with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
            await bot.answer_callback_query(query_id, text=EMOJI * 100 + "a")
        assert await bot.answer_callback_query(query_id, text=EMOJI * 100)
        assert unlimited.callback_answers[query_id]["text"] == EMOJI * 100


# ----------------------------------------------------------------------------- edits of the bot's messages


async def test_edits_that_change_nothing_are_not_modified(unlimited: BotApiStandIn) -> None:
    ben = SimulatedUser(unlimited, 24, "Ben")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Acknowledge", callback_data="ack")]])
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        card = await bot.send_photo(ben.id, PNG, caption="Alert", reply_markup=markup)
        where = {"chat_id": ben.id, "message_id": card.message_id}
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_caption(caption="Alert", reply_markup=markup, **where)
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_reply_markup(reply_markup=markup, **where)
        same_photo = InputMediaPhoto(card.photo[-1].file_id, caption="Alert")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_media(same_photo, reply_markup=markup, **where)
        with pytest.raises(BadRequest, match=r"(?i)there is no text"):
            await bot.edit_message_text("Alert", **where)


async def test_edit_message_media_replaces_the_photo_and_its_caption(unlimited: BotApiStandIn) -> None:
    ben = SimulatedUser(unlimited, 25, "Ben")
    newer = PNG[:16] + (640).to_bytes(4, "big") + (480).to_bytes(4, "big") + PNG[24:] + b"newer"
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        chart = await bot.send_photo(ben.id, PNG, caption="Week 1")
        edited = await bot.edit_message_media(
            InputMediaPhoto(newer, caption="Week 2"), chat_id=ben.id, message_id=chart.message_id
        )
        assert isinstance(edited, Message) and edited.caption == "Week 2" and edited.edit_date is not None
        assert (edited.photo[-1].width, edited.photo[-1].height) == (640, 480)
        assert edited.photo[-1].file_id != chart.photo[-1].file_id
        stored = unlimited.messages[ben.id][chart.message_id]
        assert stored.photo == newer and stored.caption == "Week 2" and stored.edits == 1

        # A new media without a caption leaves the message without one, as on Telegram.
        await bot.edit_message_media(InputMediaPhoto(PNG), chat_id=ben.id, message_id=chart.message_id)
        assert stored.caption is None and stored.photo == PNG
        assert [e.kind for e in unlimited.transcript] == ["photo", "edit", "edit"]


# ----------------------------------------------------------------------------- what users send


async def test_users_send_media_locations_and_contacts_in_telegram_shapes(unlimited: BotApiStandIn) -> None:
    ben = SimulatedUser(unlimited, 26, "Ben")
    sent = [
        ben.send_photo("my hand today"),
        ben.send_voice(4),
        ben.send_video_note(),
        ben.send_video("swelling"),
        ben.send_audio(),
        ben.send_document("letter.pdf", b"%PDF-1.7", caption="from the clinic"),
        ben.send_sticker("😣"),
        ben.send_location(52.52, 13.405),
        ben.send_contact("+49 30 1234567", "Dr Ruiz"),
    ]
    assert ben.sent_messages == sent
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        messages = [u.message for u in await bot.get_updates(timeout=0)]
    assert all(m is not None for m in messages)
    photo, voice, note, video, audio, document, sticker, location, contact = messages
    kinds = ["photo", "voice", "video_note", "video", "audio", "document", "sticker", "location", "contact"]
    assert [m.kind for m in sent] == kinds
    assert photo.caption == "my hand today" and len(photo.photo) > 1 and photo.photo[-1].file_id == sent[0].file_id
    assert voice.voice is not None and voice.voice.mime_type == "audio/ogg" and sent[1].media["voice"]["duration"] == 4
    assert note.video_note is not None and note.video_note.file_unique_id
    assert video.video is not None and video.caption == "swelling" and video.video.mime_type == "video/mp4"
    assert audio.audio is not None and audio.audio.file_size
    assert document.document is not None and document.document.file_name == "letter.pdf"
    assert document.document.mime_type == "application/pdf" and document.document.file_size == len(b"%PDF-1.7")
    assert sent[5].document == b"%PDF-1.7"
    assert sticker.sticker is not None and sticker.sticker.emoji == "😣"
    assert location.location is not None and location.location.latitude == 52.52
    assert location.location.longitude == 13.405
    assert contact.contact is not None and contact.contact.first_name == "Dr Ruiz"
    assert [m.from_user.id for m in messages if m.from_user] == [ben.id] * 9
    assert [e.text for e in unlimited.transcript][:2] == ["[photo] my hand today", "[voice 4s]"]


async def test_an_edited_message_reaches_ptb_as_edited_message() -> None:
    clock = FakeClock(1_700_000_000)
    standin = BotApiStandIn(clock=clock)
    await standin.start()
    try:
        ben = SimulatedUser(standin, 27, "Ben")
        said = ben.say("pain 5")
        clock.now += 90
        assert await ben.edit(said, "pain 6", wait=False) is None
        photo = ben.send_photo("left hand")
        await ben.edit_caption(photo, "right hand", wait=False)
        async with Bot(standin.token, base_url=f"{standin.url}/bot") as bot:
            first, edit, _, caption_edit = await bot.get_updates(timeout=0)
        assert first.message is not None and first.message.text == "pain 5"
        edited = edit.edited_message
        assert edited is not None and edited.message_id == said.message_id and edited.text == "pain 6"
        assert edited.chat.id == ben.id and edited.edit_date is not None
        assert edited.edit_date.timestamp() == 1_700_000_090 and edited.date.timestamp() == 1_700_000_000
        assert caption_edit.edited_message is not None and caption_edit.edited_message.caption == "right hand"
        assert said.text == "pain 6" and said.edits == 1
    finally:
        await standin.stop()


async def test_replies_both_ways(unlimited: BotApiStandIn) -> None:
    ben = SimulatedUser(unlimited, 28, "Ben")
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        question = await bot.send_message(ben.id, "Anything to add?", reply_markup=ForceReply())
        stored_question = unlimited.messages[ben.id][question.message_id]
        assert stored_question.reply_markup == {"force_reply": True} and stored_question.buttons == []

        answer = ben.say("It burned at night", reply_to=stored_question)
        (update,) = await bot.get_updates(timeout=0)
        assert update.message is not None and update.message.reply_to_message is not None
        assert update.message.reply_to_message.message_id == question.message_id
        assert update.message.reply_to_message.text == "Anything to add?"

        thanks = await bot.send_message(ben.id, "Noted.", reply_parameters=ReplyParameters(answer.message_id))
        assert thanks.reply_to_message is not None and thanks.reply_to_message.text == "It burned at night"
        assert unlimited.messages[ben.id][thanks.message_id].reply_to == answer.message_id
        older = await bot.send_message(ben.id, "And?", reply_to_message_id=question.message_id)
        assert unlimited.messages[ben.id][older.message_id].reply_to == question.message_id
        with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
            await bot.send_message(ben.id, "?", reply_to_message_id=999)
        lenient = await bot.send_message(ben.id, "?", reply_to_message_id=999, allow_sending_without_reply=True)
        assert unlimited.messages[ben.id][lenient.message_id].reply_to is None

        # The driver's send takes reply_to too, and still returns the bot's reply.
        replying = asyncio.create_task(ben.send("and in the morning", reply_to=stored_question))
        await asyncio.sleep(0.05)
        await bot.send_message(ben.id, "Thanks")
        reply = await replying
        assert reply is not None and reply.text == "Thanks"
        assert ben.sent_messages[-1].reply_to == question.message_id


# ----------------------------------------------------------------------------- copying, forwarding, sending files


async def test_copy_message_of_a_voice_note_and_a_location(unlimited: BotApiStandIn) -> None:
    ben = SimulatedUser(unlimited, 29, "Ben")
    unlimited.add_group(-1001, "Staff", members=[])
    voice = ben.send_voice(7, caption="it hurts")
    location = ben.send_location(48.137, 11.575)
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        copied = await bot.copy_message(-1001, ben.id, voice.message_id)
        assert isinstance(copied, MessageId)
        copy = unlimited.messages[-1001][copied.message_id]
        assert copy.from_bot and copy.kind == "voice" and copy.media == voice.media and copy.caption == "it hurts"
        assert copy.copied_from == (ben.id, voice.message_id) and copy.forward_origin is None

        recaptioned = await bot.copy_message(-1001, ben.id, voice.message_id, caption="P-0001, voice note")
        assert unlimited.messages[-1001][recaptioned.message_id].caption == "P-0001, voice note"
        where = await bot.copy_message(-1001, ben.id, location.message_id)
        assert unlimited.messages[-1001][where.message_id].media == {
            "location": {"latitude": 48.137, "longitude": 11.575}
        }
        assert [e.kind for e in unlimited.transcript if e.actor == "bot"] == ["copy", "copy", "copy"]

        with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
            await bot.copy_message(-1001, ben.id, 999)
        unlimited.block(ben.id)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.copy_message(ben.id, -1001, copied.message_id)

        forwarded = await bot.forward_message(-1001, ben.id, voice.message_id)
        assert isinstance(forwarded.forward_origin, MessageOriginUser)
        assert forwarded.forward_origin.sender_user.id == ben.id and forwarded.voice is not None


async def test_send_voice_by_upload_and_by_file_id(unlimited: BotApiStandIn) -> None:
    ben = SimulatedUser(unlimited, 30, "Ben")
    theirs = ben.send_voice(3)
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        uploaded = await bot.send_voice(ben.id, b"OggS-recording", duration=4)
        assert uploaded.voice is not None and uploaded.voice.file_size == len(b"OggS-recording")
        assert unlimited.messages[ben.id][uploaded.message_id].media["voice"]["duration"] == 4
        assert unlimited.messages[ben.id][uploaded.message_id].upload == b"OggS-recording"
        again = await bot.send_voice(ben.id, theirs.file_id)
        assert again.voice is not None and again.voice.file_unique_id == theirs.media["voice"]["file_unique_id"]
        with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
            await bot.send_voice(ben.id, "no-such-file")


# ----------------------------------------------------------------------------- chats and membership


async def test_get_chat_get_chat_member_and_leave_chat(unlimited: BotApiStandIn) -> None:
    ben, ada = SimulatedUser(unlimited, 31, "Ben"), SimulatedUser(unlimited, 32, "Ada")
    unlimited.add_group(-2002, "Ward 3", members=[ada.id])
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        group = await bot.get_chat(-2002)
        assert group.title == "Ward 3" and group.type == ChatType.GROUP
        private = await bot.get_chat(ben.id)
        assert private.first_name == "Ben" and private.type == ChatType.PRIVATE
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.get_chat(-404)

        assert isinstance(await bot.get_chat_member(-2002, bot.id), ChatMemberMember)
        unlimited.set_bot_status(-2002, "administrator")
        admin = await bot.get_chat_member(-2002, bot.id)
        assert isinstance(admin, ChatMemberAdministrator) and admin.can_delete_messages
        assert isinstance(await bot.get_chat_member(-2002, ada.id), ChatMemberMember)
        assert isinstance(await bot.get_chat_member(-2002, ben.id), ChatMemberLeft)

        with pytest.raises(BadRequest, match=r"(?i)private chats"):
            await bot.leave_chat(ben.id)
        assert await bot.leave_chat(-2002)
        assert unlimited.left_chats == [-2002] and unlimited.transcript[-1].kind == "leave"
        with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
            await bot.send_message(-2002, "still there?")
        with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
            await bot.get_chat_member(-2002, bot.id)
        (left,) = await bot.get_updates(timeout=0)
        assert left.my_chat_member is not None and left.my_chat_member.new_chat_member.status == ChatMember.LEFT
        ada.say("hello?", chat_id=-2002)
        assert await bot.get_updates(timeout=0) == (left,), "nothing from a group the bot has left"


async def test_my_chat_member_when_added_to_a_group_and_when_blocked(unlimited: BotApiStandIn) -> None:
    ada, ben = SimulatedUser(unlimited, 33, "Ada"), SimulatedUser(unlimited, 34, "Ben")
    unlimited.add_bot_to_group(-3003, "Night shift", by=ada)
    ben.block_bot()
    async with Bot(unlimited.token, base_url=f"{unlimited.url}/bot") as bot:
        added, announced, blocked = await bot.get_updates(timeout=0)
        assert added.my_chat_member is not None
        assert added.my_chat_member.chat.title == "Night shift" and added.my_chat_member.from_user.id == ada.id
        assert added.my_chat_member.old_chat_member.status == ChatMember.LEFT
        assert added.my_chat_member.new_chat_member.status == ChatMember.MEMBER
        assert added.my_chat_member.new_chat_member.user.id == bot.id
        assert announced.message is not None and [u.id for u in announced.message.new_chat_members] == [bot.id]
        assert blocked.my_chat_member is not None and blocked.my_chat_member.chat.id == ben.id
        assert isinstance(blocked.my_chat_member.new_chat_member, ChatMemberBanned)
        assert (await bot.get_chat(-3003)).title == "Night shift"
        assert isinstance(await bot.get_chat_member(-3003, ada.id), ChatMemberMember)
        await bot.send_message(-3003, "Hello, night shift")
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(ben.id, "hello?")


async def test_a_fake_clock_dates_what_the_stand_in_writes() -> None:
    clock = FakeClock(1_700_000_000)
    standin = BotApiStandIn(clock=clock)
    await standin.start()
    try:
        ben = SimulatedUser(standin, 35, "Ben")
        ben.say("one")
        ben.say("two", date=datetime(2024, 5, 1, 8, 0, tzinfo=UTC))
        async with Bot(standin.token, base_url=f"{standin.url}/bot") as bot:
            clock.now += 30
            sent = await bot.send_message(ben.id, "three")
            one, two = await bot.get_updates(timeout=0)
        assert one.message is not None and one.message.date.timestamp() == 1_700_000_000
        assert two.message is not None and two.message.date == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
        assert sent.date.timestamp() == 1_700_000_030
    finally:
        await standin.stop()
