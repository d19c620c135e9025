"""The aiohttp transport's time-outs: its own unless PTB passes one, and None for no limit at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram.error import NetworkError, TimedOut

from bot.delivery.inbox import telegram_away
from bot.delivery.telegram_http import AiohttpRequest
from bot.sandbox.server import free_port

SLOW = 0.3  # seconds the server takes to answer
SHORT, LONG = 0.05, 30.0


@pytest.fixture
async def slow_url() -> AsyncIterator[str]:
    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(SLOW)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot/getMe", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/bot/getMe"
    finally:
        await runner.cleanup()


async def test_a_time_out_not_given_is_the_transports_own_and_one_given_wins(slow_url: str) -> None:
    short, long = AiohttpRequest(read_timeout=SHORT), AiohttpRequest(read_timeout=LONG)
    for request in (short, long):
        await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await short.do_request(slow_url, "POST")
        assert (await short.do_request(slow_url, "POST", read_timeout=LONG))[0] == 200
        assert (await short.do_request(slow_url, "POST", read_timeout=None))[0] == 200, "None: no limit"
        assert (await long.do_request(slow_url, "POST"))[0] == 200
        with pytest.raises(TimedOut):
            await long.do_request(slow_url, "POST", read_timeout=SHORT)
    finally:
        for request in (short, long):
            await request.shutdown()


async def test_no_connection_in_time_is_a_network_error_not_a_time_out(slow_url: str) -> None:
    """A request that got no connection in time (Telegram out of reach, or every pooled connection busy) was never
    sent: a NetworkError, which the inbox tries again (bot/delivery/inbox.py, telegram_away), not a TimedOut, which
    it must not (the request may have been done). It was a TimedOut, and the update was marked handled."""
    request = AiohttpRequest(pool_size=1, connect_timeout=SHORT, pool_timeout=SHORT)
    await request.initialize()
    try:
        busy = asyncio.create_task(request.do_request(slow_url, "POST"))  # the one connection, for SLOW seconds
        await asyncio.sleep(SHORT)
        with pytest.raises(NetworkError) as raised:
            await request.do_request(slow_url, "POST")
        assert not isinstance(raised.value, TimedOut)
        assert (await busy)[0] == 200
    finally:
        await request.shutdown()


async def test_a_connection_dropped_after_the_request_is_not_taken_for_one_never_sent() -> None:
    """Telegram may have done a request whose connection dropped before its answer (reset, closed): tried again,
    the handler would send its message twice (a second check-in). Only a connection never made is surely not done:
    the inbox tries that update again (telegram_away), not this one, as after a time-out."""

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)  # the request arrived
        writer.transport.abort()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as dropped:
            await request.do_request(f"http://127.0.0.1:{port}/bot/getMe", "POST")
        assert not telegram_away(dropped.value)
        server.close()
        await server.wait_closed()
        with pytest.raises(NetworkError) as refused:
            await request.do_request(f"http://127.0.0.1:{port}/bot/getMe", "POST")
        assert telegram_away(refused.value), "refused: nothing was sent"
    finally:
        await request.shutdown()
