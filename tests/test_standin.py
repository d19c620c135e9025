"""The Bot API stand-in answers in Telegram's shapes, over HTTP, with form and JSON parameters."""

from __future__ import annotations

import httpx
import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.sandbox import BotApiStandIn, SimulatedUser


@pytest.fixture
async def standin() -> BotApiStandIn:
    server = BotApiStandIn(flood_limits=True)
    await server.start()
    yield server  # type: ignore[misc]
    await server.stop()


async def test_form_and_json_parameters(standin: BotApiStandIn) -> None:
    SimulatedUser(standin, 7, "Ben")
    async with httpx.AsyncClient(base_url=f"{standin.url}/bot{standin.token}") as client:
        form = (await client.post("/sendMessage", data={"chat_id": "7", "text": "form"})).json()
        as_json = (await client.post("/sendMessage", json={"chat_id": 7, "text": "json"})).json()
        unknown = await client.post("/launchRocket", json={})
        wrong_token = await httpx.AsyncClient().post(f"{standin.url}/botnope/getMe")
    assert form["ok"] and form["result"]["text"] == "form"
    assert as_json["ok"] and as_json["result"]["chat"]["id"] == 7
    assert unknown.status_code == 404 and unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert wrong_token.status_code == 401


async def test_telegram_errors_reach_ptb_as_its_own_exceptions(standin: BotApiStandIn) -> None:
    ben = SimulatedUser(standin, 8, "Ben")
    async with Bot(standin.token, base_url=f"{standin.url}/bot") as bot:
        message = await bot.send_message(ben.id, "hello")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("hello", chat_id=ben.id, message_id=message.message_id)
        standin.block(ben.id)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(ben.id, "again")
        standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(ben.id, "later")
        assert retry.value.retry_after in (3, __import__("datetime").timedelta(seconds=3))
        await bot.delete_message(ben.id, message.message_id)
        assert standin.chat(ben.id) == []


async def test_flood_limits_answer_429_per_chat(standin: BotApiStandIn) -> None:
    ben = SimulatedUser(standin, 9, "Ben")
    async with Bot(standin.token, base_url=f"{standin.url}/bot") as bot:
        for n in range(3):  # a short burst is allowed
            await bot.send_message(ben.id, f"burst {n}")
        with pytest.raises(RetryAfter):
            await bot.send_message(ben.id, "one too many")
    assert standin.too_many_requests == 1


async def test_get_updates_confirms_with_offset(standin: BotApiStandIn) -> None:
    ben = SimulatedUser(standin, 10, "Ben")
    async with Bot(standin.token, base_url=f"{standin.url}/bot") as bot:
        await ben.send("one", wait=False)
        await ben.send("two", wait=False)
        first = await bot.get_updates(timeout=0)
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in first] == [u.update_id for u in again], "unconfirmed updates come again"
        confirmed = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
        assert confirmed == ()
        assert first[0].message is not None and first[0].message.text == "one"
