"""Staff write back to a patient from the staff chat or their direct chat with the bot (Reply), and
mark a patient's message as seen (Seen). The sender gate has already checked that they are staff;
the domain is bot/care_team/replies.py."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from telegram import ChatMember, ForceReply, Message, MessageEntity, MessageOriginUser, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.care_team.text_limits import SPLIT_PART, Entity, formatted_with_links, shorten, units
from bot.console import auth
from bot.diary.enrolment import holds_an_invite
from bot.handlers.context import DiaryContext
from bot.views.callback_data import parse_reply, parse_seen
from bot.views.edits import edit
from storage.statuses import PatientStatus

log = logging.getLogger(__name__)


async def reply_button(update: Update, context: DiaryContext) -> None:
    """Reply: post a prompt to reply to, and take this staff member's next message here for the patient."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and user is not None
    services = context.services
    t = partial(context.sender_text, update)
    patient_id = parse_reply(query.data)
    patient = await services.replies.patient(patient_id=patient_id) if patient_id is not None else None
    if patient is None or patient.id is None:
        await query.answer(t("staff.reply_no_patient"), show_alert=True)
        return

    async def post() -> int:
        # ForceReply opens the reply field; in a group with privacy mode on, a reply to the bot's message is
        # the one kind of message the bot receives, so the prompt is what staff answer.
        prompt = await context.bot.send_message(
            chat.id,
            t("staff.reply_prompt", code=patient.code),
            reply_markup=ForceReply(
                input_field_placeholder=shorten(t("staff.reply_placeholder", code=patient.code), 64)
            ),
            reply_to_message_id=query.message.message_id if isinstance(query.message, Message) else None,
        )
        return prompt.message_id

    await services.replies.prompt(
        update_id=update.update_id,
        chat_id=chat.id,
        staff_user_id=user.id,
        patient_id=patient.id,
        now=context.now,
        post=post,
        topic=topic_of(query.message) if isinstance(query.message, Message) else None,
    )
    await query.answer(t("staff.reply_hint"))


