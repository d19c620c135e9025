"""`python -m bot questionnaires`: the same words as the admins' /questionnaires: show a patient's
cadences, or set them (audited)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import default_text, fail, on_database, utc_now

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings
    from storage.database import Database


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("questionnaires", help="show or set how often a patient is offered each questionnaire")
    parser.add_argument("code", help="the patient's clinic code, e.g. P-0012")
    parser.add_argument("cadences", nargs="*", help="e.g. phq2=14d interference=7d crps=off (clinic: the clinic's)")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    from bot.diary import cadences
    from bot.diary.questionnaire import Questionnaires
    from bot.diary.schedule_rules import InputError
    from bot.diary.scheduler import UnknownPatient
    from bot.views.schedule import cadence_lines

    questionnaires = Questionnaires.load()
    try:
        chosen = cadences.parse(args.cadences, questionnaires) if args.cadences else None
    except InputError as error:
        fail(str(error))
    text = default_text(settings)

    async def work(database: Database) -> str:
        try:
            if chosen is None:
                own = await cadences.show(database, code=args.code)
            else:
                own = await cadences.set_cadences(database, code=args.code, chosen=chosen, actor_id=None, now=utc_now())
        except UnknownPatient:
            fail(f"there is no patient with the code {args.code}")
        lines = cadences.describe(settings.instrument_cadences, own, questionnaires)
        return text("admin.questionnaires", code=args.code, lines=cadence_lines(text, lines))

    print(on_database(settings, work))
