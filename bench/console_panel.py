"""The console's patient panel with a large clinic: how long the page takes to serve, and its size.

    uv run python bench/console_panel.py [--patients 5000] [--days 90] [--requests 40] [--sort alerts]
                                         [--postgres | --database-url URL]

Seeds --patients patients (mostly active; some paused, invited, discharged) with --days days of daily
check-ins each (five answers, about 8% missed), infusions for a third of them and open alerts for a
few, in bulk, into a temporary SQLite database (or a throwaway PostgreSQL cluster with --postgres, or
the empty database at --database-url). The bulk rows bypass the code that keeps each patient's panel
summary (bot/diary/summary.py), so, as after the migration that added the summaries, the first load
of the panel computes and stores all of them: its time is printed on its own. Then signs in a staff
member as the console does and requests the panel's first page (`/console/patients?sort=...`: sorted
and filtered across all patients in the database, 200 shown) --requests times over HTTP (aiohttp's
in-process test server). Prints p50/p95/max in ms and the page's size. Target: p95 < 300 ms for
5,000 patients. Last, two loads a day later: the first finds every summary's figures moved with the
clock and computes them again from what the summary rows keep (no diary read).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.console import auth  # noqa: E402
from bot.console.app import Console  # noqa: E402
from bot.console.panel import SORTS  # noqa: E402
from storage import migrate, staff  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import Alert, Answer, CheckIn, Infusion, Patient, Schedule, table  # noqa: E402

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
STAFF_ID = 800
BATCH = 20_000  # rows per INSERT statement batch
SIGNS = {"skin_color": "same", "skin_temperature": "same", "swelling": "none"}


async def insert(database: Database, model: type, rows: list[dict[str, Any]]) -> None:
    target = table(model)
    for start in range(0, len(rows), BATCH):
        async with database.engine.begin() as connection:
            await connection.execute(target.insert(), rows[start : start + BATCH])


async def seed(database: Database, *, patients: int, days: int, seed: int = 7) -> int:
    """The clinic; returns how many check-ins it holds. Ids are given here (the database is new), so
    answers can name their check-in without reading anything back."""
    rng = random.Random(seed)
    statuses = ["active"] * 90 + ["paused"] * 4 + ["invited"] * 3 + ["discharged"] * 3
    people, schedules, infusions, alerts = [], [], [], []
    for n in range(1, patients + 1):
        status = rng.choice(statuses)
        people.append(
            {
                "id": n,
                "code": f"P-{n:05d}",
                "telegram_user_id": None if status == "invited" else 1_000_000 + n,
                "chat_id": None if status == "invited" else 1_000_000 + n,
                "language": "en",
                "timezone": "Europe/Berlin",
                "status": "active" if status == "paused" else status,
                "created_at": NOW - timedelta(days=days + 30),
                "consented_at": None if status == "invited" else NOW - timedelta(days=days + 30),
            }
        )
        schedules.append(
            {
                "patient_id": n,
                "times": "09:00",
                "days": "mon-sun",
                "timezone": "Europe/Berlin",
                "paused_until": NOW + timedelta(days=7) if status == "paused" else None,
                "next_local_date": (NOW + timedelta(days=1)).date(),
                "next_slot": "09:00",
                "next_due_at": NOW + timedelta(hours=23),
            }
        )
        if rng.random() < 1 / 3:  # an infusion every 6-10 weeks over the last year
            given = NOW.date() - timedelta(days=rng.randint(3, 60))
            while given > NOW.date() - timedelta(days=365):
                infusions.append(
                    {"patient_id": n, "given_on": given, "kind": "ketamine", "recorded_at": NOW, "recorded_by": None}
                )
                given -= timedelta(days=rng.randint(42, 70))
        if rng.random() < 0.05:
            alerts.append(
                {
                    "patient_id": n,
                    "rule": "severe_pain",
                    "tier": "amber",
                    "status": "open",
                    "details": "{}",
                    "event_at": NOW - timedelta(hours=2),
                    "opened_at": NOW - timedelta(hours=2),
                    "updated_at": NOW - timedelta(hours=2),
                    "escalations": 0,
                }
            )
    await insert(database, Patient, people)
    await insert(database, Schedule, schedules)
    await insert(database, Infusion, infusions)
    await insert(database, Alert, alerts)

    # Day by day, everyone's check-ins of the day together: the order a running clinic writes them in,
    # so that the rows of the last weeks lie together on disk as they would in a real database.
    enrolled = [person["id"] for person in people if person["status"] != "invited"]
    usual = {n: rng.uniform(2, 7) for n in enrolled}
    level = dict(usual)
    checkin_id = 0
    checkins: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for day in range(days, 0, -1):
        for n in enrolled:
            at = NOW - timedelta(days=day, minutes=rng.randint(0, 90))
            checkin_id += 1
            missed = rng.random() < 0.08
            checkins.append(
                {
                    "id": checkin_id,
                    "patient_id": n,
                    "questionnaire": "daily",
                    "local_date": at.date(),
                    "slot": "09:00",
                    "started_at": at,
                    "closes_at": at + timedelta(hours=4),
                    "status": "missed" if missed else "open",  # an answered one stays open until it closes
                    "step": None,
                    "completed_at": None if missed else at + timedelta(minutes=2),
                }
            )
            if missed:
                continue
            level[n] = 0.7 * level[n] + 0.3 * usual[n] + rng.gauss(0, 1.2)
            values = {"pain": str(min(10, max(0, round(level[n])))), "mood": str(rng.randint(2, 5)), **SIGNS}
            answers += [
                {"checkin_id": checkin_id, "item": item, "value": value, "answered_at": at + timedelta(minutes=1)}
                for item, value in values.items()
            ]
        if len(answers) > 5 * BATCH:
            await insert(database, CheckIn, checkins)
            await insert(database, Answer, answers)
            checkins, answers = [], []
    await insert(database, CheckIn, checkins)
    await insert(database, Answer, answers)
    return checkin_id


async def measure(args: argparse.Namespace, database_url: str) -> None:
    database = Database(database_url)
    await migrate.upgrade(database)
    started = time.perf_counter()
    count = await seed(database, patients=args.patients, days=args.days)
    seeded = time.perf_counter() - started
    async with database.session() as session:
        await staff.add(session=session, telegram_user_id=STAFF_ID, role="staff", now=NOW, name="Sam")
    settings = load_settings(
        _env_file=None,
        database_url=database_url,
        console_url="http://127.0.0.1/console",
        default_timezone="Europe/Berlin",
        instruments="",
    )
    clock = [NOW]
    console = Console.for_settings(database, settings, clock=lambda: clock[0])
    client = TestClient(TestServer(console.application()))
    await client.start_server()
    try:
        token = await auth.issue_link(database, telegram_user_id=STAFF_ID, role="staff", now=NOW)
        signed_in = await client.post("/console/signin", data={"token": token}, allow_redirects=False)
        assert signed_in.status == 303, "signed in"
        path = f"/console/patients?sort={args.sort}"
        began = time.perf_counter()
        size = len(await (await client.get(path)).read())  # computes every summary; templates compiled
        first = (time.perf_counter() - began) * 1000
        timings, cpu = [], []
        for _ in range(args.requests):
            began, began_cpu = time.perf_counter(), time.process_time()
            response = await client.get(path)
            body = await response.read()
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
            assert response.status == 200 and len(body) == size
        clock[0] = NOW + timedelta(days=1)  # the session ended after 12 hours idle: sign in again
        token = await auth.issue_link(database, telegram_user_id=STAFF_ID, role="staff", now=clock[0])
        signed_in = await client.post("/console/signin", data={"token": token}, allow_redirects=False)
        assert signed_in.status == 303, "signed in"
        later = []
        for _ in range(2):
            began = time.perf_counter()
            response = await client.get(path, allow_redirects=False)
            assert response.status == 200 and len(await response.read()) > size / 2
            later.append((time.perf_counter() - began) * 1000)
    finally:
        await client.close()
        await database.dispose()
    timings.sort()
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    print(f"{args.patients:,} patients, {count:,} daily check-ins over {args.days} days ({database_url.split(':')[0]})")
    print(f"  seeded in                 {seeded:8.1f} s")
    print(f"  first load (all summaries computed from the diary) {first:8.1f} ms")
    print(f"  GET {path:<22}{statistics.median(timings):8.1f} ms p50, {p95:.1f} ms p95, {timings[-1]:.1f} ms max")
    print(f"  CPU time of this process  {statistics.median(cpu):8.1f} ms p50 per request (server and client)")
    print(f"  ({args.requests} requests; target p95 < 300 ms)   page {size / 1024:,.0f} KiB")
    print(f"  a day later (every summary moved with the clock): {later[0]:.1f} ms, then {later[1]:.1f} ms")
    print(f"  load average at the end   {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--sort", default="alerts", choices=SORTS)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster (tests/postgres.py)")
    where.add_argument("--database-url", help="an empty database to seed")
    args = parser.parse_args()
    if args.database_url:
        await measure(args, args.database_url)
    elif args.postgres:
        from tests.postgres import PostgresCluster

        cluster = PostgresCluster()
        cluster.start()
        try:
            await measure(args, await cluster.create_database())
        finally:
            cluster.stop()
    else:
        with tempfile.TemporaryDirectory() as workdir:
            await measure(args, f"sqlite:///{workdir}/panel.db")


if __name__ == "__main__":
    asyncio.run(main())
