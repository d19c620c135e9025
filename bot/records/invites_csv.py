"""The files of a bulk invite (README, "Invites"): the clinic's list of patients in, their links out.

The list is read strictly: every row is checked before any invite is made, and one error names every
bad row and what is wrong with it, so that the clinic fixes the file once and nothing is half done.
The links are written as the exports are (free text behind a quote when a spreadsheet would take it
for a formula) and readable by their owner only: each link enrols whoever opens it first.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from bot.diary import enrolment
from bot.diary.enrolment import NewInvite
from bot.diary.places import parse_country
from bot.diary.schedule_rules import parse_zone
from bot.records.diary_csv import CsvError, escape, read_rows
from storage.database import create_private_file

__all__ = ["COLUMNS", "OPTIONAL", "CsvError", "read_invites", "write_links"]

COLUMNS = ("code", "zone", "language")
OPTIONAL = ("times", "country")  # as --times and --country; empty: the clinic's times, the zone's country
LINK_COLUMNS = ("code", "link", "expires")


def read_invites(
    path: Path, *, code_format: str | None, default_timezone: str, default_language: str, languages: Iterable[str]
) -> tuple[list[tuple[int, NewInvite]], list[tuple[int, str]]]:
    """Each good row's patient and each bad row's problems, with their row numbers (the header is row
    1). An empty zone or language cell means the clinic's (DEFAULT_TIMEZONE, DEFAULT_LANGUAGE), as
    leaving out --tz and --lang does. CsvError for a problem of the file itself: not there, empty, a
    wrong header, a row of the wrong length, no patients."""
    served = set(languages)
    wanted: list[tuple[int, NewInvite]] = []
    problems: list[tuple[int, str]] = []
    first_row: dict[str, int] = {}
    for number, cells in read_rows(path, COLUMNS, OPTIONAL):
        wrong = []
        code = cells["code"].strip()
        try:
            code = enrolment.check_code(code, code_format=code_format)
        except ValueError as error:
            wrong.append(str(error))
        else:
            if code in first_row:
                wrong.append(f"{code} is in row {first_row[code]} too")
            first_row.setdefault(code, number)
        try:
            zone = parse_zone(cells["zone"].strip() or default_timezone)
        except ValueError as error:
            wrong.append(str(error))
        language = cells["language"].strip() or default_language
        if language not in served:
            wrong.append(f"language {language!r} is not served (served: {', '.join(sorted(served))})")
        try:
            times = enrolment.check_times(cells.get("times", "").strip())
        except ValueError as error:
            wrong.append(str(error))
        try:
            country = parse_country(cells["country"]) if cells.get("country", "").strip() else None
        except ValueError as error:
            wrong.append(str(error))
        if wrong:
            problems.append((number, "; ".join(problem.rstrip(".") for problem in wrong)))
        else:
            new = NewInvite(code=code, timezone=zone, language=language, checkin_times=times, country=country)
            wanted.append((number, new))
    if not wanted and not problems:
        raise CsvError(f"{path}: no patients in the file, only its header")
    return wanted, problems


def write_links(path: Path, links: Iterable[tuple[str, str]], *, expires: datetime) -> None:
    """code,link,expires per patient, in a new file that only its owner may read (0600 whatever the
    umask); `expires` is the same moment for all, in UTC."""
    create_private_file(path)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LINK_COLUMNS)
        until = expires.isoformat(timespec="seconds")
        writer.writerows((escape(code), escape(link), until) for code, link in links)