async def relay(update: Update, context: DiaryContext) -> bool:
    """A staff member's message: to a patient if it answers a message about them, or follows Reply.
    False when it is for nobody."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = context.services
    t = partial(context.sender_text, update)
    replying_to = message.reply_to_message
    from_bot = (
        replying_to is not None and replying_to.from_user is not None and replying_to.from_user.id == context.bot.id
    )
    about = replying_to.message_id if replying_to is not None and from_bot else None
    if about is None:
        about = _across_topics(message, context.bot.id)
    addressee = await services.replies.addressee(
        chat_id=message.chat_id,
        replying_to=about,
        staff_user_id=user.id,
        now=context.now,
        named=named_by_reply_button(replying_to) if replying_to is not None and from_bot else None,
        message_id=message.message_id,
        topic=topic_of(message),
    )
    patient_id = addressee.patient_id
    late_first_part = False
    private = message.chat.type == ChatType.PRIVATE
    if patient_id is None and about is None and private and message.text and units(message.text) >= SPLIT_PART:
        # The first part of a long reply whose rest was delivered before it (by webhook) and went to the patient: it
        # goes there too, rather than lost with its writer shown the staff help.
        patient_id = await services.replies.first_part_of(
            chat_id=message.chat_id, message_id=message.message_id, written_at=message.date
        )
        late_first_part = patient_id is not None
    if addressee.colleagues and patient_id is not None:
        # "Thanks Sam, I'll ring him later" under the bot's "Your reply is on its way to P-0001", or a message
        # typed where Telegram opened the reply field on Sam's prompt: talk among staff, which the patient must
        # not get; one who did mean the patient is told how.
        patient = await services.replies.patient(patient_id=patient_id)
        code = patient.code if patient is not None else "?"
        await message.reply_text(t("staff.reply_to_colleague", code=code))
        return True
    if patient_id is None and about is not None and message.chat.type != ChatType.PRIVATE:
        # A reply to one of the bot's own messages in a group is meant for the bot (the only kind Telegram
        # passes it): it is not dropped without a word. (A direct chat answers every message anyway; there
        # a staff member who is a patient too may be answering their own diary.)
        await message.reply_text(t("staff.reply_to_whom"))
        return True
    if patient_id is None:
        return False
    if not message.text:
        await message.reply_text(t("staff.reply_text_only"))
        return True
    if await services.replies.went_from_its_edit(
        chat_id=message.chat_id, message_id=message.message_id, update_id=update.update_id
    ):
        # Its edit went as the reply and was confirmed: this first version, late, neither goes nor is confirmed again,
        # and a Reply its writer pressed since stays pressed.
        return True
    # Telegram's app may send the rest a moment later (not when it came already: a Reply kept pressed would take
    # whatever its writer types next).
    rest_may_follow = units(message.text) >= SPLIT_PART and not late_first_part
    text, entities = _formatted(message.text, message.entities)
    if message.chat.type != ChatType.PRIVATE and (
        context.withdrew_invite or await holds_an_invite(services.database, text)
    ):
        # An invite link written in the group stops working as the bot sees it (gate.py: anyone there could open it
        # first), and one used already works for nobody: the patient would get a dead link. Not sent; its writer is
        # told why (their Reply stays pressed for the words again without it).
        patient = await services.replies.patient(patient_id=patient_id)
        await message.reply_text(t("staff.reply_with_link", code=patient.code if patient is not None else "?"))
        return True
    withdrawn = await auth.withdraw_posted(
        services.database,
        words=text,
        chat_id=message.chat_id,
        actor_id=user.id,
        now=context.now,
        staff_text=None,
        seen="written in a reply to a patient",
    )
    if withdrawn or context.withdrew_console_link or auth.has_signin_link(text, services.settings.console_url):
        # A web console sign-in link signs its holder in as the staff member it was made for, every patient's record
        # in view: it never goes to a patient. One still working stops working (audited); the reply does not go.
        patient = await services.replies.patient(patient_id=patient_id)
        await message.reply_text(t("staff.reply_with_console_link", code=patient.code if patient is not None else "?"))
        return True
    # Telegram shows its writer the words they quoted above their reply, and "Yes" says what it answers: the patient
    # gets them too. Only the patient's own words: a card's (their scores as the diary reads them) never go to them.
    quote = message.quote.text if message.quote is not None and message.quote.text.strip() else None
    if quote is not None and not await services.replies.patient_wrote(
        patient_id=patient_id,
        words=quote,
        now=context.now,
        hold=timedelta(hours=services.settings.relink_hold_hours),
    ):
        quote = None
    patient = await services.replies.send(
        patient_id=patient_id,
        staff_user_id=user.id,
        staff_name=user.full_name,
        text=text,
        entities=entities,
        quote=quote,
        update_id=update.update_id,
        now=context.now,
        source=(message.chat_id, message.message_id),
        rest_may_follow=rest_may_follow,
        topic=topic_of(message),
    )
    if patient is None:
        await message.reply_text(t("staff.reply_no_patient"))
        return True
    services.outbox_wake.set()
    log.info("staff %s replied to patient %s", user.id, patient.id)
    # Queued all the same: it goes once the patient unblocks the bot or writes to it (a refusal is owed again then).
    blocked = patient.status == PatientStatus.UNREACHABLE
    key = "staff.reply_sent_unreachable" if blocked else "staff.reply_sent"
    if rest_may_follow and message.chat.type != ChatType.PRIVATE and not await _reads_all(context, message.chat_id):
        # Telegram gives the bot only replies to its messages in this group: the rest of a text the app sent in parts
        # answers nothing and never reaches the bot. Said, not left to think the patient has it all.
        key += "_in_parts"
    said = await message.reply_text(t(key, code=patient.code))
    # It names the patient: a follow-up the staff member writes as a reply to it goes to them too.
    await services.replies.confirmed(
        chat_id=said.chat_id, message_id=said.message_id, patient_id=patient_id, staff_user_id=user.id, now=context.now
    )
    return True


def _formatted(text: str, entities: Sequence[MessageEntity]) -> tuple[str, list[Entity]]:
    """A staff member's words with their formatting ("Take ~~two~~ one tablet" says one), and the address behind
    formatted words written out after them ("our leaflet (https://…)"). A link to a colleague's Telegram profile is
    left out, as a text_mention is: staff accounts reach patients only if the clinic says so."""
    kept = [e for e in entities if not (e.type == MessageEntity.TEXT_LINK and (e.url or "").lower().startswith("tg:"))]
    return formatted_with_links(
        text, [Entity(e.type, e.offset, e.length, url=e.url, language=e.language) for e in kept]
    )


async def _reads_all(context: DiaryContext, chat_id: int) -> bool:
    """Whether Telegram gives the bot every message in this group: privacy mode off, or the bot one of its admins
    (asked, not remembered: an admin may make it one, or not, at any time)."""
    if context.bot.can_read_all_group_messages:
        return True
    try:
        member = await context.bot.get_chat_member(chat_id, context.bot.id)
    except TelegramError:
        return False  # then the rest is asked for: sent twice is better than half a reply lost
    return member.status == ChatMember.ADMINISTRATOR


def topic_of(message: Message) -> int | None:
    """The forum topic a message is in (its thread), None for a forum's General or a chat without topics (where
    Telegram may give a reply's thread all the same)."""
    return message.message_thread_id if message.is_topic_message else None


