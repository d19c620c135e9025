"""What a patient sends outside the buttons: text, photos, voice notes and the rest, edits, and requests
to be contacted. The domain (bot/care_team/intake.py) keeps and files it; here the check-in message is
brought up to date and the patient gets a short acknowledgement."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import (
    Message,
    MessageEntity,
    MessageOrigin,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginUser,
    Update,
    User,
)
from telegram.error import BadRequest

from bot.care_team.intake import Author, FiledAs, Origin, Received, as_sent
from bot.care_team.text_limits import Entity, formatted_with_links, struck_out
from bot.diary.enrolment import has_token
from bot.handlers.checkin import checkin_completed
from bot.handlers.context import DiaryContext
from bot.views.checkin import render
from bot.views.edits import edit, gone

log = logging.getLogger(__name__)

# What a message holds, in the order PTB fills its fields (a venue also carries a location, an animation
# a document): the kind names the staff chat's "P-0012 sent a voice message".
KINDS = (
    "photo",
    "voice",
    "video_note",
    "video",
    "audio",
    "animation",
    "document",
    "sticker",
    "venue",
    "location",
    "contact",
    "dice",
    "poll",
    "checklist",
    "story",
    # Service messages that hold the patient's words: an answer they added to their poll, tasks to their checklist,
    # the name they gave a topic of their chat (a bot's private chat has topics in threaded mode: Bot API 9.3).
    "poll_option_added",
    "checklist_tasks_added",
    "forum_topic_created",
    "forum_topic_edited",
)

# Service messages that are words only when the patient named a topic.
NAMING = frozenset({"forum_topic_created", "forum_topic_edited"})

# What a patient can replace with another file in an edit (Telegram's editMessageMedia kinds).
REPLACEABLE = frozenset({"photo", "video", "audio", "document", "animation"})


def kind_of(message: Message) -> str:
    return next((kind for kind in KINDS if getattr(message, kind, None)), "other")


def file_of(message: Message) -> str | None:
    """The file a photo, video, document... holds, by Telegram's file_unique_id (the same for the same file, another
    for a file replaced in an edit); None for what holds none (a place, a poll)."""
    held = message.photo[-1] if message.photo else getattr(message, kind_of(message), None)
    return getattr(held, "file_unique_id", None)


def linked(text: str, entities: Sequence[MessageEntity]) -> str:
    """Formatted words with the address of each link behind them written out (see text_limits.with_links), and words
    struck out between "~~" (text_limits.struck_out: "I took ~~3~~ 2 tablets" says 2)."""
    kept = [e for e in entities if e.type in (MessageEntity.TEXT_LINK, MessageEntity.STRIKETHROUGH)]
    if not kept:
        return text
    written, placed = formatted_with_links(text, [Entity(e.type, e.offset, e.length, url=e.url) for e in kept])
    return struck_out(written, placed)


def typed(message: Message) -> str | None:
    """A text message's words, with any link address its formatting hid."""
    return None if message.text is None else linked(message.text, message.entities)


def words_of(message: Message) -> str:
    """What a patient wrote on something that is not text: a caption (with any link address its formatting
    hid), a poll's question, description, answers and (a quiz's) explanation, a checklist's title and tasks, an
    answer or tasks they added to these later, or the name they gave a topic of their chat."""
    if message.caption:
        return linked(message.caption, message.caption_entities)
    if message.poll is not None:
        poll = message.poll
        words = [poll.question, poll.description, *(option.text for option in poll.options), poll.explanation]
        return "\n".join(part for part in words if part)
    if message.checklist is not None:
        return "\n".join([message.checklist.title, *(task.text for task in message.checklist.tasks)])
    if message.poll_option_added is not None:
        return message.poll_option_added.option_text
    if message.checklist_tasks_added is not None:
        return "\n".join(task.text for task in message.checklist_tasks_added.tasks)
    if message.forum_topic_created is not None:
        # A topic opened without a name Telegram names itself ("New Chat"): not the patient's words.
        return "" if message.forum_topic_created.is_name_implicit else message.forum_topic_created.name
    if message.forum_topic_edited is not None:
        return message.forum_topic_edited.name or ""  # none when only the icon changed
    return ""


def crisis_words(message: Message, bot_id: int) -> str:
    """What of a message is read for crisis language: its words (typed, or a caption...) with any quoted from
    another chat; nothing of the diary's own message forwarded back (its PHQ-9 question speaks of dying)."""
    origin = origin_of(message, bot_id)
    words = typed(message) or words_of(message)  # words struck out marked, as they are kept
    return as_sent(words, origin) if origin.read else ""


def shown_of(message: Message) -> str:
    """What a copy of a place or a contact would show besides the patient's words: its name and address, or
    its name, number and web address (checked for an invite link, not read as the patient's words)."""
    if message.venue is not None:
        return f"{message.venue.title}\n{message.venue.address}"
    if message.contact is not None:
        contact = message.contact
        name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
        return "\n".join([name, contact.phone_number, *_vcard_links(contact.vcard or "")])
    return ""


