"""The last resort: log the failure without patient data, and tell the person something kind and short,
or, when the words that failed speak of suicide or self-harm (or the button pressed was a questionnaire's
crisis answer), the clinic's crisis text."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError, TimedOut

from bot.delivery.inbox import telegram_away
from bot.delivery.outbox import tell_admins
from bot.delivery.telegram_http import MaybeDone
from bot.diary.questionnaire import higher
from bot.handlers.checkin import crisis_answer, crisis_press
from bot.handlers.context import DiaryContext
from bot.handlers.patient_messages import crisis_words
from storage import checkins, inbox, outbox, patient_messages, patients
from storage.database import database_away
from storage.models import Priority
from storage.text import clean

log = logging.getLogger(__name__)


def _button_too_old(error: object) -> bool:
    """Telegram accepts an answer to a button only for a short while; a late answer changes nothing
    that matters (what the press did is stored, and the rules have looked at it already)."""
    return isinstance(error, BadRequest) and (
        "query is too old" in error.message or "query id is invalid" in error.message.lower()
    )


def _sorry(context: DiaryContext) -> str:
    """What went wrong, in a few kind words. The database away, the update is tried again until it goes (see
    bot/delivery/inbox.py): the person is not asked to try again, or it would go twice (a staff reply, a message
    for the care team) or wrong (a number typed again answers the question shown by then)."""
    return context.text("error_tried_again" if database_away(context.error) else "error")


async def _answer(update: Update, context: DiaryContext) -> tuple[str, bool]:
    """The crisis text when the words that failed speak of suicide or self-harm, or the button pressed
    answered a questionnaire's crisis item so: a patient in crisis must get it even when the diary could
    not store what they sent (the database down, a bug). For the patient's language and country when the
    database can still say them, else the sender's language and the text for any country. True with the
    crisis text."""
    intake = context.services.intake
    press = crisis_press(update, context)
    if press is None and update.callback_query is not None:
        # Any other press: the message it sits on is the bot's (a questionnaire's item 9 asks about being
        # better off dead, a card quotes a patient), not words this person wrote.
        return _sorry(context), False
    if press is None:
        message = update.effective_message
        words = clean(crisis_words(message, context.bot.id) if message else "")
        if not words or not intake.crisis_language.matches(words):
            return _sorry(context), False
    user = update.effective_user
    patient, stored = None, False
    try:  # a new context: the gate's lookup is not in it
        async with context.services.database.session() as session:
            if press is None:
                stored = await patient_messages.stored_from(session=session, update_id=update.update_id)
            else:  # a crisis answer stored for that item, as high as this one, had its crisis text queued with it
                answers = await checkins.answers(session=session, checkin_id=press.checkin_id)
                before = answers.get(press.item)
                stored = crisis_answer(context, press.item, before) and not higher(press.value, before)
            patient = await patients.by_telegram_user(session=session, telegram_user_id=user.id) if user else None
    except Exception:
        log.warning("the crisis text after a failure goes without the patient's country (update %s)", update.update_id)
    if stored:  # its crisis text and card were queued with it, in the same transaction
        return _sorry(context), False
    # Staff have not seen this message: the log (without its words) is the one trace of it.
    log.error("update %s spoke of suicide or self-harm and was not stored: the crisis text goes", update.update_id)
    if patient is not None:
        return intake.crisis_text(patient), True
    language = context.services.catalog.language_for(user.language_code if user else None)
    return intake.crisis_texts.text(language, None), True


async def on_error(update: object, context: DiaryContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    if _button_too_old(context.error):
        log.info("a button on update %s was answered too late for Telegram", update_id)
        return
    context.services.metrics.handler_errors.inc()
    # The exception and its traceback only: the update itself may carry answers or notes.
    log.error("handler failed on update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != ChatType.PRIVATE:
        return
    if update.update_id in context.services.intake.crisis_text_sent:
        return  # tried before this process's first try of it (a replay): the crisis text went then
    press = update.callback_query
    # Telegram out of reach for a moment: the inbox tries the update again, and that try does what this one left
    # undone. Told "please try again", the person would do it twice (a staff member's reply sent again), with the
    # answer to come a second later; only a crisis text not yet on its way goes now. Nor after a request that timed
    # out or lost its connection on the way: it may well have arrived ("Your reply is on its way", "Saved."), and
    # what the handler wrote before it stands; tried again, a reply would reach the patient twice, and a number typed
    # again would answer the question shown since.
    away = telegram_away(context.error) or isinstance(context.error, TimedOut | MaybeDone)
    try:
        if press is not None and not away:
            await press.answer(_sorry(context), show_alert=True)
    except Exception:
        log.warning("could not answer the button pressed (update %s)", update_id)
    try:  # a press is answered above: with the crisis text only, when it was a crisis answer
        crisis = await _tell(update, context, crisis_only=press is not None or away)
    except Exception:  # the reply is a courtesy; failing to send it must not raise again
        log.warning("could not tell the patient about the failure (update %s)", update_id)
        return
    if crisis is not None and not away and not database_away(context.error):
        try:
            await _crisis_not_stored(update, context, crisis)
        except Exception:
            log.exception("the admins could not be told of a crisis that was not stored (update %s)", update_id)


async def on_failed_again(update: Update, context: DiaryContext) -> None:
    """A try after the first of an update that failed because the database was away (bot/delivery/inbox.py):
    the person was told at the first try and hears nothing more, but for the crisis text when it has not
    reached them (Telegram refused it then, or the process of that try stopped before sending it): it goes
    now, not only once the database lets their message be stored."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    if update.update_id in context.services.intake.crisis_text_sent:
        return
    try:
        await _tell(update, context, crisis_only=True)
    except Exception:
        log.warning("could not send the crisis text after a failure (update %s)", update.update_id)


