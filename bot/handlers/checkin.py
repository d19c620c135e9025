"""The check-in conversation: one message, edited in place as the patient presses buttons."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update

from bot.diary.checkins import Action, CheckInState, Refusal
from bot.handlers.callback_data import parse_checkin
from bot.handlers.checkin_view import render
from bot.handlers.context import DiaryContext
from bot.handlers.edits import edit

log = logging.getLogger(__name__)


def _view(context: DiaryContext, state: CheckInState) -> tuple[str, InlineKeyboardMarkup]:
    assert context.patient is not None
    services = context.services
    return render(
        state,
        language=context.patient.language,
        catalog=services.catalog,
        questionnaire=services.questionnaire,
    )


async def checkin_command(update: Update, context: DiaryContext) -> None:
    """/checkin: an extra check-in on a bad day. Keyed by the command's message, so a re-delivered
    update finds the same check-in instead of opening a second one."""
    message = update.message
    assert message is not None and context.patient is not None
    services = context.services
    state, created = await services.checkins.start(
        patient=context.patient, slot=f"extra-{message.message_id}", now=services.clock()
    )
    if not created and state.message_id is not None:
        return
    text, keyboard = _view(context, state)
    sent = await message.reply_text(text, reply_markup=keyboard)
    await services.checkins.attach_message(checkin_id=state.id, chat_id=sent.chat_id, message_id=sent.message_id)


async def checkin_button(update: Update, context: DiaryContext) -> None:
    query = update.callback_query
    assert query is not None and context.patient is not None
    services = context.services
    button = parse_checkin(query.data)
    if button is None:
        await query.answer(context.text("checkin.closed"))
        return
    if button.action in (Action.SKIP_TODAY, Action.SNOOZE):
        done = await services.checkins.set_aside(
            patient=context.patient, checkin_id=button.checkin_id, action=button.action, now=services.clock()
        )
        if not done:
            await query.answer(context.text("checkin.closed"))
            return
        key = "checkin.skipped" if button.action is Action.SKIP_TODAY else "checkin.snoozed"
        await edit(query.edit_message_text(context.text(key)))
        await query.answer()
        return
    outcome = await services.checkins.act(
        patient=context.patient,
        checkin_id=button.checkin_id,
        action=button.action,
        item_id=button.item,
        value=button.value,
        now=services.clock(),
    )
    if isinstance(outcome, Refusal):
        log.info("check-in button refused (%s, update %s)", outcome.value, update.update_id)
        await query.answer(context.text("checkin.closed"))
        return
    text, keyboard = _view(context, outcome)
    await edit(query.edit_message_text(text, reply_markup=keyboard))
    # Answered last: the client's spinner stops once the message shows the new step.
    await query.answer()
    if outcome.step is None and button.action in (Action.ANSWER, Action.SKIP):
        await _completed(context)


async def _completed(context: DiaryContext) -> None:
    """A check-in reached its summary: the rules look at the diary (staff hear of it, the patient does not)."""
    assert context.patient is not None and context.patient.id is not None
    services = context.services
    await services.desk.evaluate(patient_id=context.patient.id, now=services.clock())


async def on_text(update: Update, context: DiaryContext) -> None:
    """Free text: the note of a check-in waiting for one, or a message for the care team.

    A crisis phrase, in a note or not, gets the clinic's crisis text at once and an urgent alert.
    Any other message gets the fixed reply that the diary gives no medical advice, and goes to staff.
    """
    message = update.message
    assert message is not None and message.text is not None and context.patient is not None
    services = context.services
    now = services.clock()
    crisis = services.crisis_phrases.matches(message.text)
    if crisis:
        await message.reply_text(context.text("crisis.reply"))
        await services.desk.crisis(patient=context.patient, text=message.text, now=now)
    state = await services.checkins.add_note(patient=context.patient, text=message.text, now=now)
    if state is None:
        if not crisis:
            await message.reply_text(context.text("message_received"))
            await services.desk.forward(patient=context.patient, text=message.text, now=now)
        return
    if state.chat_id is not None and state.message_id is not None:
        text, keyboard = _view(context, state)
        await edit(
            context.bot.edit_message_text(
                text, chat_id=state.chat_id, message_id=state.message_id, reply_markup=keyboard
            )
        )
    if not crisis:
        await message.reply_text(context.text("checkin.note_saved"))
    if state.step is None:
        await _completed(context)
