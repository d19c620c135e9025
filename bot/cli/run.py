"""`python -m bot run`: the bot itself, by long polling or behind a webhook."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import TOKEN_REFUSED, fail

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("run", help="run the bot (long polling)")
    parser.add_argument("--verbose", action="store_true", help="log at DEBUG (may include update details)")
    parser.add_argument("--webhook", action="store_true", help="receive updates at WEBHOOK_URL instead of polling")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    import asyncio
    import signal

    import uvloop
    from telegram.error import InvalidToken

    from bot.diary.places import PlacesError, place_table
    from bot.runner import serve

    try:
        place_table()  # a broken city file stops the bot now, as a broken rules file does
    except PlacesError as error:
        fail(str(error))

    if not settings.telegram_bot_token:
        fail("TELEGRAM_BOT_TOKEN is not set (without a token, try: python -m bot demo)")
    if args.webhook and not (settings.webhook_url and settings.webhook_secret):
        fail("run --webhook needs WEBHOOK_URL and WEBHOOK_SECRET (see .env.example)")
    if settings.console_listen and not settings.console_url:
        fail("CONSOLE_LISTEN needs CONSOLE_URL, the address staff open (see .env.example)")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, stop=stop, webhook=args.webhook)

    # uvloop's event loop serves the same coroutines with noticeably less CPU per update.
    try:
        uvloop.run(main())
    except InvalidToken:
        fail(TOKEN_REFUSED)  # the library's message would print the token itself
