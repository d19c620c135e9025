"""`python -m bot export`: every patient's (or one patient's) diary as the diary CSV, the questionnaires
CSV or a FHIR R4 Bundle; audited."""

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
    parser = commands.add_parser("export", help="write diaries as the diary CSV or a FHIR R4 Bundle (audited)")
    parser.add_argument(
        "--format",
        choices=["csv", "questionnaires", "fhir"],
        required=True,
        help="csv: the diary CSV; questionnaires: the questionnaires CSV; fhir: everything as a FHIR R4 Bundle",
    )
    parser.add_argument("--patient", help="one patient's code (default: every patient)")
    parser.add_argument("--out", type=Path, required=True, help="the file to write")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    from bot.diary.questionnaire import Questionnaires
    from bot.diary.scheduler import UnknownPatient
    from bot.records.export import Export
    from storage.database import create_private_file

    async def work(database: Database) -> str:
        now = utc_now()
        try:
            export = await Export.open(
                database, code=args.patient, actor_id=None, what=f"{args.format} (command line)", now=now
            )
        except UnknownPatient:
            fail(f"there is no patient with the code {args.patient}")
        # Written beside the target and renamed when complete: a reader never sees half a file.
        partial = args.out.with_name(args.out.name + ".partial")
        try:
            create_private_file(partial)  # 0600 whatever the umask: the export is health data
            with partial.open("w", encoding="utf-8", newline="") as handle:
                if args.format == "csv":
                    count = await export.write_csv(handle)
                elif args.format == "questionnaires":
                    count = await export.write_questionnaires(handle, Questionnaires.load())
                else:
                    count = await export.write_fhir(handle, Questionnaires.load(), now=now)
            partial.replace(args.out)
        except OSError as error:
            partial.unlink(missing_ok=True)
            fail(f"{args.out}: cannot write ({error.strerror})")
        return f"exported {count} check-ins of {len(export.patients)} patients to {args.out}"

    print(on_database(settings, work))
