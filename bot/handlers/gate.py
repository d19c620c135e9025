"""Runs before every other handler: who is writing, and may they do this? The table of who may do
what is bot/access.py. Strangers get one polite line and are not stored."""

from __future__ import annotations

import contextlib
import logging
from enum import Enum

from telegram import MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import access
from bot.access import Role
from bot.care_team.text_limits import ANSWER_LIMIT, units
from bot.console import auth
from bot.delivery.inbox import telegram_away
from bot.diary import enrolment
from bot.handlers import checkin, patient, patient_messages, staff_replies
from bot.handlers.context import DiaryContext
from bot.handlers.pause_timezone import local_when
from storage import counters, outbox, patients, staff
from storage.statuses import PatientStatus

log = logging.getLogger(__name__)

STRANGER_COUNTER = "stranger_messages"


def command_of(update: Update) -> str | None:
    """'checkin' for '/checkin@diary_bot 3'; None when the message is not a command. An edited message
    counts too: a message edited into a command runs that command (python-telegram-bot's command
    handlers take edits), so it must pass the same table as one sent."""
    message = update.message or update.edited_message
    text = message.text if message else None
    if message is None or not text or not text.startswith("/"):
        return None
    # The command python-telegram-bot runs is the one Telegram marked: "/relink" of "/relink-now P-0002".
    # The first word ("relink-now") is named by no row of the table, and would pass as a patient's
    # unknown command while /relink ran. Sliced as python-telegram-bot slices it, not through UTF-16,
    # which a lone surrogate later in the text cannot pass.
    entity = message.entities[0] if message.entities else None
    if entity is not None and entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
        word = text[1 : entity.length]
    else:
        word = (text[1:].split(maxsplit=1) or [""])[0]
    return word.split("@")[0].lower()


def _allowed(update: Update, roles: frozenset[Role], command: str | None) -> bool:
    if command is not None:
        return access.command_allowed(roles, command)
    if update.callback_query:
        data = update.callback_query.data
        return access.button_allowed(roles, data if isinstance(data, str) else "")
    # Free text, photos, edits: a patient's words for their care team, or a staff member's reply.
    return bool(roles & (access.PATIENTS | access.CLINIC))


