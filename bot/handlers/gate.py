"""Runs before every other handler: who is writing, and may they do this? The table of who may do
what is bot/access.py. Strangers get one polite line and are not stored."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot import access
from bot.access import Role
from bot.handlers.context import DiaryContext
from storage import counters, patients, staff

log = logging.getLogger(__name__)

STRANGER_COUNTER = "stranger_messages"


def command_of(update: Update) -> str | None:
    """'checkin' for '/checkin@diary_bot 3'; None when the message is not a command."""
    text = update.message.text if update.message else None
    if not text or not text.startswith("/"):
        return None
    return (text[1:].split(maxsplit=1) or [""])[0].split("@")[0].lower()


def _allowed(update: Update, roles: frozenset[Role], command: str | None) -> bool:
    if command is not None:
        return access.command_allowed(roles, command)
    if update.callback_query:
        data = update.callback_query.data
        return access.button_allowed(roles, data if isinstance(data, str) else "")
    return Role.PATIENT in roles  # free text, photos, stickers: the patient's conversation


async def identify_sender(update: Update, context: DiaryContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        raise ApplicationHandlerStop
    command = command_of(update)
    data = update.callback_query.data if update.callback_query else None
    private = chat.type == ChatType.PRIVATE
    if not private and not access.is_clinic_work(command, data if isinstance(data, str) else None):
        raise ApplicationHandlerStop  # the rest of the staff group's talk is not for the bot
    services = context.services
    async with services.database.session() as session:
        if private:
            context.patient = await patients.by_telegram_user(session=session, telegram_user_id=user.id)
        # A patient doing a patient's thing (every check-in press: the hot path) needs no staff lookup.
        if context.patient is None or not _allowed(update, access.PATIENTS, command):
            context.staff_role = await staff.role(session=session, telegram_user_id=user.id)
    if _allowed(update, context.roles, command):
        discharged = context.patient is not None and context.patient.status == "discharged"
        if discharged and not access.discharged_may(command, data if isinstance(data, str) else None):
            await _tell(update, context.text("discharged"))
            raise ApplicationHandlerStop
        return
    await _refuse(update, context, command, private=private)
    raise ApplicationHandlerStop


async def _refuse(update: Update, context: DiaryContext, command: str | None, *, private: bool) -> None:
    """Staff learn what they may do instead; patients and strangers learn nothing about staff commands."""
    roles, services = context.roles, context.services
    catalog = services.catalog
    clinic = catalog.default_language
    log.info("refused %s from %s (update %s)", command or "a button or message", "/".join(roles), update.update_id)
    if roles & access.CLINIC:
        if command in access.ADMIN_COMMANDS or update.callback_query:
            text = catalog.text(clinic, "staff.not_allowed")
        else:
            text = context.staff_help()
    elif update.callback_query and update.callback_query.data and str(update.callback_query.data).startswith("al:"):
        text = catalog.text(clinic, "staff.not_staff")
    elif Role.PATIENT in roles:
        text = context.text("unknown")
    elif not private:
        text = catalog.text(clinic, "staff.not_staff")
    else:
        async with services.database.session() as session:
            await counters.increment(session=session, name=STRANGER_COUNTER)
        user = update.effective_user
        text = catalog.text(catalog.language_for(user.language_code if user else None), "stranger")
    await _tell(update, text)


async def _tell(update: Update, text: str) -> None:
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(text)
