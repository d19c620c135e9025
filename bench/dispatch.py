"""A 09:00 wave: N patients due at the same minute, sent through the stand-in with Telegram's flood limits.

    uv run python bench/dispatch.py [--patients 10000] [--schedules 100000] [--database-url URL]

The bot runs as `python -m bot run` (SQLite by default). Prints the send rate as a fraction of
Telegram's 30 messages/s, the 429 answers received, p95 lateness after the scheduled minute (target:
at most N/30 s + 5 s), the bot's peak RSS, and the time of one tick's due query among --schedules rows.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.answers import peak_rss_mb  # noqa: E402
from bench.cohort import seed_due_patients  # noqa: E402
from bot.sandbox import BotApiStandIn  # noqa: E402
from storage import migrate, schedules  # noqa: E402
from storage.database import Database  # noqa: E402


async def wave(args: argparse.Namespace, database_url: str) -> None:
    standin = BotApiStandIn(flood_limits=True)
    await standin.start()
    database = Database(database_url)
    await migrate.upgrade(database)
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_BASE_URL": standin.url,
        "DATABASE_URL": database_url,
    }
    bot = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measurement)
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The wave is due at the next whole minute at least 20 s away, seeded before it comes.
        now = datetime.now(UTC)
        due = (now + timedelta(seconds=80)).replace(second=0, microsecond=0)
        await seed_due_patients(database, count=args.patients, due_at=due, standin=standin)
        await database.dispose()
        wall_minus_monotonic = time.time() - time.monotonic()
        deadline = time.monotonic() + args.patients / 25 + 300
        while len(standin.sent("sendMessage")) < args.patients:
            if time.monotonic() > deadline or bot.poll() is not None:
                raise SystemExit(f"only {len(standin.sent('sendMessage'))} of {args.patients} were sent")
            await asyncio.sleep(1)
        rss = peak_rss_mb(bot.pid)
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        await standin.stop()
    sends = standin.sent("sendMessage")
    times = sorted(c.at + wall_minus_monotonic for c in sends)
    lateness = sorted(t - due.timestamp() for t in times)
    rate = (len(times) - 1) / (times[-1] - times[0])
    p95 = lateness[int(0.95 * (len(lateness) - 1))]
    print(f"{args.patients} patients due at {due:%H:%M} UTC, flood limits on")
    print(f"  sent/s                    {rate:8.2f}  ({rate / 30:.3f} of 30/s; target >= 0.95)")
    print(f"  429 answers               {standin.too_many_requests:8d}  (target 0)")
    print(
        f"  lateness p50 / p95        {lateness[len(lateness) // 2]:8.1f} / {p95:.1f} s"
        f"  (target p95 <= {args.patients / 30 + 5:.0f} s)"
    )
    print(f"  peak RSS of the bot       {rss:8.1f} MB  (target < 200)")
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    print(
        f"  gaps between sends        p50 {gaps[len(gaps) // 2] * 1000:.1f} ms,"
        f" p99 {gaps[int(0.99 * len(gaps))] * 1000:.1f} ms, longest {gaps[-1] * 1000:.0f} ms"
    )


async def due_query(args: argparse.Namespace, database_url: str) -> None:
    database = Database(database_url)
    await migrate.upgrade(database)
    now = datetime.now(UTC)
    await seed_due_patients(database, count=args.schedules, due_at=now + timedelta(hours=6))
    timings = []
    for _ in range(20):
        async with database.session() as session:
            started = time.perf_counter()
            due = await schedules.claim_due(session=session, now=now, limit=500)
            timings.append(time.perf_counter() - started)
            await session.rollback()
    assert due == []
    await database.dispose()
    print(
        f"  one tick's due query      {statistics.median(timings) * 1000:8.2f} ms"
        f"  (median of 20, {args.schedules:,} schedules, none due)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--schedules", type=int, default=100_000)
    parser.add_argument("--database-url", help="an empty database (default: fresh SQLite files)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        await wave(args, args.database_url or f"sqlite:///{workdir}/wave.db")
        await due_query(args, args.database_url or f"sqlite:///{workdir}/schedules.db")


if __name__ == "__main__":
    asyncio.run(main())
