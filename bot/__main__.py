"""Command line: python -m bot run | console | demo | invite | schedule | questionnaires | staff | import | replay |
export | report | audit | backup."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn, TypeVar

import uvloop

from bot.config import ConfigurationError, Settings, load_settings
from bot.runner import quiet_library_loggers
from storage.database import Database

T = TypeVar("T")


TOKEN_REFUSED = "TELEGRAM_BOT_TOKEN: Telegram refused the token (revoked, or mistyped): copy it again from @BotFather"


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


def _on_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the migrated database, then close it."""
    from storage import migrate

    async def main() -> T:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(main())


def command_run(settings: Settings, webhook: bool) -> None:
    from bot.diary.places import PlacesError, place_table
    from bot.runner import serve

    try:
        place_table()  # a broken city file stops the bot now, as a broken rules file does
    except PlacesError as error:
        _fail(str(error))

    if not settings.telegram_bot_token:
        _fail("TELEGRAM_BOT_TOKEN is not set (without a token, try: python -m bot demo)")
    if webhook and not (settings.webhook_url and settings.webhook_secret):
        _fail("run --webhook needs WEBHOOK_URL and WEBHOOK_SECRET (see .env.example)")
    if settings.console_listen and not settings.console_url:
        _fail("CONSOLE_LISTEN needs CONSOLE_URL, the address staff open (see .env.example)")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, stop=stop, webhook=webhook)

    from telegram.error import InvalidToken

    # uvloop's event loop serves the same coroutines with noticeably less CPU per update.
    try:
        uvloop.run(main())
    except InvalidToken:
        _fail(TOKEN_REFUSED)  # the library's message would print the token itself


def command_console(settings: Settings) -> None:
    """The web console alone, on the bot's database; the bot (`run`) sends the card updates it queues."""
    from bot.app import utc_now
    from bot.console.app import Console
    from storage import migrate

    if settings.console_address is None or settings.console_url is None:
        _fail("console needs CONSOLE_LISTEN (host:port) and CONSOLE_URL (the address staff open); see .env.example")
    host, port = settings.console_address

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        database = Database(settings.database_url)
        console = Console.for_settings(database, settings, clock=utc_now)
        try:
            await migrate.upgrade(database)
            await console.start(host, port)
            await stop.wait()
        finally:
            await console.stop()
            await database.dispose()

    uvloop.run(main())


def command_demo(keep: bool) -> None:
    from bot.demo import run_demo

    asyncio.run(run_demo(keep=keep))


def command_invite(settings: Settings, args: argparse.Namespace) -> None:
    from bot.app import utc_now
    from bot.diary import enrolment
    from bot.diary.places import parse_country
    from bot.diary.schedule import parse_zone

    try:
        code = enrolment.check_code(args.code, code_format=settings.patient_code_format)
        timezone = parse_zone(args.tz or settings.default_timezone)
        times = enrolment.check_times(args.times or "")
        country = parse_country(args.country) if args.country else None
    except ValueError as error:
        _fail(str(error))
    language = args.lang or settings.default_language
    from bot.prompts import Catalog

    if language not in Catalog.load(settings.default_language).languages:
        _fail(f"--lang {language!r}: no catalog prompts/messages/{language}.yaml")

    async def work(database: Database) -> str:
        username = await _bot_username(settings)  # first: a link that cannot be printed is not made
        try:
            token = await enrolment.create_invite(
                database,
                code=code,
                timezone=timezone,
                language=language,
                checkin_times=times,
                now=utc_now(),
                valid_for=timedelta(days=settings.invite_valid_days),
                country=country,
                relink=args.relink,
            )
        except enrolment.AlreadyEnrolled:
            _fail(f"{code} is already enrolled; for a new phone or a readmission, add --relink")
        return enrolment.deep_link(username, token)

    print(_on_database(settings, work))


async def _bot_username(settings: Settings) -> str:
    if settings.telegram_bot_username:
        return settings.telegram_bot_username
    if not settings.telegram_bot_token:
        _fail("set TELEGRAM_BOT_USERNAME (or TELEGRAM_BOT_TOKEN) so that the link can name the bot")
    from telegram import Bot
    from telegram.error import InvalidToken

    try:
        async with Bot(settings.token, base_url=settings.bot_api_url) as bot:
            return bot.username
    except InvalidToken:
        _fail(TOKEN_REFUSED)  # the library's message would print the token itself


