"""Command line: python -m bot run | demo | invite | schedule | staff | import | replay."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

import uvloop

from bot.config import ConfigurationError, Settings, load_settings
from bot.runner import quiet_library_loggers


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        quiet_library_loggers()


def command_run(settings: Settings) -> None:
    from bot.runner import serve

    if not settings.telegram_bot_token:
        _fail("TELEGRAM_BOT_TOKEN is not set (without a token, try: python -m bot demo)")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, stop=stop)

    # uvloop's event loop serves the same coroutines with noticeably less CPU per update.
    uvloop.run(main())


def command_demo() -> None:
    from bot.demo import run_demo

    asyncio.run(run_demo())


def command_invite(settings: Settings, args: argparse.Namespace) -> None:
    from bot.app import utc_now
    from bot.diary import enrolment
    from bot.diary.schedule import parse_zone
    from storage import migrate
    from storage.database import Database

    try:
        code = enrolment.check_code(args.code)
        timezone = parse_zone(args.tz or settings.default_timezone)
        times = enrolment.check_times(args.times or "")
    except ValueError as error:
        _fail(str(error))
    language = args.lang or settings.default_language
    from bot.prompts import Catalog

    if language not in Catalog.load(settings.default_language).languages:
        _fail(f"--lang {language!r}: no catalog prompts/messages/{language}.yaml")

    async def main() -> str:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            token = await enrolment.create_invite(
                database,
                code=code,
                timezone=timezone,
                language=language,
                checkin_times=times,
                now=utc_now(),
                valid_for=timedelta(days=settings.invite_valid_days),
            )
        finally:
            await database.dispose()
        return enrolment.deep_link(await _bot_username(settings), token)

    print(asyncio.run(main()))


async def _bot_username(settings: Settings) -> str:
    if settings.telegram_bot_username:
        return settings.telegram_bot_username
    if not settings.telegram_bot_token:
        _fail("set TELEGRAM_BOT_USERNAME (or TELEGRAM_BOT_TOKEN) so that the link can name the bot")
    from telegram import Bot

    async with Bot(settings.telegram_bot_token or "", base_url=settings.bot_api_url) as bot:
        return bot.username


def command_schedule(settings: Settings, args: argparse.Namespace) -> None:
    """The same words as the admins' /schedule: set with times, days and zone; show with the code alone."""
    from functools import partial

    from bot.app import utc_now
    from bot.diary.questionnaire import Questionnaire
    from bot.diary.schedule import ScheduleError, parse_quiet_hours, parse_rule
    from bot.diary.scheduling import Scheduler, UnknownPatient
    from bot.handlers.admin import describe
    from bot.prompts import Catalog
    from storage import migrate
    from storage.database import Database

    words = [args.times, args.days, args.tz]
    if any(words) and not all(words):
        _fail("give times, days and time zone together, e.g. P-0012 09:00,20:00 mon-sun Europe/Berlin")
    try:
        rule = parse_rule(*words) if all(words) else None
        if args.quiet:
            parse_quiet_hours(args.quiet)
    except ScheduleError as error:
        _fail(str(error))
    text = partial(Catalog.load(settings.default_language).text, settings.default_language)

    async def main() -> str:
        database = Database(settings.database_url)
        scheduler = Scheduler.for_settings(database, settings, Questionnaire.load("daily"))
        try:
            await migrate.upgrade(database)
            if rule is not None:
                slots = await scheduler.set_schedule(code=args.code, rule=rule, now=utc_now(), quiet_hours=args.quiet)
                return describe(text, args.code, rule, args.quiet, slots, settings.quiet_hours)
            found = await scheduler.show(code=args.code, now=utc_now())
            if found is None:
                return text("admin.schedule_none", code=args.code)
            return describe(text, args.code, *found, settings.quiet_hours)
        except UnknownPatient:
            _fail(f"there is no patient with the code {args.code}")
        finally:
            await database.dispose()

    print(asyncio.run(main()))


def command_staff(settings: Settings, args: argparse.Namespace) -> None:
    """Register someone as staff (may act on alerts) or admin; the Telegram commands for this come later."""
    from bot.app import utc_now
    from storage import migrate, staff
    from storage.database import Database

    async def main() -> None:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            async with database.session() as session:
                await staff.add(session=session, telegram_user_id=args.telegram_id, role=args.role, now=utc_now())
        finally:
            await database.dispose()

    asyncio.run(main())
    print(f"{args.telegram_id} is {args.role}")


