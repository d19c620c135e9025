"""Runs before every other handler: who is writing? Strangers get one polite line and are not stored."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.handlers.callback_data import is_alert, parse_consent
from bot.handlers.context import DiaryContext
from storage import counters, patients, staff

log = logging.getLogger(__name__)

STRANGER_COUNTER = "stranger_messages"


ADMIN_COMMANDS = frozenset({"/schedule"})
STAFF_COMMANDS = frozenset({"/infusion"})


def _command(update: Update) -> str | None:
    if update.message and update.message.text and update.message.text.startswith("/"):
        return update.message.text.split(maxsplit=1)[0].split("@")[0]
    return None


def _is_enrolment(update: Update) -> bool:
    """/start (with or without an invite token) and the consent buttons are open to everyone."""
    if update.message and update.message.text:
        return update.message.text.split(maxsplit=1)[0].split("@")[0] == "/start"
    if update.callback_query:
        return parse_consent(update.callback_query.data) is not None
    return False


def _is_staff_work(update: Update) -> bool:
    """Alert buttons and staff commands, in the staff group or in a direct chat."""
    if update.callback_query:
        return is_alert(update.callback_query.data)
    return _command(update) in STAFF_COMMANDS


async def _staff_only(update: Update, context: DiaryContext, user_id: int) -> None:
    """Registered staff go on to the staff handlers; anyone else is refused politely."""
    services = context.services
    async with services.database.session() as session:
        context.staff_role = await staff.role(session=session, telegram_user_id=user_id)
    if context.staff_role is not None:
        return
    log.info("staff action refused: not registered staff (update %s)", update.update_id)
    refusal = services.catalog.text(services.catalog.default_language, "staff.not_staff")
    if update.callback_query:
        await update.callback_query.answer(refusal, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(refusal)
    raise ApplicationHandlerStop


async def identify_sender(update: Update, context: DiaryContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        raise ApplicationHandlerStop
    if _is_staff_work(update):
        await _staff_only(update, context, user.id)
        return
    if chat.type != ChatType.PRIVATE:
        raise ApplicationHandlerStop  # the rest of the staff group's talk is not for the bot
    services = context.services
    context.is_admin = user.id in services.settings.admin_telegram_ids
    async with services.database.session() as session:
        context.patient = await patients.by_telegram_user(session=session, telegram_user_id=user.id)
        if context.patient is None and context.is_admin:
            if _command(update) not in ADMIN_COMMANDS:
                await context.bot.send_message(chat.id, context.text("admin.schedule_usage"))
                raise ApplicationHandlerStop
            return
        stranger = context.patient is None and not _is_enrolment(update)
        if stranger:
            await counters.increment(session=session, name=STRANGER_COUNTER)
    if stranger:
        log.info("message from someone never invited (update %s)", update.update_id)
        language = services.catalog.language_for(user.language_code)
        text = services.catalog.text(language, "stranger")
        if update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
        else:
            await context.bot.send_message(chat.id, text)
        raise ApplicationHandlerStop
