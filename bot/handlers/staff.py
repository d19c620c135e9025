"""Staff in the staff chat (or a direct chat): alert buttons and /infusion. The sender gate has
already checked that the presser is registered staff."""

from __future__ import annotations

import logging
from datetime import date

from telegram import Message, Update

from bot.alerts.desk import AlertView, StaffAction
from bot.handlers.callback_data import parse_alert
from bot.handlers.context import DiaryContext
from bot.handlers.edits import edit

log = logging.getLogger(__name__)

DONE = {StaffAction.ACKNOWLEDGE: "acknowledge", StaffAction.SNOOZE: "snooze", StaffAction.RESOLVE: "resolve"}


async def show(message: Message, context: DiaryContext, view: AlertView) -> None:
    """Make the pressed message show the alert as it is now (a card with a chart, or an escalation text)."""
    cards = context.services.cards
    now = context.services.clock()
    caption, keyboard = cards.caption(view, now=now), cards.keyboard(view)
    if message.photo:
        await edit(message.edit_caption(caption, reply_markup=keyboard))
    else:
        await edit(message.edit_text(caption, reply_markup=keyboard))


async def alert_button(update: Update, context: DiaryContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    services = context.services
    parsed = parse_alert(query.data)
    if parsed is None:
        await query.answer()
        return
    action, alert_id = parsed
    now = services.clock()
    if action is StaffAction.HISTORY:
        view = await services.desk.view(alert_id=alert_id, now=now)
        if view is not None and isinstance(query.message, Message):
            log.info("staff %s viewed the history of patient %s", update.effective_user.id, view.alert.patient_id)
            await query.message.reply_text(services.cards.history_text(view, now=now))
        await query.answer()
        return
    user = update.effective_user
    changed = await services.desk.act(alert_id=alert_id, action=action, by=user.id, name=user.full_name, now=now)
    view = await services.desk.view(alert_id=alert_id, now=now)
    if view is not None and isinstance(query.message, Message):
        await show(query.message, context, view)
        card = (view.alert.card_chat_id, view.alert.card_message_id)
        if changed is not None and card != (query.message.chat_id, query.message.message_id):
            await services.desk.refresh_card(alert_id=alert_id, now=now)  # pressed in an admin's direct chat
    await query.answer(context.services.cards.t(f"alerts.done.{DONE[action]}" if changed else "alerts.closed"))


async def infusion_command(update: Update, context: DiaryContext) -> None:
    """/infusion P-0012 2026-11-03 [kind]"""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    services = context.services
    args = context.args or []
    try:
        code, on = args[0], date.fromisoformat(args[1])
    except (IndexError, ValueError):
        await message.reply_text(context.services.cards.t("staff.infusion_usage"))
        return
    kind = " ".join(args[2:])[:64]
    recorded = await services.desk.record_infusion(
        code=code, on=on, kind=kind, by=update.effective_user.id, now=services.clock()
    )
    if recorded is None:
        await message.reply_text(context.services.cards.t("staff.unknown_patient", code=code[:32]))
        return
    log.info("staff %s recorded an infusion", update.effective_user.id)
    key = "staff.infusion_recorded" if recorded else "staff.infusion_exists"
    await message.reply_text(context.services.cards.t(key, code=code, date=on.isoformat()))
