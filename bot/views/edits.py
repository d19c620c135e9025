"""Editing a message that may already show the same thing (a double press, a replayed update)."""

from collections.abc import Awaitable
from typing import Any

from telegram.error import BadRequest


async def edit(request: Awaitable[Any]) -> None:
    """Await an edit; Telegram's "message is not modified" means it already shows this: success."""
    try:
        await request
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


def gone(error: BadRequest) -> bool:
    """Telegram's 400 for an edit of a message that no longer exists (deleted in its chat, which a patient
    may do to the bot's messages and a group admin too) or can no longer be edited."""
    said = error.message.lower()
    return "message to edit not found" in said or "message can't be edited" in said
