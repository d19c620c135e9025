"""How long exports take, and how much memory they need: a simulated clinic is imported into SQLite,
then exported as the diary CSV and as a FHIR Bundle, the way `python -m bot export` does it.

    uv run python -m bench.export [--patients 500] [--days 180]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from bench.simulated_diaries import simulate
from bot.diary.questionnaire import Questionnaires
from bot.records import diary_csv
from bot.records.export import Export
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
        questionnaires = Questionnaires.load()

        async def to_file(kind: str) -> tuple[float, int, int]:
            target = folder / f"export.{kind}"
            started = time.perf_counter()
            export = await Export.open(database, code=None, actor_id=None, what="bench", now=now)
            with target.open("w", encoding="utf-8", newline="") as handle:
                if kind == "csv":
                    count = await export.write_csv(handle)
                else:
                    count = await export.write_fhir(handle, questionnaires, now=now)
            return time.perf_counter() - started, count, target.stat().st_size

        csv_seconds, checkins, csv_bytes = await to_file("csv")
        fhir_seconds, _, fhir_bytes = await to_file("fhir")
        tracemalloc.start()  # a second FHIR run, traced: tracing slows it, so it is not timed
        await to_file("fhir")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        started = time.perf_counter()
        single = await Export.open(database, code=cohort[0].code, actor_id=None, what="bench", now=now)
        await single.write_csv(io.StringIO())
        one_seconds = time.perf_counter() - started
    finally:
        await database.dispose()
    print(f"{patients} patients x {days} days: {checkins} answered check-ins")
    print(f"  diary CSV:   {csv_seconds:.1f} s, {checkins / csv_seconds:,.0f} check-ins/s ({csv_bytes / 1e6:.1f} MB)")
    print(
        f"  FHIR Bundle: {fhir_seconds:.1f} s, {checkins / fhir_seconds:,.0f} check-ins/s ({fhir_bytes / 1e6:.1f} MB)"
    )
    print(f"  peak Python memory while writing the FHIR Bundle: {peak / 1e6:.0f} MB")
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
