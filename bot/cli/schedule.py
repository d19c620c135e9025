"""`python -m bot schedule`: the same words as the admins' /schedule: set with times, days and zone;
show with the code alone."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import default_text, fail, on_database, utc_now

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings
    from storage.database import Database


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("schedule", help="set or show a patient's check-in schedule")
    parser.add_argument("code", help="the patient's code, e.g. P-0012")
    parser.add_argument("times", nargs="?", help="local times, e.g. 09:00,20:00")
    parser.add_argument("days", nargs="?", help="days, e.g. mon-sun, mon-fri or mon,wed,fri")
    parser.add_argument("tz", nargs="?", help="IANA time zone, e.g. Europe/Berlin")
    parser.add_argument("quiet", nargs="?", help="the patient's quiet hours, e.g. 22:00-07:00 (default: the clinic's)")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    from bot.diary.questionnaire import Questionnaire
    from bot.diary.schedule_rules import ScheduleError, format_quiet_hours, parse_quiet_hours, parse_rule
    from bot.diary.scheduler import Scheduler, UnknownPatient
    from bot.views.schedule import describe

    words = [args.times, args.days, args.tz]
    if any(words) and not all(words):
        fail("give times, days and time zone together, e.g. P-0012 09:00,20:00 mon-sun Europe/Berlin")
    try:
        rule = parse_rule(*words) if all(words) else None
        quiet = format_quiet_hours(parse_quiet_hours(args.quiet)) if args.quiet else None  # "22-07" too
    except ScheduleError as error:
        fail(str(error))
    text = default_text(settings)

    async def work(database: Database) -> str:
        scheduler = Scheduler.for_settings(database, settings, Questionnaire.load("daily"))
        try:
            if rule is not None:
                slots = await scheduler.set_schedule(
                    code=args.code, rule=rule, now=utc_now(), actor_id=None, quiet_hours=quiet
                )
                return describe(text, args.code, rule, quiet, slots, settings.quiet_hours)
            found = await scheduler.show(code=args.code, now=utc_now())
        except UnknownPatient:
            fail(f"there is no patient with the code {args.code}")
        if found is None:
            return text("admin.schedule_none", code=args.code)
        return describe(text, args.code, *found, settings.quiet_hours)

    print(on_database(settings, work))
