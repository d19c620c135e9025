"""Running the bot: migrate, build, replay the inbox, poll until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.app import build_application, publish_command_menus, utc_now
from bot.config import Settings
from bot.delivery.inbox import Inbox
from storage import migrate
from storage.database import Database

log = logging.getLogger(__name__)


def quiet_library_loggers() -> None:
    """Request URLs contain the bot token, and library chatter is not ours to vouch for: WARNING and up."""
    for name in ("httpx", "httpcore", "telegram", "aiohttp", "alembic", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
    clock: Callable[[], datetime] = utc_now,
    poll_timeout: int = 10,
) -> None:
    database = Database(settings.database_url)
    try:
        await migrate.upgrade(database)
        application = build_application(settings, database, clock=clock)
        inbox = Inbox(application, database, clock=clock, poll_timeout=poll_timeout)
        async with application:
            await publish_command_menus(application)
            await application.start()
            try:
                await inbox.replay_unfinished()
                log.info("bot @%s is running", application.bot.username)
                if ready is not None:
                    ready.set()
                await inbox.poll(stop)
            finally:
                await application.stop()
    finally:
        await database.dispose()
