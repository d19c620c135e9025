"""The bot's own membership of chats: a patient blocking the bot, the bot added to or removed from a
group. Telegram tells these as my_chat_member updates."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.access import Role
from bot.diary import roster
from bot.handlers import gate, patient
from bot.handlers.context import DiaryContext
from storage import patients, staff

log = logging.getLogger(__name__)


async def changed(update: Update, context: DiaryContext) -> None:
    change = update.my_chat_member
    assert change is not None
    services = context.services
    status = change.new_chat_member.status
    if change.chat.type == ChatType.PRIVATE:
        if status == ChatMember.BANNED:  # the person blocked the bot
            catalog = services.catalog
            patient_id = await roster.mark_unreachable(
                services.database,
                chat_id=change.chat.id,
                now=context.now,
                staff_chat=services.staff_chat,
                staff_text=lambda code: catalog.text(catalog.default_language, "staff.unreachable", code=code),
            )
            if patient_id is not None:
                services.outbox_wake.set()
                log.info("patient %s blocked the bot; schedule stopped", patient_id)
            return
        if status == ChatMember.MEMBER:  # unblocked (from the bot's profile: no /start need follow)
            async with services.database.session() as session:
                context.patient = await patients.by_telegram_user(session=session, telegram_user_id=change.from_user.id)
            await patient.back_again(context)
        log.info("a private chat's membership changed to %s (update %s)", status, update.update_id)
        return
    log.info("the bot's membership of group %s changed to %s", change.chat.id, status)
    joined = status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.RESTRICTED)
    staff_chat_id = await services.staff_chat.current()
    if not joined and change.chat.id == staff_chat_id:
        # Cards and patients' messages wait in the outbox (bot/delivery/outbox.py) until an admin adds
        # the bot back, or to another group, and sends /staffchat there.
        log.error("the bot was removed from the staff chat %s: an admin must add it and send /staffchat", staff_chat_id)
    if joined and change.chat.id == staff_chat_id:
        if await services.staff_chat.rejoined(chat_id=staff_chat_id):
            services.outbox_wake.set()
        return
    if not joined:
        return
    async with services.database.session() as session:
        added_by = await staff.role(session=session, telegram_user_id=change.from_user.id)
    if added_by != Role.ADMIN:
        await gate.leave(context, change.chat.id)
        return
    # An admin brought the bot here, most likely to make it the staff chat: say how (and nothing more).
    hint = context.sender_text(update, "staffchat.added")
    try:
        await context.bot.send_message(change.chat.id, hint)
    except TelegramError as error:  # a group that lets no one but admins write: /staffchat still works
        log.info("could not post in group %s (%s)", change.chat.id, type(error).__name__)
