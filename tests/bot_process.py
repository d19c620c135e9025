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


# A process that imports what `python -m bot run` imports (Telegram, SQLAlchemy, the bot: seconds of CPU), then
# waits for its turn on stdin and runs `python -m bot run` as it is. It opens no database and reaches no Telegram
# before its turn: until then it is a bot process not yet started.
_SPARE = """\
import sys
import uvloop, telegram.error, bot.cli, bot.config, bot.diary.places, bot.runner
if sys.stdin.readline() != "start\\n":
    sys.exit()
import runpy
sys.argv = ["bot", *sys.argv[1:]]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""

_Key = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]

# The next process for each environment and options, importing while the one before runs: a test that kills
# its bot and starts it again (the kill loops: four times) does not wait for each start's imports.
_spares: dict[_Key, subprocess.Popen[bytes]] = {}
_started: dict[subprocess.Popen[bytes], _Key] = {}


def _spare(env: dict[str, str], options: tuple[str, ...]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", _SPARE, "run", *options],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_bot(env: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    """`python -m bot run` with these variables and options, a process of its own, starting now (one made ready
    beforehand is told to start); the next one for them gets ready meanwhile."""
    key = (tuple(sorted(env.items())), options)
    process = _spares.pop(key, None)
    if process is None or process.poll() is not None:
        process = _spare(env, options)
    assert process.stdin is not None
    process.stdin.write(b"start\n")
    process.stdin.close()
    _spares[key] = _spare(env, options)
    for ended in [p for p in _started if p.poll() is not None]:  # killed by the test, never stopped
        del _started[ended]
    _started[process] = key
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """The bot ended (SIGTERM, as a service manager would), and the process made ready to start after it."""
    spare = _spares.pop(_started.pop(process, ((), ())), None)
    if spare is not None:
        spare.kill()
        spare.wait()
        assert spare.stdin is not None
        spare.stdin.close()
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
