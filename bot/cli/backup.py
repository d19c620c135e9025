"""`python -m bot backup`: a consistent copy of the SQLite database, safe while the bot runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import fail

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("backup", help="a consistent copy of the SQLite database, safe while the bot runs")
    parser.add_argument("file", type=Path, help="where to write the copy")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    from storage import backup

    try:
        backup.sqlite_copy(settings.database_url, args.file)
    except backup.BackupError as error:
        fail(str(error))
    print(f"backed up to {args.file}")
