"""The bot's own membership of chats: a patient blocking the bot, the bot added to or removed from a
group. Telegram tells these as my_chat_member updates."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.constants import ChatType

from bot.diary import roster
from bot.handlers import gate
from bot.handlers.context import DiaryContext

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
                staff_chat_id=services.settings.staff_chat_id,
                staff_text=lambda code: catalog.text(catalog.default_language, "staff.unreachable", code=code),
            )
            if patient_id is not None:
                services.outbox_wake.set()
                log.info("patient %s blocked the bot; schedule stopped", patient_id)
            return
        log.info("a private chat's membership changed to %s (update %s)", status, update.update_id)
        return
    log.info("the bot's membership of group %s changed to %s", change.chat.id, status)
    joined = status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.RESTRICTED)
    if joined and change.chat.id != services.settings.staff_chat_id:
        await gate.leave(context, change.chat.id)
