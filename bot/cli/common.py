"""What the commands share: refusing bad input, the database, the clock, the bot's name.

Nothing heavy is imported here at module level: every command imports this module, and a command
should start in a fraction of a second (bench/cli_startup.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn, TypeVar

if TYPE_CHECKING:
    from bot.config import Settings
    from storage.database import Database

    # What `add_subparsers()` returns: argparse gives the class no public name.
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

T = TypeVar("T")

TOKEN_REFUSED = "TELEGRAM_BOT_TOKEN: Telegram refused the token (revoked, or mistyped): copy it again from @BotFather"


def fail(message: str) -> NoReturn:
    """Bad input or a refused request: one line (or one line per bad row) on stderr, exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def utc_now() -> datetime:
    return datetime.now(UTC)


def on_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the migrated database, then close it."""
    from storage import migrate
    from storage.database import Database

    async def main() -> T:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(main())


def default_text(settings: Settings) -> Callable[..., str]:
    """The catalog's words in the clinic's language, as the admins' commands answer."""
    from functools import partial

    from bot.prompts import Catalog

    return partial(Catalog.load(settings.default_language).text, settings.default_language)


async def bot_username(settings: Settings) -> str:
    """The bot's @username for invite links: TELEGRAM_BOT_USERNAME, or else asked of Telegram (getMe),
    with a plain HTTP request rather than the Telegram library, which takes longer to import than the
    whole command needs."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username
    if not settings.telegram_bot_token:
        fail("set TELEGRAM_BOT_USERNAME (or TELEGRAM_BOT_TOKEN) so that the link can name the bot")
    import httpx

    # The URL holds the token: neither it nor an error that may quote it is printed.
    try:
        async with httpx.AsyncClient(timeout=20) as client:
            response = await client.get(f"{settings.bot_api_url}{settings.token}/getMe")
    except httpx.HTTPError as error:
        fail(f"cannot reach Telegram at {settings.telegram_api_base_url} ({type(error).__name__}); try again")
    if response.status_code in (401, 404):  # what Telegram answers for a revoked or mistyped token
        fail(TOKEN_REFUSED)
    try:
        username = response.json()["result"]["username"]
    except (ValueError, KeyError, TypeError):
        fail(f"Telegram answered getMe with HTTP {response.status_code}; set TELEGRAM_BOT_USERNAME instead")
    return str(username)