def _vcard_links(vcard: str) -> list[str]:
    """A contact card's web addresses and notes ("URL:…", Apple's "item1.URL;type=pref:https\\://…", "NOTE:…"),
    and any other field that holds an invite token (a social profile, a messenger address, a custom field)."""
    found = []
    for line in vcard.splitlines():
        name, _, value = line.partition(":")
        value = value.replace("\\:", ":")
        if name.split(";")[0].split(".")[-1].upper() in ("URL", "NOTE") or has_token(value):
            found.append(value)
    return found


def origin_of(message: Message, bot_id: int) -> Origin:
    """Whether the message was forwarded (whose it was), or what it replies to: a message of this chat (its
    words, or the part quoted), or of another chat (Telegram's "Reply in another chat": only the part quoted
    reaches the bot)."""
    patient = message.from_user
    # Typed in a topic of their chat (threaded mode), or the topic's opening (its name): what they are told goes there.
    topic = message.message_thread_id if message.is_topic_message else None
    if topic is None and message.forum_topic_created is not None:
        topic = message.message_id  # a topic is numbered by its first message
    forwarded = _author(message.forward_origin, patient, bot_id) if message.forward_origin is not None else None
    # A quote keeps its formatting: words struck out in it are marked, as in typed words ("I ~~don't~~ want to die").
    quote = linked(message.quote.text, message.quote.entities or ()) if message.quote is not None else ""
    if message.external_reply is not None:
        author = _author(message.external_reply.origin, patient, bot_id)
        return Origin(forwarded=forwarded, reply_to=author, elsewhere=True, quote=quote, topic=topic)
    replied = message.reply_to_message
    if replied is None or _topic_start(message, replied):
        return Origin(forwarded=forwarded, topic=topic)
    author = _of_user(replied.from_user, patient, bot_id) if replied.from_user is not None else Author.CHAT
    words = quote or typed(replied) or words_of(replied)
    what = None if words else kind_of(replied)
    return Origin(
        forwarded=forwarded, reply_to=author, quote=words, what=what, replied_id=replied.message_id, topic=topic
    )


def _topic_start(message: Message, replied: Message) -> bool:
    """Whether `replied` is the first message of the topic `message` was typed in. In a topic (a forum's, or one of
    a private chat with a bot in threaded mode: Bot API 9.3) Telegram gives every message not replying to another as
    a reply to that first message, the service message "topic created": it answers nothing."""
    return bool(message.is_topic_message) and replied.message_id == message.message_thread_id


def _author(origin: MessageOrigin, patient: User | None, bot_id: int) -> Author:
    if isinstance(origin, MessageOriginUser):
        return _of_user(origin.sender_user, patient, bot_id)
    if isinstance(origin, MessageOriginChat | MessageOriginChannel):
        return Author.CHAT
    return Author.HIDDEN


def _of_user(user: User, patient: User | None, bot_id: int) -> Author:
    if user.id == bot_id:
        return Author.BOT
    return Author.SELF if patient is not None and user.id == patient.id else Author.OTHER


async def received(update: Update, context: DiaryContext) -> None:
    message = update.effective_message
    assert message is not None and context.patient is not None
    services = context.services
    text = typed(message)
    origin = origin_of(message, context.bot.id)
    if text is not None:
        got = await services.intake.text(
            patient=context.patient,
            text=text,
            chat_id=message.chat_id,
            message_id=message.message_id,
            update_id=update.update_id,
            now=context.now,
            origin=origin,
        )
    elif kind_of(message) in NAMING and not words_of(message):
        # A topic Telegram named, or whose icon alone changed: nothing the patient wrote.
        log.info("a topic without a name from patient %s (update %s)", context.patient.id, update.update_id)
        return
    else:
        got = await services.intake.media(
            patient=context.patient,
            kind=kind_of(message),
            caption=words_of(message),
            shown=shown_of(message),
            chat_id=message.chat_id,
            message_id=message.message_id,
            update_id=update.update_id,
            now=context.now,
            album=message.media_group_id,
            origin=origin,
            file_unique_id=file_of(message),
        )
    if got.filed_as is None:
        # A replayed update that had taken effect: the process may have died before the rules looked at
        # a check-in it finished. They look now; what they had already raised, they do not raise again.
        assert context.patient.id is not None
        if not got.completed:  # (a finished check-in's follow-up below has them look)
            await services.desk.evaluate(patient_id=context.patient.id, now=context.now)
        if got.replayed is None:
            return
    services.outbox_wake.set()
    filed_as = got.filed_as or got.replayed
    log.info("patient %s sent a message, filed as %s", context.patient.id, filed_as)
    # Replayed, words that went to a check-in are followed up again: the process may have died after storing
    # them and before this. The rules raise nothing twice and a questionnaire is offered once a day; the
    # patient may be told twice that their note is saved, had it died just after telling them.
    await _after_checkin_change(message, context, got)
    if filed_as is FiledAs.NOTE and not got.crisis:
        # Midway, the patient is asked to go on with the buttons; at the summary (the rest of a long note), not.
        done = got.completed or got.checkin is None or got.checkin.step is None
        key = "checkin.note_saved" if done else "checkin.note_saved_midway"
        await message.reply_text(context.text(key))
    elif filed_as is FiledAs.ANSWER and not got.crisis:
        await message.reply_text(context.text("checkin.saved"))


