"""/console: a staff member asks for a sign-in link to the web console (bot/console/auth.py).

The link signs its holder in, so it goes only to the asker's own chat with the bot, never to the staff
group; asked in the group, the group is told where it went. The sender gate has checked they are staff.
"""

from __future__ import annotations

import logging
from functools import partial

from telegram import Update

from bot.console import auth
from bot.handlers.context import DiaryContext
from bot.handlers.staff import to_direct_chat

log = logging.getLogger(__name__)


async def console_command(update: Update, context: DiaryContext) -> None:
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    assert user is not None and chat is not None and message is not None and context.staff_role is not None
    services = context.services
    t = partial(context.sender_text, update)  # in the asker's language
    base = services.settings.console_url
    if base is None:
        await message.reply_text(t("console.not_set_up"))
        return
    token = await auth.issue_link(services.database, telegram_user_id=user.id, role=context.staff_role, now=context.now)
    minutes = int(auth.LINK_VALID.total_seconds() // 60)
    text = t("console.link", link=auth.link_url(base, token), minutes=minutes)
    log.info("staff %s asked for a console link", user.id)
    await to_direct_chat(update, context, text, sent="console.sent_to_direct_chat", closed="console.open_direct_chat")