def command_import(settings: Settings, args: argparse.Namespace) -> None:
    from bot.app import utc_now
    from bot.records.diary_csv import CsvError
    from bot.records.importer import import_files
    from storage import migrate
    from storage.database import Database

    async def main() -> str:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            done = await import_files(
                database,
                args.diary,
                infusions_file=args.infusions,
                now=utc_now(),
                language=settings.default_language,
                timezone=settings.default_timezone,
            )
        finally:
            await database.dispose()
        return (
            f"imported {done.checkins} check-ins and {done.infusions} infusions for {done.patients} patients "
            f"({done.new_patients} new)"
        )

    try:
        print(asyncio.run(main()))
    except CsvError as error:
        _fail(f"{error} (nothing was imported)")


def command_replay(settings: Settings, args: argparse.Namespace) -> None:
    from bot.alerts.rules import RulesError, load_rules
    from bot.records import replay
    from bot.records.diary_csv import CsvError

    try:
        rules = load_rules(args.rules) if args.rules else load_rules(settings.rules_file)
        report = replay.run(args.diary, infusions=args.infusions, rules=rules, out=args.out)
    except (CsvError, RulesError) as error:
        _fail(str(error))
    print("\n".join(report.lines()))
    print(f"alerts written to {args.out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="CRPS symptom diary bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling)")
    run.add_argument("--verbose", action="store_true", help="log at DEBUG (may include update details)")
    commands.add_parser("demo", help="run the real bot against the loopback stand-in, no token needed")
    invite = commands.add_parser("invite", help="create a one-time enrolment link for a patient")
    invite.add_argument("--code", required=True, help="the clinic's pseudonymous patient code, e.g. P-0012")
    invite.add_argument("--tz", help="IANA time zone, e.g. Europe/Berlin (default: DEFAULT_TIMEZONE)")
    invite.add_argument("--lang", help="language code, e.g. en or es (default: DEFAULT_LANGUAGE)")
    invite.add_argument("--times", help="local check-in times, e.g. 09:00,20:00 (default: the clinic's)")
    schedule = commands.add_parser("schedule", help="set or show a patient's check-in schedule")
    schedule.add_argument("code", help="the patient's code, e.g. P-0012")
    schedule.add_argument("times", nargs="?", help="local times, e.g. 09:00,20:00")
    schedule.add_argument("days", nargs="?", help="days, e.g. mon-sun, mon-fri or mon,wed,fri")
    schedule.add_argument("tz", nargs="?", help="IANA time zone, e.g. Europe/Berlin")
    schedule.add_argument(
        "quiet", nargs="?", help="the patient's quiet hours, e.g. 22:00-07:00 (default: the clinic's)"
    )
    member = commands.add_parser("staff", help="register a Telegram user as staff or admin")
    member.add_argument("action", choices=["add"])
    member.add_argument("telegram_id", type=int, help="their numeric Telegram user id")
    member.add_argument("role", choices=["staff", "admin"])
    load = commands.add_parser("import", help="load diary history (and infusions) from CSV files")
    load.add_argument("diary", type=Path, help="diary CSV: patient,recorded_at,pain,skin_color,...")
    load.add_argument("--infusions", type=Path, help="infusions CSV: patient,date,kind")
    again = commands.add_parser("replay", help="replay diary history through the alert rules, no bot")
    again.add_argument("diary", type=Path, help="diary CSV, as for import")
    again.add_argument("--infusions", type=Path, help="infusions CSV: patient,date,kind")
    again.add_argument("--rules", type=Path, help="a rules file to try (default: RULES_FILE)")
    again.add_argument("--out", type=Path, required=True, help="where to write the alerts CSV")
    args = parser.parse_args(argv)

    if args.command == "demo":
        _configure_logging()
        logging.getLogger().setLevel(logging.WARNING)
        command_demo()
        return
    try:
        settings = load_settings()
    except ConfigurationError as error:
        _fail(f"configuration: {error}")
    _configure_logging(getattr(args, "verbose", False))
    if args.command == "run":
        command_run(settings)
    elif args.command == "invite":
        command_invite(settings, args)
    elif args.command == "schedule":
        command_schedule(settings, args)
    elif args.command == "staff":
        command_staff(settings, args)
    elif args.command == "import":
        command_import(settings, args)
    elif args.command == "replay":
        command_replay(settings, args)


if __name__ == "__main__":
    main()
