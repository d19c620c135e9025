"""Updates by webhook: Telegram POSTs each update to us (through the clinic's HTTPS reverse proxy).

A POST is answered 200 only once the update is stored in the durable inbox, so a crash before that
makes Telegram send it again (one from Telegram that this version of python-telegram-bot does not read
whole is handled in part or skipped, as when polling: see bot/delivery/reading.py). The secret token
Telegram echoes in a header is compared in constant time; anything without it is refused before its
body is read. GET /healthz says whether the database answers, for the proxy's or orchestrator's health
checks.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.delivery import reading
from bot.delivery.inbox import Inbox
from bot.metrics import health
from storage.database import Database

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024  # updates are small; files are fetched separately


class WebhookServer:
    def __init__(self, inbox: Inbox, database: Database, bot: Any, *, url: str, secret: str) -> None:
        self.inbox = inbox
        self.database = database
        self.bot = bot
        self.path = urlsplit(url).path or "/"
        self._secret = secret.encode()
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (useful when 0 picks a free one)."""
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_post(self.path, self._update)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        return int(self._runner.addresses[0][1])

    async def _health(self, request: web.Request) -> web.Response:
        return await health(self.database)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook POST without the right secret token refused")
            return web.Response(status=403)
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # deeper than Python parses: not one
            return web.Response(status=400)
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        # Telegram's ids are positive integers that fit the inbox's 64-bit key; anything else is not an update
        # from Telegram, whatever its secret says (and JSON's true is not the number 1).
        if type(update_id) is not int or not 0 < update_id < 2**63:
            return web.Response(status=400)
        read = reading.read(payload, self.bot)
        if read.update is not None:
            await self.inbox.receive([read.update])
        if read.update is None or read.left_out:
            # From Telegram (it has the secret), but not as this version of python-telegram-bot reads updates:
            # handled in part or skipped (the admins told) and answered 200: refused, Telegram would only send it
            # again and again.
            await self.inbox.not_read_whole([(payload, read)])
        return web.Response(status=200)