def command_schedule(settings: Settings, args: argparse.Namespace) -> None:
    """The same words as the admins' /schedule: set with times, days and zone; show with the code alone."""
    from functools import partial

    from bot.app import utc_now
    from bot.diary.questionnaire import Questionnaire
    from bot.diary.schedule import ScheduleError, format_quiet_hours, parse_quiet_hours, parse_rule
    from bot.diary.scheduling import Scheduler, UnknownPatient
    from bot.handlers.admin import describe
    from bot.prompts import Catalog

    words = [args.times, args.days, args.tz]
    if any(words) and not all(words):
        _fail("give times, days and time zone together, e.g. P-0012 09:00,20:00 mon-sun Europe/Berlin")
    try:
        rule = parse_rule(*words) if all(words) else None
        quiet = format_quiet_hours(parse_quiet_hours(args.quiet)) if args.quiet else None  # "22-07" too
    except ScheduleError as error:
        _fail(str(error))
    text = partial(Catalog.load(settings.default_language).text, settings.default_language)

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
            _fail(f"there is no patient with the code {args.code}")
        if found is None:
            return text("admin.schedule_none", code=args.code)
        return describe(text, args.code, *found, settings.quiet_hours)

    print(_on_database(settings, work))


def command_questionnaires(settings: Settings, args: argparse.Namespace) -> None:
    """The same words as the admins' /questionnaires: show a patient's cadences, or set them (audited)."""
    from functools import partial

    from bot.app import utc_now
    from bot.diary import cadences
    from bot.diary.questionnaire import Questionnaires
    from bot.diary.schedule import InputError
    from bot.diary.scheduling import UnknownPatient
    from bot.handlers.admin import cadence_lines
    from bot.prompts import Catalog

    questionnaires = Questionnaires.load()
    try:
        chosen = cadences.parse(args.cadences, questionnaires) if args.cadences else None
    except InputError as error:
        _fail(str(error))
    text = partial(Catalog.load(settings.default_language).text, settings.default_language)

    async def work(database: Database) -> str:
        try:
            if chosen is None:
                own = await cadences.show(database, code=args.code)
            else:
                own = await cadences.set_cadences(database, code=args.code, chosen=chosen, actor_id=None, now=utc_now())
        except UnknownPatient:
            _fail(f"there is no patient with the code {args.code}")
        lines = cadences.describe(settings.instrument_cadences, own, questionnaires)
        return text("admin.questionnaires", code=args.code, lines=cadence_lines(text, lines))

    print(_on_database(settings, work))


def command_staff(settings: Settings, args: argparse.Namespace) -> None:
    """The same as an admin's /staff: list, add someone as staff or admin, remove them."""
    from bot import team
    from bot.access import Role
    from bot.app import utc_now

    async def work(database: Database) -> str:
        if args.action == "list":
            members = await team.members(database)
            return "\n".join(f"{m.telegram_user_id}\t{m.role}\t{m.name}" for m in members) or "no staff yet"
        if args.telegram_id is None:
            _fail(f"staff {args.action} needs a Telegram user id")
        try:
            if args.action == "add":
                if args.role is None:
                    _fail("staff add needs a role: staff or admin")
                await team.add(
                    database, telegram_user_id=args.telegram_id, role=Role(args.role), actor_id=None, now=utc_now()
                )
                return f"{args.telegram_id} is {args.role}"
            if await team.remove(database, telegram_user_id=args.telegram_id, actor_id=None, now=utc_now()):
                return f"{args.telegram_id} is no longer staff"
            return f"{args.telegram_id} is not staff"
        except team.LastAdmin:
            _fail("the last admin cannot be removed or demoted")
        except ValueError as error:
            _fail(str(error))

    print(_on_database(settings, work))


def command_import(settings: Settings, args: argparse.Namespace) -> None:
    from bot.app import utc_now
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
        print(_on_database(settings, work))
    except CsvError as error:
        _fail(f"{error} (nothing was imported)")


def command_replay(settings: Settings, args: argparse.Namespace) -> None:
    from bot.alerts.rules import RulesError, load_rules
    from bot.records import replay
    from bot.records.diary_csv import CsvError

    try:
        rules = load_rules(args.rules) if args.rules else load_rules(settings.rules_file)
        report = replay.run(
            args.diary, infusions=args.infusions, rules=rules, out=args.out, questionnaires=args.questionnaires
        )
    except (CsvError, RulesError) as error:
        _fail(str(error))
    print("\n".join(report.lines()))
    print(f"alerts written to {args.out}")