async def _tell(update: Update, context: DiaryContext, *, crisis_only: bool) -> tuple[str, bool] | None:
    """What the person is told of their update's failure (see `_answer`); with `crisis_only`, the crisis
    text or nothing. A crisis text that went is noted: no later try, nor the one that stores the message,
    sends or queues it again (bot/delivery/inbox.py keeps the note in the update's row). With a crisis text,
    it and whether it went (Telegram may refuse it for a moment)."""
    assert update.effective_chat is not None
    text, crisis = await _answer(update, context)
    if crisis_only and not crisis:
        return None
    try:
        await context.bot.send_message(update.effective_chat.id, text, message_thread_id=_topic(update))
    except TelegramError:
        if not crisis:
            raise
        log.warning("the crisis text after a failure did not go (update %s)", update.update_id)
        return text, False
    if not crisis:
        return None
    context.services.intake.crisis_text_sent.add(update.update_id)
    return text, True


def _topic(update: Update) -> int | None:
    """The topic of the person's chat (threaded mode) their message was written in, where they are answered."""
    message = update.effective_message
    return message.message_thread_id if message is not None and message.is_topic_message else None


async def _crisis_not_stored(update: Update, context: DiaryContext, crisis: tuple[str, bool]) -> None:
    """Words of crisis (or a crisis answer pressed) that a fault of the diary's own kept from being stored: not tried
    again, they make no card, and staff never heard of them (the log has the update's number alone), nor, when
    Telegram refused the crisis text at that moment, the patient. The admins are told, urgently, by the patient's
    code; a crisis text that did not go is owed through the outbox, which tries again."""
    text, sent = crisis
    user, services, now = update.effective_user, context.services, context.now
    async with services.database.session() as session:
        patient = await patients.by_telegram_user(session=session, telegram_user_id=user.id) if user else None
        if patient is None or patient.id is None:
            return
        await inbox.crisis_text_went(session=session, update_ids=[update.update_id], now=now)  # a replay sends none
        if not sent and patient.chat_id is not None:
            await outbox.enqueue(
                session=session,
                kind="patient",
                chat_id=patient.chat_id,
                text=text,
                patient_id=patient.id,
                priority=Priority.URGENT,
                now=now,
                thread_id=_topic(update),
            )
        language = services.catalog.default_language
        notice = services.catalog.text(language, "staff.crisis_not_stored", code=patient.code, update=update.update_id)
        staff_chat = await services.staff_chat.destination(session)
        await tell_admins(session, notice, now=now, priority=Priority.URGENT, or_in=staff_chat)
    services.intake.crisis_text_sent.add(update.update_id)
    services.outbox_wake.set()
