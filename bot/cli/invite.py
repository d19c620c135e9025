"""`python -m bot invite`: a one-time enrolment link for a patient, or links for a whole file of them
(`--csv patients.csv --out links.csv`: every row checked before any invite is made, then all in one
transaction)."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from bot.cli.common import bot_username, fail, on_database, utc_now

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings
    from storage.database import Database


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("invite", help="create a one-time enrolment link for a patient (or a file of them)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--code", help="the clinic's pseudonymous patient code, e.g. P-0012")
    which.add_argument(
        "--csv", type=Path, help="invite every patient of this file: code,zone,language[,times][,country] per row"
    )
    parser.add_argument("--tz", help="IANA time zone, e.g. Europe/Berlin (default: DEFAULT_TIMEZONE)")
    parser.add_argument("--lang", help="language code, e.g. en or es (default: DEFAULT_LANGUAGE)")
    parser.add_argument("--times", help="local check-in times, e.g. 09:00,20:00 (default: the clinic's)")
    parser.add_argument(
        "--country", help="two-letter country code for the crisis text, e.g. DE (default: the time zone's country)"
    )
    parser.add_argument(
        "--relink",
        action="store_true",
        help="for an enrolled or discharged patient: whoever opens the link becomes their account (audited)",
    )
    parser.add_argument("--out", type=Path, help="with --csv: the file the links are written to (code,link,expires)")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    if args.csv is None:
        if args.out is not None:
            fail("--out goes with --csv; one invite's link is printed")
        invite_one(settings, args)
        return
    flags = {"--tz": args.tz, "--lang": args.lang, "--times": args.times, "--country": args.country}
    given = [flag for flag, value in (flags | {"--relink": args.relink}).items() if value]
    if given:
        fail(f"{', '.join(given)}: with --csv each row gives its own (--relink: one patient at a time, with --code)")
    if args.out is None:
        fail("--csv needs --out, the file to write the links to")
    invite_file(settings, args.csv, args.out)


def invite_one(settings: Settings, args: argparse.Namespace) -> None:
    from bot.config import catalog_languages
    from bot.diary import enrolment
    from bot.diary.places import parse_country
    from bot.diary.schedule_rules import parse_zone

    try:
        code = enrolment.check_code(args.code, code_format=settings.patient_code_format)
        zone = parse_zone(args.tz) if args.tz else None
        times = enrolment.check_times(args.times or "")
        country = parse_country(args.country) if args.country else None
    except ValueError as error:
        fail(str(error))
    if args.lang is not None and args.lang not in catalog_languages():
        fail(f"--lang {args.lang!r}: no catalog prompts/messages/{args.lang}.yaml")

    async def work(database: Database) -> str:
        username = await bot_username(settings)  # first: a link that cannot be printed is not made
        # A re-link (a new phone) keeps the patient's own zone, language and country unless given here.
        own = await enrolment.own_settings(database, code=code) if args.relink else None
        timezone = zone or (own.timezone if own else settings.default_timezone)
        language = args.lang or (own.language if own else settings.default_language)
        keep_country = own.country if own and zone is None else None
        try:
            token = await enrolment.create_invite(
                database,
                code=code,
                timezone=timezone,
                language=language,
                checkin_times=times,
                now=utc_now(),
                valid_for=timedelta(days=settings.invite_valid_days),
                country=country or keep_country,
                relink=args.relink,
            )
        except enrolment.AlreadyEnrolled:
            fail(f"{code} is already enrolled; for a new phone or a readmission, add --relink")
        return enrolment.deep_link(username, token)

    print(on_database(settings, work))


def invite_file(settings: Settings, source: Path, out: Path) -> None:
    from bot.config import catalog_languages
    from bot.diary import enrolment
    from bot.records import invites_csv
    from storage import patients

    try:
        wanted, problems = invites_csv.read_invites(
            source,
            code_format=settings.patient_code_format,
            default_timezone=settings.default_timezone,
            default_language=settings.default_language,
            languages=catalog_languages(),
        )
    except invites_csv.CsvError as error:
        fail(f"{error}; nothing was created")
    rows = {new.code: number for number, new in wanted}
    now = utc_now()
    valid_for = timedelta(days=settings.invite_valid_days)
    # Written beside the target and renamed once the invites are stored: a reader never sees half a file.
    partial = out.with_name(out.name + ".partial")

    def refuse(taken: list[tuple[str, str]]) -> NoReturn:
        """Every bad row, in the file's order, so that one pass over the file mends it."""
        named = problems + [(rows[code], f"{code} is in the diary already ({status})") for code, status in taken]
        lines = [f"{source}, row {number}: {problem}" for number, problem in sorted(named)]
        fail("\n".join([*lines, "nothing was created (a new link for one patient: invite --code CODE)"]))

    async def work(database: Database) -> int:
        if problems:  # the codes the database refuses are named with them
            async with database.session() as session:
                found = await patients.statuses(session=session, codes=list(rows))
            refuse([(code, found[code]) for code in rows if code in found])
        username = await bot_username(settings)  # first: links that cannot be written are not made

        def keep(made: list[tuple[enrolment.NewInvite, str]]) -> None:
            links = [(new.code, enrolment.deep_link(username, token)) for new, token in made]
            invites_csv.write_links(partial, links, expires=now + valid_for)

        try:
            made = await enrolment.create_invites(
                database, [new for _, new in wanted], now=now, valid_for=valid_for, keep=keep
            )
        except enrolment.CodesTaken as taken:
            refuse(taken.statuses)
        except OSError as error:
            partial.unlink(missing_ok=True)
            fail(f"{out}: cannot write ({error.strerror}); nothing was created")
        try:
            partial.replace(out)
        except OSError as error:  # the links are in the .partial file beside it
            fail(f"{out}: cannot rename {partial.name} to it ({error.strerror}); the links are in {partial}")
        return len(made)

    count = on_database(settings, work)
    # The file's mode is said because the links are secrets: whoever opens one first is enrolled.
    print(f"wrote {count} invite links to {out}, readable by you only (0600): send each to its patient only")