def command_export(settings: Settings, args: argparse.Namespace) -> None:
    """Every patient's (or one patient's) diary as the diary CSV or a FHIR R4 Bundle; audited."""
    from bot.app import utc_now
    from bot.diary.questionnaire import Questionnaires
    from bot.diary.scheduling import UnknownPatient
    from bot.records.export import Export
    from storage.database import create_private_file

    async def work(database: Database) -> str:
        now = utc_now()
        try:
            export = await Export.open(
                database, code=args.patient, actor_id=None, what=f"{args.format} (command line)", now=now
            )
        except UnknownPatient:
            _fail(f"there is no patient with the code {args.patient}")
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
            _fail(f"{args.out}: cannot write ({error.strerror})")
        return f"exported {count} check-ins of {len(export.patients)} patients to {args.out}"

    print(_on_database(settings, work))


def command_report(settings: Settings, args: argparse.Namespace) -> None:
    """One patient's visit report as a PDF (audited), as staff get it with /report."""
    from bot.records import report

    try:
        days = report.check_days(args.days)
    except report.BadDays as error:
        _fail(f"--days: {error}")

    async def work(database: Database) -> str:
        from bot.app import utc_now
        from bot.diary.scheduling import UnknownPatient

        try:
            made = await report.to_file(database, settings, code=args.code, days=days, out=args.out, now=utc_now())
        except UnknownPatient:
            _fail(f"there is no patient with the code {args.code}")
        except OSError as error:
            _fail(f"{args.out}: cannot write ({error.strerror})")
        return f"wrote the {days}-day report of {args.code} ({made.pages} pages) to {args.out}"

    print(_on_database(settings, work))


def command_audit(settings: Settings, args: argparse.Namespace) -> None:
    """The audit log, oldest first: when, who (Telegram id and name), what, which patient."""
    from storage import audit, staff

    try:
        since = datetime.fromisoformat(args.since) if args.since else None
    except ValueError:
        _fail(f"--since {args.since!r}: write a date such as 2026-11-01 (or 2026-11-01T08:00+01:00)")
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)

    async def work(database: Database) -> list[str]:
        async with database.session() as session:
            events = await audit.since(session=session, start=since)
            people = {e.actor_id for e in events if e.actor_id is not None}
            names = await staff.names(session=session, telegram_user_ids=sorted(people))
        lines = []
        for e in events:
            who = "command line" if e.actor_id is None else f"{e.actor_id} {names.get(e.actor_id, '')}".strip()
            if e.action == "erasure":
                who = "patient"
            lines.append(
                f"{e.at.isoformat(timespec='seconds')}\t{who}\t{e.action}\t{e.patient_code or '-'}\t{e.detail}"
            )
        return lines

    lines = _on_database(settings, work)
    print("\n".join(["when\twho\taction\tpatient\tdetail", *lines]))


def command_backup(settings: Settings, args: argparse.Namespace) -> None:
    from storage import backup

    try:
        backup.sqlite_copy(settings.database_url, args.file)
    except backup.BackupError as error:
        _fail(str(error))
    print(f"backed up to {args.file}")


