"""Logging the bot's processes share, in a module of its own so that a short command need not import
the bot's runner to set it up."""

from __future__ import annotations

import logging


def quiet_library_loggers() -> None:
    """Request URLs contain the bot token, and library chatter is not ours to vouch for: WARNING and up."""
    for name in ("httpx", "httpcore", "telegram", "aiohttp", "alembic", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)