def _across_topics(message: Message, bot_id: int) -> int | None:
    """The bot's message in this chat that a staff member's message answers from another topic of a forum (the
    bot posts in General; Telegram gives such a reply as one to a message elsewhere, naming chat and message,
    and as a reply to the topic's first message), or None."""
    external = message.external_reply
    if external is None or external.chat is None or external.chat.id != message.chat_id:
        return None
    origin = external.origin
    if not isinstance(origin, MessageOriginUser) or origin.sender_user.id != bot_id:
        return None
    return external.message_id


def named_by_reply_button(message: Message) -> int | None:
    """The patient the Reply button under one of the bot's own messages names (its buttons are the bot's: no
    one else can put them there)."""
    markup = message.reply_markup
    buttons = [button for row in markup.inline_keyboard for button in row] if markup is not None else []
    return next((found for b in buttons if (found := parse_reply(b.callback_data)) is not None), None)


async def not_in_the_staff_chat(update: Update, context: DiaryContext) -> None:
    """Talk in a group that is not the staff chat: a staff member's reply there to one of the bot's messages
    about a patient (sent while the group was the staff chat, before an admin chose another) reaches no one.
    They are told so, rather than left to think the patient has their answer; no patient is named, since
    who reads that group now is not known."""
    message, user = update.effective_message, update.effective_user
    replying_to = message.reply_to_message if message is not None else None
    if message is None or user is None or replying_to is None or replying_to.from_user is None:
        return
    if replying_to.from_user.id != context.bot.id:
        return
    replies = context.services.replies
    about = await replies.about(chat_id=message.chat_id, message_id=replying_to.message_id)
    if about is None and named_by_reply_button(replying_to) is None:
        return
    if not await replies.is_staff(user.id):
        return
    await message.reply_text(context.sender_text(update, "staff.reply_not_in_staff_chat"))


async def sent_anonymously(update: Update, context: DiaryContext) -> None:
    """A reply to one of the bot's messages in the staff chat sent on behalf of a chat: by an admin of the group who
    remains anonymous (Telegram gives it as the group's own, from GroupAnonymousBot), or as a channel. It names no
    person, so it is no staff member's reply to a patient (a patient hears only from staff, and every reply is
    audited by its author): it is not sent, and whoever wrote it is told why, rather than left to think it went."""
    message = update.message
    if message is None or message.sender_chat is None:
        return
    replying_to = message.reply_to_message
    if replying_to is None or replying_to.from_user is None or replying_to.from_user.id != context.bot.id:
        return
    await message.reply_text(context.sender_text(update, "staff.reply_anonymous"))