def main(argv: list[str] | None = None) -> None:
    import os

    # Everything this process writes (the database, exports, backups, the demo's files, whatever a
    # library writes) is for its owner only, whatever umask the shell or service manager gave it.
    os.umask(0o077)
    parser = argparse.ArgumentParser(prog="python -m bot", description="CRPS symptom diary bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling)")
    run.add_argument("--verbose", action="store_true", help="log at DEBUG (may include update details)")
    run.add_argument("--webhook", action="store_true", help="receive updates at WEBHOOK_URL instead of polling")
    commands.add_parser("console", help="serve the clinicians' web console alone (CONSOLE_LISTEN, CONSOLE_URL)")
    demo = commands.add_parser("demo", help="run the real bot against the loopback stand-in, no token needed")
    demo.add_argument(
        "--keep", action="store_true", help="keep the bot, the stand-in and the web console running until Ctrl-C"
    )
    invite = commands.add_parser("invite", help="create a one-time enrolment link for a patient")
    invite.add_argument("--code", required=True, help="the clinic's pseudonymous patient code, e.g. P-0012")
    invite.add_argument("--tz", help="IANA time zone, e.g. Europe/Berlin (default: DEFAULT_TIMEZONE)")
    invite.add_argument("--lang", help="language code, e.g. en or es (default: DEFAULT_LANGUAGE)")
    invite.add_argument("--times", help="local check-in times, e.g. 09:00,20:00 (default: the clinic's)")
    invite.add_argument(
        "--country", help="two-letter country code for the crisis text, e.g. DE (default: the time zone's country)"
    )
    invite.add_argument(
        "--relink",
        action="store_true",
        help="for an enrolled or discharged patient: whoever opens the link becomes their account (audited)",
    )
    schedule = commands.add_parser("schedule", help="set or show a patient's check-in schedule")
    schedule.add_argument("code", help="the patient's code, e.g. P-0012")
    schedule.add_argument("times", nargs="?", help="local times, e.g. 09:00,20:00")
    schedule.add_argument("days", nargs="?", help="days, e.g. mon-sun, mon-fri or mon,wed,fri")
    schedule.add_argument("tz", nargs="?", help="IANA time zone, e.g. Europe/Berlin")
    schedule.add_argument(
        "quiet", nargs="?", help="the patient's quiet hours, e.g. 22:00-07:00 (default: the clinic's)"
    )
    cadence = commands.add_parser(
        "questionnaires", help="show or set how often a patient is offered each questionnaire"
    )
    cadence.add_argument("code", help="the patient's clinic code, e.g. P-0012")
    cadence.add_argument("cadences", nargs="*", help="e.g. phq2=14d interference=7d crps=off (clinic: the clinic's)")
    member = commands.add_parser("staff", help="list, add or remove staff and admins")
    member.add_argument("action", choices=["list", "add", "remove"])
    member.add_argument("telegram_id", type=int, nargs="?", help="their numeric Telegram user id")
    member.add_argument("role", choices=["staff", "admin"], nargs="?")
    load = commands.add_parser("import", help="load diary history (and infusions) from CSV files")
    load.add_argument("diary", type=Path, help="diary CSV: patient,recorded_at,pain,skin_color,...")
    load.add_argument("--infusions", type=Path, help="infusions CSV: patient,date,kind")
    again = commands.add_parser("replay", help="replay diary history through the alert rules, no bot")
    again.add_argument("diary", type=Path, help="diary CSV, as for import")
    again.add_argument("--infusions", type=Path, help="infusions CSV: patient,date,kind")
    again.add_argument("--questionnaires", type=Path, help="questionnaires CSV (PHQ-9 scores for low_mood)")
    again.add_argument("--rules", type=Path, help="a rules file to try (default: RULES_FILE)")
    again.add_argument("--out", type=Path, required=True, help="where to write the alerts CSV")
    out = commands.add_parser("export", help="write diaries as the diary CSV or a FHIR R4 Bundle (audited)")
    out.add_argument(
        "--format",
        choices=["csv", "questionnaires", "fhir"],
        required=True,
        help="csv: the diary CSV; questionnaires: the questionnaires CSV; fhir: everything as a FHIR R4 Bundle",
    )
    out.add_argument("--patient", help="one patient's code (default: every patient)")
    out.add_argument("--out", type=Path, required=True, help="the file to write")
    visit = commands.add_parser("report", help="one patient's visit report as a PDF of one or two pages (audited)")
    visit.add_argument("code", help="the patient's clinic code, e.g. P-0012")
    visit.add_argument("--days", type=int, default=90, help="the period, counted back from now (default: 90)")
    visit.add_argument("--out", type=Path, required=True, help="the PDF file to write")
    log = commands.add_parser("audit", help="print the audit log: reads, exports, changes, invites, alert actions")
    log.add_argument("--since", help="from this date or time, e.g. 2026-11-01")
    copy = commands.add_parser("backup", help="a consistent copy of the SQLite database, safe while the bot runs")
    copy.add_argument("file", type=Path, help="where to write the copy")
    args = parser.parse_args(argv)

    if args.command == "demo":
        _configure_logging()
        logging.getLogger().setLevel(logging.WARNING)
        command_demo(args.keep)
        return
    try:
        settings = load_settings()
    except ConfigurationError as error:
        _fail(f"configuration: {error}")
    _configure_logging(getattr(args, "verbose", False))
    if args.command == "run":
        command_run(settings, args.webhook)
    elif args.command == "console":
        command_console(settings)
    elif args.command == "invite":
        command_invite(settings, args)
    elif args.command == "schedule":
        command_schedule(settings, args)
    elif args.command == "staff":
        command_staff(settings, args)
    elif args.command == "import":
        command_import(settings, args)
    elif args.command == "questionnaires":
        command_questionnaires(settings, args)
    elif args.command == "replay":
        command_replay(settings, args)
    elif args.command == "export":
        command_export(settings, args)
    elif args.command == "report":
        command_report(settings, args)
    elif args.command == "audit":
        command_audit(settings, args)
    elif args.command == "backup":
        command_backup(settings, args)


if __name__ == "__main__":
    main()
