"""The check-in conversation: one message, edited in place as the patient presses buttons. (What they
type during a check-in, a number or a note, is bot/handlers/patient_messages.py.)"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TimedOut

from bot.delivery.telegram_http import MaybeDone
from bot.diary.checkins import Action, CheckInState, Refusal
from bot.diary.questionnaire import DAILY
from bot.handlers.context import DiaryContext
from bot.views.callback_data import CheckInButton, parse_checkin
from bot.views.checkin import render
from bot.views.edits import edit
from storage.checkins import ASKED_FOR

log = logging.getLogger(__name__)


def crisis_answer(context: DiaryContext, item: str, value: str | None) -> bool:
    """Whether `value` for the item is a questionnaire's crisis answer (PHQ-9 item 9 above "not at all")."""
    try:
        return any(q.is_crisis_answer(item, value) for q in context.services.checkins.questionnaires.values())
    except ValueError:  # not a number: no answer of a crisis item
        return False


def crisis_press(update: Update, context: DiaryContext) -> CheckInButton | None:
    """The check-in button pressed, when it answers a crisis item with a crisis answer."""
    query = update.callback_query
    button = parse_checkin(query.data) if query is not None else None
    if button is None or button.action is not Action.ANSWER or not crisis_answer(context, button.item, button.value):
        return None
    return button


def _view(context: DiaryContext, state: CheckInState) -> tuple[str, InlineKeyboardMarkup]:
    assert context.patient is not None
    services = context.services
    return render(state, language=context.patient.language, catalog=services.catalog)


async def checkin_completed(context: DiaryContext, *, daily: bool = True) -> None:
    """A check-in or questionnaire reached its summary: the rules look at the diary and scores first, so
    that staff hear of it even if showing the summary or answering the button fails (the patient hears
    nothing of it); after the daily check-in, a questionnaire that is due is offered in a message of its own."""
    patient = context.patient
    assert patient is not None and patient.id is not None
    services = context.services
    await services.desk.evaluate(patient_id=patient.id, now=context.now)
    if daily and await services.checkins.offer_due(patient=patient, now=context.now) is not None:
        services.outbox_wake.set()


async def checkin_command(update: Update, context: DiaryContext) -> None:
    """/checkin: an extra check-in on a bad day. Keyed by the command's message, so a re-delivered
    update finds the same check-in instead of opening a second one; a message edited into /checkin (a
    command handler takes edits) keys it as well."""
    message = update.effective_message
    assert message is not None and context.patient is not None
    services = context.services
    # Telegram numbers messages per chat: after a re-link, the new account's /checkin can have the number
    # of one the old account sent that day, and was taken for it and not answered. With the second it was
    # sent in (an edit keeps it), the key is this message's alone; it fits the 32 characters of a slot.
    second = int(message.date.timestamp())
    state, created = await services.checkins.start(
        patient=context.patient, slot=f"{ASKED_FOR}{second}-{message.message_id}", now=context.now
    )
    if not created and state.message_id is not None:
        return
    if not created and await services.checkins.message_owed(checkin_id=state.id):
        # Handled again after a crash, once a try timed out (below): shown here as well, it came twice.
        services.outbox_wake.set()
        return
    text, keyboard = _view(context, state)
    try:
        sent = await message.reply_text(text, reply_markup=keyboard)
    except (TimedOut, MaybeDone):
        # It may or may not have arrived, and the patient is told nothing of a time-out (bot/handlers/errors.py),
        # nor is the update tried again: left so, a check-in asked for and never shown was silence. The outbox owes
        # it, as it owes a scheduled one: at worst the question comes twice, never not at all.
        log.warning("the check-in asked for on update %s may not have arrived; the outbox sends it", update.update_id)
        topic = message.message_thread_id if message.is_topic_message else None  # where reply_text would have put it
        await services.checkins.owe_message(
            checkin_id=state.id, chat_id=message.chat_id, now=context.now, thread_id=topic
        )
        services.outbox_wake.set()
        return
    await services.checkins.attach_message(checkin_id=state.id, chat_id=sent.chat_id, message_id=sent.message_id)


async def checkin_button(update: Update, context: DiaryContext) -> None:
    query = update.callback_query
    assert query is not None and context.patient is not None
    services = context.services
    button = parse_checkin(query.data)
    if button is None:
        await query.answer(context.text("checkin.closed"))
        return
    chat_id = query.message.chat.id if query.message is not None else None
    if button.action in (Action.SKIP_TODAY, Action.SNOOZE):
        questionnaire = await services.checkins.set_aside(
            patient=context.patient,
            checkin_id=button.checkin_id,
            action=button.action,
            now=context.now,
            chat_id=chat_id,
        )
        if questionnaire is None:
            await query.answer(context.text("checkin.closed"))
            return
        if questionnaire == DAILY:
            key = "checkin.skipped" if button.action is Action.SKIP_TODAY else "checkin.snoozed"
        else:
            key = "checkin.declined" if button.action is Action.SKIP_TODAY else "checkin.later_set"
        await edit(query.edit_message_text(context.text(key)))
        await query.answer()
        return
    outcome = await services.checkins.act(
        patient=context.patient,
        checkin_id=button.checkin_id,
        action=button.action,
        item_id=button.item,
        value=button.value,
        now=context.now,
        update_id=update.update_id,
        chat_id=chat_id,
    )
    if isinstance(outcome, Refusal):
        log.info("check-in button refused (%s, update %s)", outcome.value, update.update_id)
        if outcome is Refusal.CLOSED_CRISIS_HEARD:
            services.outbox_wake.set()  # the crisis text and card
        await query.answer(context.text("checkin.closed"))
        return
    if outcome.questionnaire.id != DAILY:
        services.outbox_wake.set()  # a crisis answer's reply and card may be waiting
    if outcome.step is None and button.action in (Action.ANSWER, Action.SKIP):
        await checkin_completed(context, daily=outcome.questionnaire.id == DAILY)
    text, keyboard = _view(context, outcome)
    await edit(query.edit_message_text(text, reply_markup=keyboard))
    # Answered last: the client's spinner stops once the message shows the new step.
    await query.answer()
