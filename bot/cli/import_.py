"""`python -m bot import`: diary history (and infusions) from CSV files, all or nothing. (The module's
name has an underscore because `import` is a Python word.)"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import fail, on_database, utc_now

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings
    from storage.database import Database


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("import", help="load diary history (and infusions) from CSV files")
    parser.add_argument("diary", type=Path, help="diary CSV: patient,recorded_at,pain,skin_color,...")
    parser.add_argument("--infusions", type=Path, help="infusions CSV: patient,date,kind")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    from bot.records.diary_csv import CsvError
    from bot.records.importer import import_files

    async def work(database: Database) -> str:
        done = await import_files(
            database,
            args.diary,
            infusions_file=args.infusions,
            now=utc_now(),
            language=settings.default_language,
            timezone=settings.default_timezone,
        )
        return (
            f"imported {done.checkins} check-ins and {done.infusions} infusions for {done.patients} patients "
            f"({done.new_patients} new)"
        )

    try:
        print(on_database(settings, work))
    except CsvError as error:
        fail(f"{error} (nothing was imported)")