async def edited(update: Update, context: DiaryContext) -> bool:
    """A staff member edited a message: if it went to a patient as a reply, the patient keeps it as first
    sent, and the staff member is told so rather than left to think the correction arrived. False when it
    was no reply to a patient."""
    message = update.edited_message
    assert message is not None
    text, entities = _formatted(message.text, message.entities) if message.text is not None else (None, [])
    edited_reply = await context.services.replies.edited_reply(
        chat_id=message.chat_id, message_id=message.message_id, text=text, entities=entities
    )
    if edited_reply is None:
        # By webhook Telegram may deliver a reply after its own edit (the reply's POST failed and was tried again): the
        # edit is then the first the bot hears of it, and is the reply as its writer left it. It goes; the first
        # version, coming after, is not sent again (Replies.send). Only a Telegram reply to the bot's message about a
        # patient is taken so, or a message written after its writer pressed Reply there (in a direct chat the next
        # message goes to the patient): an edit of talk among staff sent while a colleague's Reply was pressed is none,
        # nor one of a message written before the press.
        if message.text and (
            await _answers_about_a_patient(message, context) or await _written_after_reply(message, context)
        ):
            return await relay(update, context)
        return False
    if not edited_reply.changed:
        # A link's preview made, a first reaction: Telegram's edit of a reply whose words no one changed.
        log.info("an edit that changed no words of a reply (update %s)", update.update_id)
        return True
    code = edited_reply.patient.code
    await message.reply_text(context.sender_text(update, "staff.reply_edit_not_sent", code=code))
    return True


async def _answers_about_a_patient(message: Message, context: DiaryContext) -> bool:
    """Whether a staff member's message is a Telegram reply to one of the bot's messages about a patient, theirs to
    write to the patient (not a colleague's prompt: what a reaction to that edits is talk among staff, told once)."""
    replying_to, user = message.reply_to_message, message.from_user
    author = replying_to.from_user if replying_to is not None else None
    from_bot = author is not None and author.id == context.bot.id
    about = replying_to.message_id if replying_to is not None and from_bot else _across_topics(message, context.bot.id)
    if about is None or user is None:
        return False
    replies = context.services.replies
    named = named_by_reply_button(replying_to) if replying_to is not None and from_bot else None
    if named is None and await replies.about(chat_id=message.chat_id, message_id=about) is None:
        return False  # not about a patient: the Reply pressed in this chat is not taken for it
    addressee = await replies.addressee(
        chat_id=message.chat_id, replying_to=about, staff_user_id=user.id, now=context.now, named=named
    )
    return addressee.patient_id is not None and not addressee.colleagues


async def _written_after_reply(message: Message, context: DiaryContext) -> bool:
    """Whether a staff member's message was written after the Reply they pressed in its chat, still pressed."""
    user = message.from_user
    if user is None:
        return False
    return await context.services.replies.written_after_reply(
        chat_id=message.chat_id,
        staff_user_id=user.id,
        written_at=message.date,
        now=context.now,
        topic=topic_of(message),
    )


async def seen_button(update: Update, context: DiaryContext) -> None:
    """Seen: the patient's message has been read (the patient may be told); the button shows by whom."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    services = context.services
    t = partial(context.sender_text, update)
    message_id = parse_seen(query.data)
    seen = (
        await services.replies.seen(patient_message_id=message_id, by=user.id, name=user.full_name, now=context.now)
        if message_id is not None
        else None
    )
    if seen is None or message_id is None:
        await query.answer(t("staff.reply_no_patient"), show_alert=True)
        return
    services.outbox_wake.set()
    keyboard = services.cards.message_keyboard(
        patient_id=seen.message.patient_id, patient_message_id=message_id, seen_by=seen.by or t("alerts.someone")
    )
    if isinstance(query.message, Message):
        await edit(query.message.edit_reply_markup(keyboard))
    await query.answer(
        t("staff.seen_done") if seen.now else t("staff.seen_already", who=seen.by or t("alerts.someone"))
    )
