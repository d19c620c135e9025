"""`python -m bot replay`: diary history through the alert rules, without the bot or its database."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import fail

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("replay", help="replay diary history through the alert rules, no bot")
    parser.add_argument("diary", type=Path, help="diary CSV, as for import")
    parser.add_argument("--infusions", type=Path, help="infusions CSV: patient,date,kind")
    parser.add_argument("--questionnaires", type=Path, help="questionnaires CSV (PHQ-9 scores for low_mood)")
    parser.add_argument("--rules", type=Path, help="a rules file to try (default: RULES_FILE)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the alerts CSV")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    from bot.alerts.rules import RulesError, load_rules
    from bot.records import replay
    from bot.records.diary_csv import CsvError

    try:
        rules = load_rules(args.rules) if args.rules else load_rules(settings.rules_file)
        report = replay.run(
            args.diary, infusions=args.infusions, rules=rules, out=args.out, questionnaires=args.questionnaires
        )
    except (CsvError, RulesError) as error:
        fail(str(error))
    print("\n".join(report.lines()))
    print(f"alerts written to {args.out}")
