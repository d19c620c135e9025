"""The diary and infusion CSV formats (README, "Diary CSV"): read strictly, written safely.

Reading checks every row before anything is used: one bad cell stops the whole file with its name,
row and field, so an import is all or nothing. A file that holds the same check-in twice (one patient,
one moment, however its offset is written) or the same infusion twice (one patient, one day) is
refused in the same way.

Free text is written so that a spreadsheet shows it instead of running it. A spreadsheet takes a cell
that begins with =, +, -, @, a tab, a carriage return or a line feed for a formula, so such a cell is
written with a single quote (') in front of it, as OWASP advises against CSV injection. So is a cell
where those four signs come after spaces or invisible characters (some spreadsheets skip them before
reading a formula) or in their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20: some spreadsheets
read them as the ASCII ones). A cell that already begins with one or more quotes followed by any of
that gets one more quote too, so that the rule can be undone without guessing: on import, one leading
quote is removed exactly when what follows it is a cell the rule would have escaped, and every other
cell is read as written. This applies to the free-text cells: patient codes, notes and infusion
kinds. Times, numbers and answer options are never changed: they cannot begin with those characters.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.alerts.trends import Infusion, Point
from bot.diary.questionnaire import Questionnaire

DIARY_COLUMNS = ("patient", "recorded_at", "pain", "skin_color", "skin_temperature", "swelling", "mood", "note")
INFUSION_COLUMNS = ("patient", "date", "kind")
ANSWER_ITEMS = ("pain", "skin_color", "skin_temperature", "swelling", "mood", "note")
MAX_CODE = 32
PROGRESS_EVERY = 100_000
# A cell a spreadsheet would run: one that begins with a formula character, also behind quotes of our
# own escaping, so that a quote we add is always one the reader can recognise and take off again.
_NEEDS_QUOTE = re.compile(
    r"'*(?:[\t\r\n]|[\s\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20])"
)
# The diary keys an imported check-in by its time in UTC written to 32 characters (storage/checkins.py),
# which keeps five of the six digits of the microseconds: two times closer than this are one check-in.
_KEPT_MICROSECONDS = 10
_A_DAY = timedelta(days=1)


class CsvError(Exception):
    """`file, row N, field: what is wrong` (row 1 is the header)."""


@dataclass(frozen=True, slots=True)
class DiaryRow:
    patient: str
    point: Point

    @property
    def answers(self) -> dict[str, str]:
        """The answered items as the database keeps them (codes and numbers as text)."""
        values = {item: getattr(self.point, item) for item in ANSWER_ITEMS}
        return {item: str(value) for item, value in values.items() if value is not None}


def read_rows(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row with text in it, as its number (the header is row 1) and its cells by column name.
    Every one of `columns` must be in the header, and nothing but those and `optional` ones."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise CsvError(f"{path}: cannot read ({error.strerror})") from None
    with handle:
        # Strict: a file that ends inside a quoted cell (a copy cut off mid-note) or has text after a
        # cell's closing quote is damaged; read leniently, it would give a shortened or joined note.
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            expected = ",".join(columns) + "".join(f"[,{name}]" for name in optional)
            if header is None:
                raise CsvError(f"{path}: the file is empty; the first row must be: {expected}")
            header = [name.strip() for name in header]
            missing = [c for c in columns if c not in header]
            unknown = [c for c in header if c not in columns + optional]
            if missing or unknown:
                problem = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
                raise CsvError(f"{path}, row 1: header has {problem} column; expected: {expected}")
            for number, cells in enumerate(reader, start=2):
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(header):
                    raise CsvError(f"{path}, row {number}: {len(cells)} cells, expected {len(header)}")
                yield number, dict(zip(header, cells, strict=True))
        except UnicodeDecodeError:
            raise CsvError(f"{path}: not UTF-8 text") from None
        except csv.Error as error:
            raise CsvError(f"{path}, row {reader.line_num}: {error}") from None


def escape(text: str) -> str:
    """A free-text cell as written: with a quote in front when a spreadsheet would take it for a formula."""
    return f"'{text}" if _NEEDS_QUOTE.match(text) else text


def unescape(cell: str) -> str:
    """The text a cell stands for: unescape(escape(text)) is always text. A cell that escape would not
    have written, such as a quote before a letter, is kept as it is."""
    return cell[1:] if cell.startswith("'") and _NEEDS_QUOTE.match(cell, 1) else cell


def patient_code(value: str, where: str) -> str:
    # The length is that of the code itself, not of the cell: an escaped code is one character longer.
    code = unescape(value.strip())
    if not code or len(code) > MAX_CODE or not code.isprintable() or any(c.isspace() for c in code):
        raise CsvError(
            f"{where}, patient: a clinic code of 1-{MAX_CODE} characters without spaces or control characters is needed"
        )
    return code


def recorded_time(cell: str, where: str) -> datetime:
    """An ISO 8601 time with its offset: without one, the moment is not known."""
    raw = cell.strip()
    try:
        recorded_at = datetime.fromisoformat(raw)
    except ValueError:
        raise CsvError(f"{where}, recorded_at: {raw[:40]!r} is not an ISO 8601 time") from None
    if recorded_at.tzinfo is None:
        raise CsvError(f"{where}, recorded_at: {raw[:40]!r} needs an offset, e.g. 2026-11-03T09:00:00+01:00")
    try:  # the instant, and its date in any time zone, must be one Python can hold
        (recorded_at - _A_DAY).astimezone(UTC), (recorded_at + _A_DAY).astimezone(UTC)
    except OverflowError:
        raise CsvError(f"{where}, recorded_at: {raw[:40]!r} is out of range") from None
    return recorded_at


class _Parser:
    """Cell checks against the questionnaire's scales, so the CSV accepts exactly what a check-in can."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.options: dict[str, frozenset[str]] = {}
        for item in questionnaire.items:
            if item.type != "text":
                self.options[item.id] = frozenset(item.options) | frozenset(item.legacy)

    def choice(self, value: str, item: str, where: str) -> str | None:
        value = value.strip()
        if not value:
            return None
        if value not in self.options[item]:
            allowed = "|".join(sorted(self.options[item], key=lambda v: (len(v), v)))
            raise CsvError(f"{where}, {item}: {value[:40]!r} is not one of {allowed}")
        return value

    def number(self, value: str, item: str, where: str) -> int | None:
        code = self.choice(value, item, where)
        return None if code is None else int(code)

    def row(self, cells: dict[str, str], where: str) -> DiaryRow:
        patient = patient_code(cells["patient"], where)
        recorded_at = recorded_time(cells["recorded_at"], where)
        # A note is kept as written, spaces and line breaks included, so that an export comes back
        # exactly; only a cell with nothing but spaces is no note.
        note = unescape(cells["note"]) if cells["note"].strip() else None
        point = Point(
            recorded_at,
            pain=self.number(cells["pain"], "pain", where),
            skin_color=self.choice(cells["skin_color"], "skin_color", where),
            skin_temperature=self.choice(cells["skin_temperature"], "skin_temperature", where),
            swelling=self.choice(cells["swelling"], "swelling", where),
            mood=self.number(cells["mood"], "mood", where),
            note=note,
        )
        if all(getattr(point, item) is None for item in ANSWER_ITEMS):
            point = Point(recorded_at, missed=True)
        return DiaryRow(patient, point)


