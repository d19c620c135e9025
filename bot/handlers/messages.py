"""Messages that are not commands or buttons, routed by who sent them: a staff member's reply to a
patient (bot/handlers/staff_replies.py), a patient's words (bot/handlers/patient_messages.py), and
whatever else reaches the bot, which is logged rather than dropped without a trace."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType

from bot.handlers import patient_messages, staff_replies
from bot.handlers.context import DiaryContext

log = logging.getLogger(__name__)


def kind_of_update(update: Update) -> str:
    """'message', 'edited_message', 'my_chat_member', ...: the field the update carries."""
    return next((kind for kind in Update.ALL_TYPES if getattr(update, kind, None) is not None), "unknown")


async def on_message(update: Update, context: DiaryContext) -> None:
    if context.staff_role is not None and await staff_replies.relay(update, context):
        return
    if context.patient is not None:
        await patient_messages.received(update, context)
        return
    chat, message = update.effective_chat, update.effective_message
    if chat is not None and chat.type == ChatType.PRIVATE and message is not None:
        await message.reply_text(context.staff_help())


async def on_edit(update: Update, context: DiaryContext) -> None:
    chat = update.effective_chat
    # A staff member who keeps a diary too may have sent this as a reply to a patient from their own chat with
    # the bot: its edit is theirs to be told about, not their diary's words for the staff chat.
    if context.staff_role is not None and await staff_replies.edited(update, context):
        return
    if context.patient is not None and chat is not None and chat.type == ChatType.PRIVATE:
        await patient_messages.edited(update, context)
        return
    log.info("an edit was not acted on (update %s)", update.update_id)


async def not_handled(update: object, context: DiaryContext) -> None:
    """The last handler: nothing above took the update. Said in the log, with its kind only."""
    if isinstance(update, Update):
        log.info("update %s (%s) was not for any handler", update.update_id, kind_of_update(update))
