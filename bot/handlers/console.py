"""/console: a staff member asks for a sign-in link to the web console (bot/console/auth.py).

The link signs its holder in, so it goes only to the asker's own chat with the bot, never to the staff
group; asked in the group, the group is told where it went. The sender gate has checked they are staff.
"""

from __future__ import annotations

import logging
from functools import partial

from telegram import LinkPreviewOptions, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden

from bot.console import auth
from bot.handlers.context import DiaryContext

log = logging.getLogger(__name__)

# No preview: a preview fetches the page (harmless, a GET never signs in) and shows the link to anyone
# looking over the chat list.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


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
    if chat.type == ChatType.PRIVATE:
        await message.reply_text(text, link_preview_options=NO_PREVIEW)
        return
    try:
        await context.bot.send_message(user.id, text, link_preview_options=NO_PREVIEW)
    except (Forbidden, BadRequest):  # they never opened a chat with the bot, or blocked it
        await message.reply_text(t("console.open_direct_chat"))
        return
    await message.reply_text(t("console.sent_to_direct_chat"))
