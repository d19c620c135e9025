"""`run --webhook`: Telegram POSTs updates to us with a secret header; we store, then answer 200."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.sandbox import SimulatedUser
from bot.sandbox.server import free_port
from tests.harness import SQLITE_ONLY, running_diary

SECRET = "s3cret-token_for-the-webhook"


@SQLITE_ONLY
async def test_updates_arrive_by_webhook_and_only_with_the_secret(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/updates"
    async with running_diary(
        database_url,
        tmp_path / "files",
        webhook=True,
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_port=port,
    ) as diary:
        assert diary.standin.webhook == {"url": url, "secret_token": SECRET}, "the bot registered its webhook"
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)  # /start and the consent press, both POSTed to the webhook
        reply = await ben.send("/checkin")
        assert reply is not None and reply.text is not None and "pain" in reply.text.lower()
        assert diary.standin.webhook_deliveries and set(diary.standin.webhook_deliveries) == {200}

        forged = {
            "update_id": 99999,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 301, "type": "private"},
                "from": {"id": 301, "is_bot": False, "first_name": "X"},
                "text": "/help",
            },
        }
        async with aiohttp.ClientSession() as client:
            for header in (
                {},
                {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]},
            ):
                async with client.post(url, json=forged, headers=header) as response:
                    assert response.status == 403
            secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            async with client.post(url, data=b"not json", headers=secret) as response:
                assert response.status == 400
            async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200 and await response.json() == {"ok": True}
        before = len(ben.messages)
        reply = await ben.send("/help")
        assert reply is not None and reply.text is not None and reply.text.startswith("This is your symptom diary")
        assert len(ben.messages) == before + 1, "the forged /help was not answered; the real one was"