async def identify_sender(update: Update, context: DiaryContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    if update.my_chat_member is not None:
        return  # the bot's own membership: bot/handlers/membership.py
    if user is None or chat is None:
        if chat is not None and chat.type == ChatType.CHANNEL:
            # A post names no person, but a link in it is as open to the channel's readers as one in a group.
            await _withdraw_posted_links(update, context, await context.services.staff_chat.current())
        log.info("update %s carries no person or chat (channel posts, polls): not for the diary", update.update_id)
        raise ApplicationHandlerStop
    command = command_of(update)
    data = update.callback_query.data if update.callback_query else None
    private = chat.type == ChatType.PRIVATE
    staff_chat_id = None if private else await context.services.staff_chat.current()
    if not private:
        # In any group the bot is in, not only the staff chat: one that was the staff chat (people removed from staff
        # often still read it), or one an admin added it to, is as open to whoever reads it.
        await _withdraw_posted_links(update, context, staff_chat_id)
    if not private and command != "staffchat" and chat.id != staff_chat_id:
        # Staff work only in the staff chat and in their own chats with the bot: a patient list or an
        # invite link must never be posted in some other group. The bot leaves a group where it is asked
        # for anything; talk there it ignores, since an admin may have added it to make the group the
        # staff chat with /staffchat (a group someone else adds it to, it leaves at once: membership.py),
        # but for staff answering a patient's message there, in a group that was the staff chat.
        if update.callback_query is not None:
            # A card's or a message's button where the group was the staff chat: the presser hears that
            # nothing was done (the alert goes on escalating), not a silent button as the bot leaves. A press
            # too old to answer still makes it leave.
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer(
                    context.sender_text(update, "staff.not_in_staff_chat"), show_alert=True
                )
        if command is not None or data is not None:
            await leave(context, chat.id)
        else:
            await staff_replies.not_in_the_staff_chat(update, context)
        raise ApplicationHandlerStop
    # In a group, talk that is not a command or a button is for the bot only when staff reply to a patient.
    talk = not private and command is None and data is None
    # So may be words that begin with a command no staff member uses ("/checkin tonight, please").
    staff_words = command in access.PATIENT_COMMANDS and not access.is_clinic_work(command, None)
    staff_words = staff_words and _command_with_words(update)
    clinic_work = access.is_clinic_work(command, data if isinstance(data, str) else None)
    if not private and not talk and not staff_words and not clinic_work:
        raise ApplicationHandlerStop  # the rest of the staff group's talk is not for the bot
    services = context.services
    async with services.database.session() as session:
        if private:
            context.patient = await patients.by_telegram_user(session=session, telegram_user_id=user.id)
        # A patient doing a patient's thing (every check-in press: the hot path) needs no staff lookup. A
        # message does: staff enrolled as patients too (trying the diary themselves) write their replies
        # to patients in this same chat after pressing Reply (bot/handlers/messages.py tells them apart).
        writes = command is None and data is None
        # So does a patient's command with words after it: a staff member who keeps a diary too may be
        # answering a patient with it ("/checkin tonight, please") after pressing Reply.
        if context.patient is None or writes or staff_words or not _allowed(update, access.PATIENTS, command):
            context.staff_role = await staff.role(session=session, telegram_user_id=user.id)
    if private:
        # Telegram passes nothing from a chat that blocks the bot: whatever they do, they unblocked it (the
        # notice of it may be late, or missed), and what it could not send them goes now.
        await patient.back_again(context)
    if talk:
        if context.staff_role is None:
            # Other people's talk in the group: not for the bot, no reply; but for a reply sent on behalf of the
            # group by an admin who remains anonymous, which may be a staff member's answer to a patient.
            await staff_replies.sent_anonymously(update, context)
            raise ApplicationHandlerStop
        return
    # A reply to a patient that begins with the command they should use: nothing else takes it, and dropped
    # it would leave the staff member sure the patient has it.
    # (One who keeps a diary too and has a Reply pending is answering, as with plain words: messages.py.)
    # Edited, such a reply stays as first sent for the patient: its writer is told so, not left to think it went.
    relay = staff_replies.edited if update.edited_message is not None else staff_replies.relay
    relayed = staff_words and context.staff_role is not None and await relay(update, context)
    if relayed:
        raise ApplicationHandlerStop
    if staff_words and not private:
        raise ApplicationHandlerStop  # talk, as above, for no patient
    words = None
    if private and command is not None and context.patient is not None:
        words = await _words_for_staff(update, context, command)
    if words is not None:
        # "/help I want to die", "/suicide", "/my hand is purple", "/help my hand is purple": a command's
        # words are the patient's words too, read as a message (an edit as an edit). The command still
        # runs when it is one of the diary's and the words do not speak of crisis.
        if update.edited_message is not None:
            await patient_messages.edited(update, context)
            raise ApplicationHandlerStop
        await patient_messages.received(update, context)
        if words is _Words.INSTEAD:
            raise ApplicationHandlerStop
    stranger = private and context.roles == {Role.STRANGER}
    if _allowed(update, context.roles, command) and not (stranger and _words_after_start(update, context, command)):
        discharged = context.patient is not None and context.patient.status == PatientStatus.DISCHARGED
        # A crisis answer (PHQ-9 item 9) pressed on a questionnaire left open at the discharge is never dropped:
        # the check-in takes it to the crisis path, as typed words of crisis reach staff.
        if (
            discharged
            and not access.discharged_may(command, data if isinstance(data, str) else None)
            and checkin.crisis_press(update, context) is None
        ):
            await _tell(update, context.text("discharged"))
            raise ApplicationHandlerStop
        return
    # An edit had its answer when it was sent; but someone not enrolled who edits words of crisis in hears where
    # to find help now, as when they send them.
    if update.edited_message is not None and not (stranger and _in_crisis(update, context)):
        raise ApplicationHandlerStop
    if stranger and await patient.erased_already(update, context):
        raise ApplicationHandlerStop
    await _refuse(update, context, command, private=private)
    raise ApplicationHandlerStop


async def _withdraw_posted_links(update: Update, context: DiaryContext, staff_chat_id: int | None) -> None:
    """An invite link (or a web console sign-in link) seen in a group, whoever posted it and however (forwarded,
    behind formatted words, in a caption, quoted from another chat, after /start, edited in), stops working: anyone
    reading the group could open it first. The staff chat is told, also of one seen in another group (which is told
    nothing: who reads it now is not known, and it must not learn a patient's code)."""
    message = update.message or update.edited_message or update.channel_post or update.edited_channel_post
    user, chat = update.effective_user, update.effective_chat
    if message is None or chat is None:
        return
    # With the part of another chat's message quoted ("Reply in another chat": a nurse quoting the link the bot sent
    # her), which the group shows as the words typed.
    quote = message.quote
    quoted = patient_messages.linked(quote.text, quote.entities or ()) if quote is not None else None
    parts = (
        patient_messages.typed(message),
        patient_messages.words_of(message),
        patient_messages.shown_of(message),
        quoted,
    )
    catalog = context.services.catalog
    here = chat.id == staff_chat_id
    tell = chat.id if here else (outbox.STAFF_CHAT_UNKNOWN if staff_chat_id is None else staff_chat_id)
    where = {} if here else {"group": chat.title or str(chat.id)}
    suffix = "" if here else "_elsewhere"

    def staff_text(code: str, relink: bool) -> str:
        command = "/relink" if relink else "/invite"
        return catalog.text(catalog.default_language, f"staff.link_posted{suffix}", code=code, command=command, **where)

    services = context.services
    words = "\n".join(part for part in parts if part)
    kind = "channel" if chat.type == ChatType.CHANNEL else "group"
    seen = "posted in the staff chat" if here else f"posted in another {kind} the bot is in"
    actor_id = user.id if user is not None else None  # none for a channel's post
    if await enrolment.withdraw_posted(
        services.database,
        words=words,
        chat_id=tell,
        actor_id=actor_id,
        now=context.now,
        staff_text=staff_text,
        seen=seen,
    ):
        log.info("an invite link posted in group %s was withdrawn (update %s)", chat.id, update.update_id)
        context.withdrew_invite = True
        services.outbox_wake.set()
    # A web console sign-in link too: it signs its holder in as the staff member it was made for.
    if await auth.withdraw_posted(
        services.database,
        words=words,
        chat_id=tell,
        actor_id=actor_id,
        now=context.now,
        staff_text=catalog.text(catalog.default_language, f"staff.console_link_posted{suffix}", **where),
        seen=seen,
    ):
        log.info("a console sign-in link posted in group %s was withdrawn (update %s)", chat.id, update.update_id)
        context.withdrew_console_link = True
        services.outbox_wake.set()


def _words_after_command(text: str) -> list[str]:
    parts = text.split(maxsplit=1)
    return parts[1].split() if len(parts) == 2 else []


def _command_with_words(update: Update) -> bool:
    """A message (or an edit of one) whose command goes on with words."""
    message = update.message or update.edited_message
    return message is not None and bool(_words_after_command(message.text or ""))


def _words_after_start(update: Update, context: DiaryContext, command: str | None) -> bool:
    """ "/start I want to kill myself" from someone not enrolled: words, read as theirs are (_refuse), not an invite
    token that failed (a link, or its token, after /start is one: enrolment.a_sentence); so are words of crisis
    typed after their token, which _refuse then opens after the help."""
    message = update.message or update.edited_message
    if command != "start" or message is None:
        return False
    words = _words_after_command(message.text or "")
    return enrolment.a_sentence(" ".join(words)) or (len(words) >= 2 and _in_crisis(update, context))


class _Words(Enum):
    INSTEAD = "instead of the command"  # crisis words, or a command the diary does not have
    BESIDES = "besides the command"  # words after a patient's command that reads none, or quoted with it


async def _words_for_staff(update: Update, context: DiaryContext, command: str) -> _Words | None:
    """Whether a patient's command carries words for their care team."""
    message = update.message or update.edited_message
    text = message.text if message is not None else None
    if message is None or not text or context.patient is None:
        return None
    # Words quoted from another chat ("Reply in another chat") are the patient's too: read, and passed on. Read as
    # any message of theirs is: "/callme i already took them" just after "I want to overdose" follows it up.
    origin = patient_messages.origin_of(message, context.bot.id)
    if await context.services.intake.heard(
        patient=context.patient,
        text=text,
        message_id=message.message_id,
        now=context.now,
        origin=origin,
        edit=update.edited_message is not None,
    ):
        return _Words.INSTEAD
    words = _words_after_command(text)
    if words and command not in access.COMMANDS:
        return _Words.INSTEAD
    # A sentence after a command of the clinic's that is not theirs ("/infusion yesterday went badly") is
    # words, as after one the diary does not have; the command never runs. The command's own arguments are
    # still a refused command: one word ("/relink P-0002"), or words led by a code, a time or a number
    # ("/schedule P-0012 10:00 mon-sun").
    arguments = len(words) < 2 or any(character.isdigit() for character in words[0])
    if not arguments and not _allowed(update, context.roles, command):
        return _Words.INSTEAD
    if origin.brought and command not in access.PATIENT_COMMANDS_TO_STAFF:
        return _Words.BESIDES
    # One word is taken for an argument the command does not read ("/history 30", "/language es", "/checkin
    # now"); a sentence is for the care team ("/help my hand is purple").
    if len(words) >= 2 and command in access.PATIENT_COMMANDS and command not in access.PATIENT_COMMANDS_WITH_WORDS:
        return _Words.BESIDES
    # So after /start, unless they hold a link or its token (their own, opened again): patient.start.
    if command == "start" and enrolment.a_sentence(" ".join(words)):
        return _Words.BESIDES
    return None


async def leave(context: DiaryContext, chat_id: int) -> None:
    log.info("leaving group %s: it is not the staff chat", chat_id)
    try:
        await context.bot.leave_chat(chat_id)
    except TelegramError as error:
        if telegram_away(error):
            raise  # the update is tried again (bot/delivery/inbox.py): the bot must not stay where no admin chose
        # Gone already, or never a member: nothing more to do.
        log.info("could not leave group %s (%s)", chat_id, type(error).__name__)


async def _refuse(update: Update, context: DiaryContext, command: str | None, *, private: bool) -> None:
    """Staff learn what they may do instead; patients and strangers learn nothing about staff commands."""
    roles, services = context.roles, context.services
    catalog = services.catalog
    language = catalog.language_for(context.sender_language_code)  # refusals in the sender's language
    log.info("refused %s from %s (update %s)", command or "a button or message", "/".join(roles), update.update_id)
    if command == "staffchat" and not private:
        text = catalog.text(language, "staffchat.admins_only")
    elif roles & access.CLINIC:
        if command in access.ADMIN_COMMANDS or update.callback_query:
            text = catalog.text(language, "staff.not_allowed")
        else:
            text = context.staff_help()
    elif update.callback_query and update.callback_query.data and str(update.callback_query.data).startswith("al:"):
        text = catalog.text(language, "staff.not_staff")
    elif Role.PATIENT in roles:
        text = context.text("unknown")
    elif not private:
        text = catalog.text(language, "staff.not_staff")
    else:
        async with services.database.session() as session:
            await counters.increment(session=session, name=STRANGER_COUNTER)
        user = update.effective_user
        message = update.effective_message
        # With the address of a link behind formatted words ("Tap here", forwarded from the nurse's message).
        words = (patient_messages.typed(message) or patient_messages.words_of(message)) if message else ""
        # Words of suicide or self-harm, from someone on the consent screen or never invited: where to find
        # help now, not a request for an invite. Nothing is kept; staff hear of it only from an account a re-link
        # moved a record away from.
        crisis = _in_crisis(update, context)
        token = enrolment.linked_token(words) or (enrolment.bare_token(words) if command == "start" else None)
        if crisis:
            log.info("words of crisis from someone not enrolled (update %s): told where to find help", update.update_id)
            if user is not None:
                await _tell_staff_if_former_account(context, user.id, _crisis_said(update, context))
        elif token:
            # Their invite link pasted into the chat (installing Telegram from a link loses its start word):
            # taken as the link opened, and checked and counted as one.
            await patient.open_invite(update, context, token)
            return
        key = "stranger_crisis" if crisis else "stranger"
        text = catalog.text(catalog.language_for(user.language_code if user else None), key)
        if crisis and token:
            # Pasted with words of crisis: where to find help first, and then the link opened, so that they can join.
            await _tell(update, text)
            await patient.open_invite(update, context, token)
            return
    await _tell(update, text)


async def _tell_staff_if_former_account(context: DiaryContext, user_id: int, words: str) -> None:
    """Staff hear of words of crisis from the account a re-link moved a record away from; the account is told
    nothing of the record (it may be in the wrong hands): only where to find help, as any stranger."""
    services = context.services
    catalog = services.catalog
    told = await enrolment.tell_staff_of_former_account_crisis(
        services.database,
        telegram_user_id=user_id,
        words=words,
        now=context.now,
        staff_chat=services.staff_chat,
        staff_text=lambda code, moved_at: catalog.text(
            catalog.default_language,
            "staff.former_account_crisis",
            code=code,
            until=local_when(moved_at, services.settings.default_timezone),
        ),
    )
    if told:
        log.info("words of crisis from an account a record moved away from: staff told")


def _crisis_said(update: Update, context: DiaryContext) -> str:
    """What spoke of crisis, as staff read it: the words (typed, a caption, a poll's, quoted from another chat), or
    the crisis answer a button gave (PHQ-9 item 9 pressed on a questionnaire left in the chat)."""
    button = checkin.crisis_press(update, context)
    if button is None:
        message = update.effective_message
        return patient_messages.crisis_words(message, context.bot.id) if message is not None else ""
    catalog = context.services.catalog
    items = (q.item(button.item) for q in context.services.checkins.questionnaires.values())
    scale = next((item.scale for item in items if item is not None and item.scale), None)
    key = f"scales.{scale}.{button.value}"
    answer = (
        catalog.text(catalog.default_language, key)
        if scale and catalog.has(catalog.default_language, key)
        else button.value
    )
    return catalog.text(catalog.default_language, "staff.crisis_answer", answer=answer)


def _in_crisis(update: Update, context: DiaryContext) -> bool:
    """Whether the message's words (typed, a caption, a poll's, quoted from another chat) speak of crisis; of a
    button, whether it answers a questionnaire's crisis item so. The message a button is on is the diary's (a PHQ-9
    asks about being better off dead; a check-in's summary holds its note), pressed by an account whose diary
    moved to another or was erased: not words this person wrote."""
    if update.callback_query is not None:
        return checkin.crisis_press(update, context) is not None
    message = update.effective_message
    words = patient_messages.crisis_words(message, context.bot.id) if message is not None else ""
    return bool(words) and context.services.intake.crisis_language.matches(words)


async def _tell(update: Update, text: str) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is not None and units(text) > ANSWER_LIMIT and chat is not None:
        # Longer than a button's answer may be (the crisis help): in the chat, the press answered without words.
        await query.get_bot().send_message(chat.id, text)
        await query.answer()
    elif query is not None:
        await query.answer(text, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(text)
