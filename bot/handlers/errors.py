"""The last resort: log the failure without patient data, and tell the person something kind and short."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest

from bot.handlers.context import DiaryContext

log = logging.getLogger(__name__)


def _button_too_old(error: object) -> bool:
    """Telegram accepts an answer to a button only for a short while; a late answer changes nothing
    that matters (what the press did is stored, and the rules have looked at it already)."""
    return isinstance(error, BadRequest) and (
        "query is too old" in error.message or "query id is invalid" in error.message.lower()
    )


async def on_error(update: object, context: DiaryContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    if _button_too_old(context.error):
        log.info("a button on update %s was answered too late for Telegram", update_id)
        return
    context.services.metrics.handler_errors.inc()
    # The exception and its traceback only: the update itself may carry answers or notes.
    log.error("handler failed on update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != ChatType.PRIVATE:
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(context.text("error"), show_alert=True)
        else:
            await context.bot.send_message(update.effective_chat.id, context.text("error"))
    except Exception:  # the reply is a courtesy; failing to send it must not raise again
        log.warning("could not tell the patient about the failure (update %s)", update_id)
