"""/staffchat: an admin makes the group it is sent in the staff chat. And the staff chat following the
group when Telegram turns it into a supergroup. The choice itself: bot/care_team/staff_chat.py."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.handlers.context import DiaryContext
from bot.handlers.menus import publish_staff_chat_menu

log = logging.getLogger(__name__)


async def staffchat_command(update: Update, context: DiaryContext) -> None:
    """Only admins get here (the sender gate); in a group, it becomes the staff chat, audited."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    assert message is not None and chat is not None and user is not None
    services = context.services
    if chat.type == ChatType.PRIVATE:
        await message.reply_text(context.sender_text(update, "staffchat.private"))
        return
    before = await services.staff_chat.choose(chat_id=chat.id, actor_id=user.id, now=context.now)
    log.info("group %s is the staff chat now (was %s), chosen by %s", chat.id, before, user.id)
    if before == chat.id:
        await message.reply_text(context.sender_text(update, "staffchat.already"))
    else:
        await publish_staff_chat_menu(context.bot, services.catalog, chat_id=chat.id, before=before)
        await message.reply_text(context.sender_text(update, "staffchat.done"))
    services.outbox_wake.set()  # what waited for a staff chat, or was owed to the one before, goes now


async def chat_migrated(update: Update, context: DiaryContext) -> None:
    """Telegram turned a group into a supergroup, with a new chat id. It says so twice, in the old chat
    (migrate_to_chat_id) and in the new one (migrate_from_chat_id), in either order; the first moves the
    staff chat, the second finds it moved. Runs before the sender gate, which would leave the new chat."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id is not None:
        old, new = message.chat.id, message.migrate_to_chat_id
    else:
        assert message.migrate_from_chat_id is not None
        old, new = message.migrate_from_chat_id, message.chat.id
    services = context.services
    if await services.staff_chat.migrated(old=old, new=new, now=context.now):
        log.info("the staff chat became a supergroup: %s -> %s", old, new)
        await publish_staff_chat_menu(context.bot, services.catalog, chat_id=new)
        services.outbox_wake.set()
    raise ApplicationHandlerStop
