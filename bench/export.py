"""How long exports take, and how much memory they need: a simulated clinic is imported into SQLite,
then exported as the diary CSV and as a FHIR Bundle, the way `python -m bot export` does it.

    uv run python -m bench.export [--patients 500] [--days 180]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from bench.simulated_diaries import simulate
from bot.diary.questionnaire import Questionnaire
from bot.records import diary_csv, export
from bot.records.importer import import_files
from storage import migrate
from storage.database import Database


async def measure(patients: int, days: int, folder: Path) -> None:
    cohort = simulate(patients, days, seed=5)
    diary = folder / "diary.csv"
    diary_csv.write_points(diary, ((p.code, p.points) for p in cohort))
    database = Database(f"sqlite:///{folder / 'diary.db'}")
    try:
        await migrate.upgrade(database)
        now = datetime.now(UTC)
        await import_files(database, diary, infusions_file=None, now=now, language="en", timezone="UTC")
        questionnaire = Questionnaire.load("daily")

        tracemalloc.start()
        started = time.perf_counter()
        diaries = await export.collect(database, code=None, actor_id=None, what="bench", now=now)
        read = time.perf_counter() - started
        csv_text = export.to_csv(diaries)
        csv_done = time.perf_counter() - started
        bundle = json.dumps(export.to_fhir(diaries, questionnaire, now=now))
        fhir_done = time.perf_counter() - started - csv_done
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        one = cohort[0].code
        started = time.perf_counter()
        single = await export.collect(database, code=one, actor_id=None, what="bench", now=now)
        export.to_csv(single)
        one_seconds = time.perf_counter() - started
    finally:
        await database.dispose()
    checkins = sum(len(d.entries) for d in diaries)
    print(f"{patients} patients x {days} days: {checkins} answered check-ins")
    print(f"  read from the database: {read:.2f} s")
    print(f"  + diary CSV:            {csv_done:.2f} s in all ({len(csv_text) / 1e6:.1f} MB)")
    print(f"  FHIR Bundle (after the read): {fhir_done:.2f} s ({len(bundle) / 1e6:.1f} MB)")
    print(f"  peak Python memory for both: {peak / 1e6:.0f} MB")
    print(f"  one patient's /export (read + CSV): {one_seconds * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--days", type=int, default=180)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(args.patients, args.days, Path(folder)))


if __name__ == "__main__":
    main()
