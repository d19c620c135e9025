"""`python -m bot report`: one patient's visit report as a PDF (audited), as staff get it with /report."""

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
    parser = commands.add_parser("report", help="one patient's visit report as a PDF of one or two pages (audited)")
    parser.add_argument("code", help="the patient's clinic code, e.g. P-0012")
    parser.add_argument("--days", type=int, default=90, help="the period, counted back from now (default: 90)")
    parser.add_argument("--out", type=Path, required=True, help="the PDF file to write")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    from bot.diary.scheduler import UnknownPatient
    from bot.records import report

    try:
        days = report.check_days(args.days)
    except report.BadDays as error:
        fail(f"--days: {error}")

    async def work(database: Database) -> str:
        try:
            made = await report.to_file(database, settings, code=args.code, days=days, out=args.out, now=utc_now())
        except UnknownPatient:
            fail(f"there is no patient with the code {args.code}")
        except OSError as error:
            fail(f"{args.out}: cannot write ({error.strerror})")
        return f"wrote the {days}-day report of {args.code} ({made.pages} pages) to {args.out}"

    print(on_database(settings, work))