def read_diary(path: Path, *, questionnaire: Questionnaire | None = None, progress: bool = False) -> list[DiaryRow]:
    """Every row of a diary CSV, checked; CsvError at the first bad one. A row with no answers is a
    scheduled check-in that was missed."""
    parser = _Parser(questionnaire or Questionnaire.load("daily"))
    rows = []
    seen: dict[tuple[str, datetime], tuple[int, datetime]] = {}
    for number, cells in read_rows(path, DIARY_COLUMNS):
        where = f"{path}, row {number}"
        row = parser.row(cells, where)
        # The same check-in twice would have the database refuse the whole import half-way; named
        # here instead, before anything is written, like any other bad row.
        at = row.point.at.astimezone(UTC)
        key = (row.patient, at.replace(microsecond=at.microsecond - at.microsecond % _KEPT_MICROSECONDS))
        first = seen.setdefault(key, (number, at))
        if first[0] != number:
            close = "" if first[1] == at else f" (the diary keeps times to {_KEPT_MICROSECONDS} microseconds)"
            raise CsvError(f"{where}, recorded_at: the same moment as row {first[0]} for patient {row.patient}{close}")
        rows.append(row)
        if progress and number % PROGRESS_EVERY == 0:
            print(f"\rreading {path.name}: {number:,} rows", end="", file=sys.stderr, flush=True)
    if progress and len(rows) >= PROGRESS_EVERY:
        print(f"\rreading {path.name}: {len(rows):,} rows, all valid", file=sys.stderr)
    return rows


def read_infusions(path: Path) -> list[tuple[str, Infusion]]:
    infusions = []
    seen: dict[tuple[str, date], int] = {}
    for number, cells in read_rows(path, INFUSION_COLUMNS):
        where = f"{path}, row {number}"
        patient = patient_code(cells["patient"], where)
        raw = cells["date"].strip()
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise CsvError(f"{where}, date: {raw[:40]!r} is not a date such as 2026-11-03") from None
        kind = unescape(cells["kind"].strip())
        if len(kind) > 64:
            raise CsvError(f"{where}, kind: at most 64 characters")
        # The diary holds one infusion per patient and day; a second one would be dropped unseen.
        first = seen.setdefault((patient, day), number)
        if first != number:
            raise CsvError(f"{where}, date: the same day as row {first} for patient {patient}")
        infusions.append((patient, Infusion(day, kind)))
    return infusions


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def write_points(path: Path, diaries: Iterable[tuple[str, Iterable[Point]]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_points_to(handle, diaries)


def write_points_to(handle: TextIO, diaries: Iterable[tuple[str, Iterable[Point]]], *, header: bool = True) -> None:
    """A missed check-in (all cells empty) is written as a row of empty cells, as import reads it."""
    writer = csv.writer(handle)
    if header:
        writer.writerow(DIARY_COLUMNS)
    for code, points in diaries:
        for p in points:
            writer.writerow(
                (
                    escape(code),
                    p.at.isoformat(),
                    _cell(p.pain),
                    _cell(p.skin_color),
                    _cell(p.skin_temperature),
                    _cell(p.swelling),
                    _cell(p.mood),
                    escape(_cell(p.note)),
                )
            )


def write_infusions(path: Path, infusions: Iterable[tuple[str, Iterable[Infusion]]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(INFUSION_COLUMNS)
        for code, days in infusions:
            for infusion in days:
                writer.writerow((escape(code), infusion.on.isoformat(), escape(infusion.kind)))
