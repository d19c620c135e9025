"""`python -m bot console`: the clinicians' web console alone, on the bot's database; the bot (`run`)
sends the card updates it queues."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import fail, utc_now

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    return commands.add_parser("console", help="serve the clinicians' web console alone (CONSOLE_LISTEN, CONSOLE_URL)")


def run(settings: Settings, args: argparse.Namespace) -> None:
    import asyncio
    import signal

    import uvloop

    from bot.console.app import Console
    from storage import migrate
    from storage.database import Database

    if settings.console_address is None or settings.console_url is None:
        fail("console needs CONSOLE_LISTEN (host:port) and CONSOLE_URL (the address staff open); see .env.example")
    host, port = settings.console_address

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        database = Database(settings.database_url)
        console = Console.for_settings(database, settings, clock=utc_now)
        try:
            await migrate.upgrade(database)
            await console.start(host, port)
            await stop.wait()
        finally:
            await console.stop()
            await database.dispose()

    uvloop.run(main())