async def edited(update: Update, context: DiaryContext) -> None:
    message = update.edited_message
    assert message is not None and context.patient is not None
    text = typed(message)
    text = text if text is not None else words_of(message)
    kind = kind_of(message)
    # A photo, video, document... may have been replaced, or lost its caption: staff get it as it now is.
    media = (kind, message.chat_id) if message.text is None and kind in REPLACEABLE else None
    if not text and media is None:  # e.g. a live location moving on: nothing new to read
        log.info("an edit without text from patient %s (update %s)", context.patient.id, update.update_id)
        return
    got = await context.services.intake.edit(
        patient=context.patient,
        text=text,
        message_id=message.message_id,
        update_id=update.update_id,
        now=context.now,
        media=media,
        origin=origin_of(message, context.bot.id),
        file_unique_id=file_of(message),
    )
    # Replayed, an edit that changed a check-in is followed up again, as a new message is (see `received`).
    filed_as = got.filed_as or got.replayed
    if filed_as is None:
        return
    context.services.outbox_wake.set()
    log.info("patient %s edited a message, filed as %s", context.patient.id, filed_as)
    if filed_as is FiledAs.ANSWER and got.checkin is not None and got.checkin.step is None:
        # An answer of a finished check-in changed: the rules look again (they raise nothing twice).
        assert context.patient.id is not None
        await context.services.desk.evaluate(patient_id=context.patient.id, now=context.now)
    await _after_checkin_change(message, context, got)
    if filed_as is FiledAs.NOTE and not got.crisis:
        await message.reply_text(context.text("checkin.note_updated"))
    elif filed_as is FiledAs.ANSWER:
        await message.reply_text(context.text("checkin.saved"))


async def _after_checkin_change(message: Message, context: DiaryContext, got: Received) -> None:
    """The rules look at a completed check-in first (staff must hear of it even if showing it fails),
    then the check-in's message shows its new state."""
    assert context.patient is not None and context.patient.id is not None
    services = context.services
    if got.completed:
        await checkin_completed(context)
    state = got.checkin
    if state is None or state.chat_id is None or state.message_id is None:
        return
    text, keyboard = render(state, language=context.patient.language, catalog=services.catalog)
    try:
        await edit(
            context.bot.edit_message_text(
                text, chat_id=state.chat_id, message_id=state.message_id, reply_markup=keyboard
            )
        )
    except BadRequest as error:
        if not gone(error):
            raise
        # The patient deleted the check-in from their chat: it comes again, with the buttons to go on.
        sent = await context.bot.send_message(state.chat_id, text, reply_markup=keyboard)
        await services.checkins.attach_message(checkin_id=state.id, chat_id=state.chat_id, message_id=sent.message_id)


async def callme_command(update: Update, context: DiaryContext) -> None:
    """/callme: the patient asks their care team to contact them."""
    assert context.patient is not None
    # "/callme about my infusion": the words after the command go to staff with the request (none for the button).
    message = update.message or update.edited_message  # None for the button
    parts = (typed(message) or "").split(maxsplit=1) if message is not None else []
    words = parts[1] if len(parts) == 2 else ""
    # Words quoted with it from another chat ("Reply in another chat") go with the request, as the patient's.
    origin = origin_of(message, context.bot.id) if message is not None else Origin()
    intake = context.services.intake
    if update.edited_message is not None and await intake.asked_with(
        patient=context.patient, message_id=update.edited_message.message_id
    ):
        # A /callme put right (a typo in its words): the change reaches staff as an edit, not as a second request.
        await edited(update, context)
        return
    if await intake.contact_request(
        patient=context.patient,
        update_id=update.update_id,
        now=context.now,
        words=words,
        origin=origin,
        message_id=message.message_id if message is not None else None,
    ):
        context.services.outbox_wake.set()
        log.info("patient %s asked to be contacted", context.patient.id)


async def contact_me(update: Update, context: DiaryContext) -> None:
    """The "Please contact me" button under the reply to a patient's message."""
    query = update.callback_query
    assert query is not None and context.patient is not None
    await callme_command(update, context)
    await query.answer()
