"""How fast does the diary take answers? Simulated patients press check-in buttons through the stand-in.

    uv run python bench/answers.py [--patients 200] [--rounds 3] [--rate 100] [--database-url URL]

The bot runs as its own process (`python -m bot run`, SQLite by default) so that it has a core to
itself; the stand-in and the patients run here. Flood limits are off. Prints answers/s with every
patient pressing as fast as the bot answers, p50/p99 from a press to the bot's edited message (at full
load and at --rate answers/s offered), the bot's peak RSS, and the same figures for a minimal PTB echo
bot on the same stand-in, with the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.diary import enrolment  # noqa: E402
from bot.sandbox import BotApiStandIn, SimulatedUser  # noqa: E402
from storage import migrate  # noqa: E402
from storage.database import Database  # noqa: E402

CHECKIN_PRESSES = ["6", "Redder", "Warmer", "A little", "3 Okay", "Skip ▶"]


@dataclass
class Figures:
    answers_per_second: float
    full_load_latencies: list[float]
    offered_latencies: list[float]
    offered_rate: float
    peak_rss_mb: float


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_started(user: SimulatedUser, text: str) -> None:
    for _ in range(100):
        try:
            await user.send(text, timeout=1)
            return
        except AssertionError:
            await asyncio.sleep(0.2)
    raise SystemExit("the bot did not start")


async def press_rounds(users: list[SimulatedUser], checkin: bool, rounds: int) -> tuple[int, float, list[float]]:
    """Every patient answers `rounds` complete check-ins as fast as the bot lets them."""
    latencies: list[float] = []

    async def patient(user: SimulatedUser) -> int:
        count = 0
        for n in range(rounds):
            if checkin:
                await user.send("/checkin", timeout=60)
                labels = CHECKIN_PRESSES
            else:
                labels = ["again"] * len(CHECKIN_PRESSES)
            for label in labels:
                press = (
                    await user.press(label, timeout=60)
                    if checkin
                    else await user.press(data=f"echo:{n}:{count}", message=user.last_with_buttons(), timeout=60)
                )
                latencies.append(press.seconds_to_edit or press.seconds_to_answer)
                count += 1
        return count

    started = time.perf_counter()
    counts = await asyncio.gather(*(patient(u) for u in users))
    return sum(counts), time.perf_counter() - started, latencies


async def offered_load(users: list[SimulatedUser], checkin: bool, rate: float, seconds: float) -> list[float]:
    """Presses arrive at `rate` per second, spread over the patients, regardless of how fast the bot is."""
    latencies: list[float] = []
    total = int(rate * seconds)
    queues: list[list[int]] = [[] for _ in users]
    for n in range(total):
        queues[n % len(users)].append(n)

    async def patient(user: SimulatedUser, slots: list[int]) -> None:
        for step, slot in enumerate(slots):
            delay = start + slot / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if checkin:
                if step % len(CHECKIN_PRESSES) == 0:
                    await user.send("/checkin", timeout=60)
                press = await user.press(CHECKIN_PRESSES[step % len(CHECKIN_PRESSES)], timeout=60)
            else:
                press = await user.press(data=f"rate:{slot}", message=user.last_with_buttons(), timeout=60)
            latencies.append(press.seconds_to_edit or press.seconds_to_answer)

    start = time.perf_counter()
    await asyncio.gather(*(patient(u, q) for u, q in zip(users, queues, strict=True)))
    return latencies


async def run_diary(args: argparse.Namespace, workdir: Path) -> Figures:
    standin = BotApiStandIn()
    await standin.start()
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    database = Database(database_url)
    await migrate.upgrade(database)
    now = datetime.now(UTC)
    tokens = [
        await enrolment.create_invite(
            database,
            code=f"B-{n}",
            timezone="Europe/Berlin",
            language="en",
            checkin_times="",
            now=now,
            valid_for=timedelta(days=7),
        )
        for n in range(args.patients)
    ]
    await database.dispose()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_BASE_URL": standin.url,
        "DATABASE_URL": database_url,
        "INSTRUMENTS": "",  # the daily check-in alone: no questionnaire offered after it
    }
    bot = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measurement)
        [sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        users = [SimulatedUser(standin, 10_000 + n, f"B{n}") for n in range(args.patients)]
        await wait_started(users[0], f"/start {tokens[0]}")
        await users[0].press("I agree")
        await asyncio.gather(*(enrol(u, t) for u, t in zip(users[1:], tokens[1:], strict=True)))
        answers, elapsed, full = await press_rounds(users, True, args.rounds)
        offered = await offered_load(users, True, args.rate, args.seconds)
        return Figures(answers / elapsed, full, offered, args.rate, peak_rss_mb(bot.pid))
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        await standin.stop()


async def enrol(user: SimulatedUser, token: str) -> None:
    await user.send(f"/start {token}", timeout=60)
    await user.press("I agree", timeout=60)


async def run_echo(args: argparse.Namespace) -> Figures:
    standin = BotApiStandIn()
    await standin.start()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": standin.token, "TELEGRAM_API_BASE_URL": standin.url}
    bot = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measurement)
        [sys.executable, str(ROOT / "bench" / "echo_bot.py")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        users = [SimulatedUser(standin, 20_000 + n, f"E{n}") for n in range(args.patients)]
        for user in users:  # a message with a button in every chat, as a check-in would be
            standin.messages[user.id][1] = standin._new_bot_message(
                user.id, text="press", reply_markup={"inline_keyboard": [[{"text": "again", "callback_data": "x"}]]}
            )
        for _ in range(100):
            try:
                await users[0].press(data="warmup", message=users[0].last_with_buttons(), timeout=1)
                break
            except AssertionError:
                await asyncio.sleep(0.2)
        answers, elapsed, full = await press_rounds(users, False, args.rounds)
        offered = await offered_load(users, False, args.rate, args.seconds)
        return Figures(answers / elapsed, full, offered, args.rate, peak_rss_mb(bot.pid))
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        await standin.stop()


def report(name: str, figures: Figures) -> None:
    print(f"{name}:")
    print(f"  answers/s at full load        {figures.answers_per_second:8.0f}")
    print(
        f"  press -> edit at full load    p50 {percentile(figures.full_load_latencies, 0.5):6.1f} ms"
        f"   p99 {percentile(figures.full_load_latencies, 0.99):6.1f} ms"
    )
    offered = figures.offered_latencies
    print(
        f"  press -> edit at {figures.offered_rate:.0f}/s offered  p50 {percentile(offered, 0.5):6.1f} ms"
        f"   p99 {percentile(offered, 0.99):6.1f} ms"
    )
    print(f"  peak RSS of the bot process   {figures.peak_rss_mb:8.1f} MB")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="complete check-ins per patient at full load")
    parser.add_argument("--rate", type=float, default=100, help="answers/s offered for the latency run")
    parser.add_argument("--seconds", type=float, default=10, help="length of the offered-load run")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        diary = await run_diary(args, Path(workdir))
    echo = await run_echo(args)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{args.patients} patients, {args.rounds} check-ins each (6 presses), flood limits off, {backend}\n")
    report("diary bot", diary)
    report("PTB echo bot (no database)", echo)
    print(f"\nratio diary/echo answers/s: {diary.answers_per_second / echo.answers_per_second:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
