"""`python -m bot run` as a separate process, for tests that kill it or run two of it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.sandbox import BotApiStandIn

ROOT = Path(__file__).resolve().parent.parent


def bot_env(standin: BotApiStandIn, database_url: str, **settings: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DEFAULT_", "DATABASE_"))}
    return clean | {
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_BASE_URL": standin.url,
        "DATABASE_URL": database_url,
        # The stand-in has no flood limits: Telegram's pace for one chat (1/s) would only make tests wait.
        "CHAT_MESSAGES_PER_SECOND": "100",
        "GROUP_MESSAGES_PER_MINUTE": "6000",
        **settings,
    }


def start_bot(env: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", *options],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)
