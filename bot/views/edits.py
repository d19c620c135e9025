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
