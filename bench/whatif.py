"""How long the console's rules what-if takes: a simulated clinic is imported into a database, then its
diary is read back (one audited read of every patient) and replayed under the default rules and a
stricter set, as pressing Replay does.

    uv run python -m bench.whatif [--patients 300] [--days 365] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.simulated_diaries import simulate
from bot.alerts.crisis import CrisisLanguage
from bot.alerts.rules import load_rules, read_rules
from bot.console.whatif import EVERYTHING, compare
from bot.diary.questionnaire import Questionnaires
from bot.records import clinic_history, diary_csv
from bot.records.importer import import_files
from storage import migrate
from storage.database import Database

STRICTER = "severe_pain: {consecutive: 2, days: 1}\nmissed_checkins: {enabled: false}\n"


class LoopWatch:
    """The longest the event loop went without its turn: what a bot in the same process would wait."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.running = True

    async def watch(self) -> None:
        last = time.perf_counter()
        while self.running:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.longest, last = max(self.longest, now - last - 0.01), now


async def measure(patients: int, days: int, database_url: str, folder: Path) -> None:
    cohort = simulate(patients, days, seed=5)
    diary, infusions = folder / "diary.csv", folder / "infusions.csv"
    diary_csv.write_points(diary, ((p.code, p.points) for p in cohort))
    diary_csv.write_infusions(infusions, ((p.code, p.infusions) for p in cohort))
    database = Database(database_url)
    now = datetime.now(UTC)
    phrases = CrisisLanguage.load()
    try:
        await migrate.upgrade(database)
        await import_files(database, diary, infusions_file=infusions, now=now, language="en", timezone="UTC")
        reading, replaying = LoopWatch(), LoopWatch()
        watching = asyncio.create_task(reading.watch())
        started, cpu = time.perf_counter(), time.process_time()
        history = await clinic_history.read(
            database,
            Questionnaires.load(),
            since=EVERYTHING,  # the simulated diaries begin on a fixed day
            actor_id=None,
            action="bench",
            detail="bench",
            now=now,
        )
        read_seconds, read_cpu = time.perf_counter() - started, time.process_time() - cpu
        reading.running = False
        await watching
        watching = asyncio.create_task(replaying.watch())
        stricter = read_rules(STRICTER, source="stricter")
        cpu = time.process_time()
        comparison = await asyncio.to_thread(compare, history, load_rules(), stricter, phrases)  # as the console
        replay_cpu = time.process_time() - cpu
        replaying.running = False
        await watching
    finally:
        await database.dispose()
    kind = database.engine.dialect.name
    print(f"{patients} patients x {days} days: {comparison.checkins} answered check-ins ({kind})")
    held, held_replaying = reading.longest * 1000, replaying.longest * 1000
    print(f"  read every diary from the database: {read_seconds:.1f} s (event loop held up to {held:.0f} ms)")
    print(f"  replay under both rule sets:        {comparison.seconds:.1f} s (in a thread: {held_replaying:.0f} ms)")
    print(f"  what Replay waits for in all:       {read_seconds + comparison.seconds:.1f} s")
    print(f"  CPU time (what an idle core would take): read {read_cpu:.1f} s, replay {replay_cpu:.1f} s")
    print(f"  alerts: {comparison.total.current} under the default rules, {comparison.total.proposed} stricter")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'diary.db'}"
        asyncio.run(measure(args.patients, args.days, url, Path(folder)))


if __name__ == "__main__":
    main()
