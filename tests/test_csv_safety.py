"""The diary CSV as something a spreadsheet opens and a clinic imports back.

Exports neutralise cells a spreadsheet would run as a formula, and import undoes that exactly; a file
with the same check-in or infusion twice is refused by the validation pass, before anything is stored.
The command line runs in this process (`bot.cli.main`), in a worker thread when the test itself
runs in an event loop, since the command starts its own.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from bot.alerts.rules import Tier
from bot.alerts.trends import Finding, Infusion, Point
from bot.cli import main
from bot.records.diary_csv import (
    DIARY_COLUMNS,
    escape,
    read_diary,
    read_infusions,
    write_infusions,
    write_points_to,
)
from bot.records.replay import write_alerts
from storage import checkins, migrate, patients
from storage.database import Database
from storage.models import Answer, CheckIn, Patient
from tests.test_records import counts, diary_file

# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
FORMULA_START = re.compile(r"[=+\-@\t\r]")

NOTES = [
    '=HYPERLINK("http://example.invalid/?"&A1,"Click")',
    "+1 since yesterday",
    "-2 degrees colder",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "'=1+1",  # begins with the quote itself: exported as ''=1+1 so that import can tell them apart
    "''-3",
    "'plain quote",
    'Burning, "worse" at night\nand in the morning',
]


def environment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    """What `python -m bot` would read from the environment. Its logging set-up is left out: it belongs
    to a process of its own, and here it would change the logging of every later test."""
    monkeypatch.setattr("bot.cli.configure_logging", lambda verbose=False: None)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "crps_diary_bot")


async def seed(database_url: str, diaries: dict[str, list[str]]) -> None:
    """Check-ins with these notes (pain 5 each), stored as the bot stores them, not through the CSV."""
    database = Database(database_url)
    try:
        await migrate.upgrade(database)
        async with database.session() as session:
            for code, notes in diaries.items():
                patient = await patients.get_or_create(
                    session=session, code=code, language="en", timezone="UTC", now=datetime.now(UTC)
                )
                assert patient.id is not None
                entries = [
                    (datetime(2026, 11, 1, 9, n, tzinfo=UTC), date(2026, 11, 1), {"pain": "5", "note": note})
                    for n, note in enumerate(notes)
                ]
                await checkins.import_entries(
                    session=session, patient_id=patient.id, questionnaire="daily", entries=entries
                )
    finally:
        await database.dispose()


async def stored_notes(database_url: str) -> dict[str, list[str]]:
    """Each patient's notes, oldest first."""
    database = Database(database_url)
    try:
        async with database.session() as session:
            found = await session.exec(
                select(Patient.code, Answer.value)
                .join(CheckIn, col(CheckIn.patient_id) == col(Patient.id))
                .join(Answer, col(Answer.checkin_id) == col(CheckIn.id))
                .where(Answer.item == "note")
                .order_by(col(CheckIn.started_at))
            )
            notes: dict[str, list[str]] = {}
            for code, note in found.all():
                notes.setdefault(code, []).append(note)
            return notes
    finally:
        await database.dispose()


async def test_csv_formula_injection_is_neutralised_on_export_and_undone_on_import(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(database_url, {"P-0012": NOTES, "=2+5": ["-1"]})
    out = tmp_path / "export.csv"
    environment(monkeypatch, database_url)
    await asyncio.to_thread(main, ["export", "--format", "csv", "--out", str(out)])
    assert capsys.readouterr().out == f"exported 11 check-ins of 2 patients to {out}\n"
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["patient", "recorded_at", "pain", "skin_color", "skin_temperature", "swelling", "mood", "note"]
    assert not [cell for row in rows for cell in row if FORMULA_START.match(cell)], "no cell starts a formula"
    by_code = {code: [(row[2], row[7]) for row in rows[1:] if row[0] == code] for code in ("P-0012", "'=2+5")}
    assert by_code["'=2+5"] == [("5", "'-1")], "the code is free text too; numbers are never escaped"
    assert [note for _, note in by_code["P-0012"]] == [
        '\'=HYPERLINK("http://example.invalid/?"&A1,"Click")',
        "'+1 since yesterday",
        "'-2 degrees colder",
        "'@SUM(A1:A9)",
        "'\t=1+1",
        "'\r=1+1",
        "''=1+1",
        "'''-3",
        "'plain quote",  # a quote before anything harmless needs nothing
        'Burning, "worse" at night\nand in the morning',
    ]

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    environment(monkeypatch, fresh)
    await asyncio.to_thread(main, ["import", str(out)])
    assert capsys.readouterr().out == "imported 11 check-ins and 0 infusions for 2 patients (2 new)\n"
    assert await stored_notes(fresh) == {"P-0012": NOTES, "=2+5": ["-1"]}


# What else a spreadsheet may run: the same characters behind spaces or invisible characters (which
# some skip before reading a formula), their full-width forms (which some read as the ASCII ones), and a
# line feed, which OWASP now lists beside the tab and the carriage return.
HIDDEN_FORMULAS = [
    "  =cmd|' /C calc'!A0",
    "\u00a0+1 since yesterday",
    "\u3000-2 degrees colder",
    "\u200b@SUM(A1:A9)",
    "\ufeff=1+1",
    '\uff1dHYPERLINK("http://example.invalid")',
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
    "\n=1+1",
    "\nsecond line first",
    " \t =1+1",
]
SPREADSHEET_FORMULA = re.compile(
    r"[\s\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20]|[\t\r\n]"
)


async def test_csv_formula_injection_behind_spaces_in_full_width_or_after_a_line_feed_is_neutralised(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(database_url, {"P-0012": HIDDEN_FORMULAS, "\uff1d2+5": ["fine"]})
    out = tmp_path / "export.csv"
    environment(monkeypatch, database_url)
    await asyncio.to_thread(main, ["export", "--format", "csv", "--out", str(out)])
    capsys.readouterr()
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if SPREADSHEET_FORMULA.match(cell)], "no cell a spreadsheet may run"
    assert [row[7] for row in rows[1:] if row[0] == "P-0012"] == [f"'{note}" for note in HIDDEN_FORMULAS]
    assert "'\uff1d2+5" in cells, "the code too"
    for harmless in ("plain", " plain with a space", "'quoted", "2 + 2 = 4", "a-b"):
        assert escape(harmless) == harmless

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    environment(monkeypatch, fresh)
    await asyncio.to_thread(main, ["import", str(out)])
    assert (
        capsys.readouterr().out
        == f"imported {len(HIDDEN_FORMULAS) + 1} check-ins and 0 infusions for 2 patients (2 new)\n"
    )
    assert await stored_notes(fresh) == {"P-0012": HIDDEN_FORMULAS, "\uff1d2+5": ["fine"]}


def test_patient_export_goes_through_the_same_escaping() -> None:
    """/export writes with Export.write_csv, which is write_points_to: one place escapes for both."""
    table = io.StringIO()
    write_points_to(table, [("P-1", [Point(datetime(2026, 11, 1, tzinfo=UTC), pain=3, note="=1+1")])])
    assert table.getvalue().splitlines()[1] == "P-1,2026-11-01T00:00:00+00:00,3,,,,,'=1+1"


def test_infusions_and_replayed_alerts_escape_their_free_text(tmp_path: Path) -> None:
    infusions = tmp_path / "infusions.csv"
    write_infusions(infusions, [("-7", [Infusion(date(2026, 10, 20), "=cmd|' /C calc'!A0")])])
    assert infusions.read_text(encoding="utf-8").splitlines()[1] == "'-7,2026-10-20,'=cmd|' /C calc'!A0"
    assert read_infusions(infusions) == [("-7", Infusion(date(2026, 10, 20), "=cmd|' /C calc'!A0"))]

    alerts = tmp_path / "alerts.csv"
    write_alerts(alerts, [("@P-1", Finding("severe_pain", Tier.AMBER, datetime(2026, 11, 1, tzinfo=UTC)))])
    assert alerts.read_text(encoding="utf-8").splitlines()[1] == "'@P-1,severe_pain,amber,2026-11-01T00:00:00+00:00,{}"


LEADING = st.text(alphabet="=+-@\t\r'\"\n, \u00a0\u200b\uff1d\uff20", max_size=4)
notes = st.builds(str.__add__, LEADING, st.text()).filter(lambda text: text.strip() != "")
codes = st.builds(
    str.__add__, st.text(alphabet="=+-@'", max_size=3), st.from_regex(r"[A-Za-z0-9._-]{1,29}", fullmatch=True)
)


@settings(max_examples=300, deadline=None)
@given(note=notes, code=codes)
def test_csv_formula_injection_round_trip_gives_back_any_note(note: str, code: str) -> None:
    """Whatever a note holds (a formula, quotes, commas, line breaks), writing then reading the diary
    CSV gives back exactly that note and code, and no cell of the file starts a formula."""
    at = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "diary.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            write_points_to(handle, [(code, [Point(at, pain=4, note=note)])])
        with path.open(encoding="utf-8", newline="") as handle:
            cells = [cell for row in csv.reader(handle) for cell in row]
        assert not [cell for cell in cells if SPREADSHEET_FORMULA.match(cell)]
        [row] = read_diary(path)
    assert (row.patient, row.point.note, row.point.pain) == (code, note, 4)


def refused(capsys: pytest.CaptureFixture[str], *args: str | Path) -> str:
    """Runs a command that must be refused with status 2; its one line on stderr."""
    with pytest.raises(SystemExit) as stopped:
        main([str(arg) for arg in args])
    assert stopped.value.code == 2
    printed = capsys.readouterr()
    assert printed.out == "" and len(printed.err.splitlines()) == 1, printed.err
    assert "secret" not in printed.err, "no note is printed"
    return printed.err.strip()


def test_import_duplicate_rows_are_refused_by_the_validation_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    environment(monkeypatch, url)
    cases = {
        "the same time twice": (
            [
                "P-0012,2026-11-01T09:00:00+01:00,6,,,,,secret one",
                "P-0013,2026-11-01T09:00:00+01:00,6,,,,,",  # another patient at that time is fine
                "P-0012,2026-11-01T09:00:00+01:00,7,,,,,secret two",
            ],
            "row 4, recorded_at: the same moment as row 2 for patient P-0012",
        ),
        "one moment, two offsets": (
            [
                "P-0012,2026-10-31T09:00:00+01:00,6,,,,,",
                "P-0012,2026-11-01T09:00:00+01:00,6,,,,,secret one",
                "P-0012,2026-11-01T08:00:00+00:00,,,,,,secret two",
            ],
            "row 4, recorded_at: the same moment as row 3 for patient P-0012",
        ),
        "a missed check-in where one was answered": (
            ["P-0012,2026-11-01T08:00:00Z,,,,,,", "P-0012,2026-11-01T09:00:00+01:00,5,,,,,secret"],
            "row 3, recorded_at: the same moment as row 2 for patient P-0012",
        ),
        "apart by less than the diary keeps": (
            ["P-0012,2026-11-01T08:00:00.000001Z,5,,,,,", "P-0012,2026-11-01T08:00:00.000002Z,6,,,,,"],
            "row 3, recorded_at: the same moment as row 2 for patient P-0012 "
            "(the diary keeps times to 10 microseconds)",
        ),
    }
    for name, (rows, message) in cases.items():
        diary = diary_file(tmp_path, rows)
        said = refused(capsys, "import", diary)
        assert said == f"error: {diary}, {message} (nothing was imported)", name
        assert asyncio.run(counts(url)) == (0, 0, 0, 0), name

    diary = diary_file(tmp_path, ["P-0012,2026-11-01T09:00:00+01:00,6,,,,,"])
    infusions = tmp_path / "infusions.csv"
    infusions.write_text(
        "patient,date,kind\nP-0012,2026-10-20,ketamine\nP-0013,2026-10-20,ketamine\nP-0012,2026-10-20,lidocaine\n",
        encoding="utf-8",
    )
    said = refused(capsys, "import", diary, "--infusions", infusions)
    assert said == f"error: {infusions}, row 4, date: the same day as row 2 for patient P-0012 (nothing was imported)"
    assert asyncio.run(counts(url)) == (0, 0, 0, 0)


def test_import_duplicate_rows_and_times_no_clock_holds_are_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A year-1 time with an offset has no UTC instant Python can hold (OverflowError, a traceback); a
    code with a control character is not a code either (PostgreSQL cannot even store a NUL)."""
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    environment(monkeypatch, url)
    cases = {
        "0001-01-01T00:30:00+01:00": "row 2, recorded_at: '0001-01-01T00:30:00+01:00' is out of range",
        "9999-12-31T23:30:00-01:00": "row 2, recorded_at: '9999-12-31T23:30:00-01:00' is out of range",
    }
    for at, message in cases.items():
        diary = diary_file(tmp_path, [f"P-0012,{at},6,,,,,secret"])
        assert refused(capsys, "import", diary) == f"error: {diary}, {message} (nothing was imported)"
    diary = diary_file(
        tmp_path, ["P-0012,2026-11-01T09:00:00+01:00,6,,,,,", "P-00\x0012,2026-11-01T10:00:00+01:00,6,,,,,"]
    )
    said = refused(capsys, "import", diary)
    assert said.startswith(f"error: {diary}, row 3, patient: a clinic code of 1-32 characters without spaces")
    assert asyncio.run(counts(url)) == (0, 0, 0, 0)


def test_a_file_cut_off_inside_a_quoted_note_is_refused_not_imported_with_half_the_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy that stopped in the middle of a note (its closing quote never came), or a cell with text
    after its closing quote, is a damaged file: refused with the row, nothing imported, rather than a
    note silently shortened or joined."""
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    environment(monkeypatch, url)
    first = "P-0012,2026-11-01T09:00:00+01:00,6,,,,,"
    for damaged, message in (
        (
            'P-0012,2026-11-01T10:00:00+01:00,6,,,,,"secret, the first line\nand the sec',
            "row 4: unexpected end of data",  # the line the file ends on
        ),
        ('P-0012,2026-11-01T10:00:00+01:00,6,,,,,"secret" and more\n', "row 3: ',' expected after '\"'"),
    ):
        diary = tmp_path / "diary.csv"
        diary.write_text(f"{','.join(DIARY_COLUMNS)}\n{first}\n{damaged}", encoding="utf-8")
        assert refused(capsys, "import", diary) == f"error: {diary}, {message} (nothing was imported)"
    assert asyncio.run(counts(url)) == (0, 0, 0, 0)


def test_import_duplicate_rows_are_not_added_again_after_the_patient_moved_time_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same file imported again adds nothing, also when the patient's time zone changed in between
    (enrolled with an invite for another zone): 02:00 in Berlin is the day before in Bogotá."""
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    environment(monkeypatch, url)
    diary = diary_file(tmp_path, ["P-0012,2026-11-01T02:00:00+01:00,6,,,,,", "P-0012,2026-11-01T12:00:00+01:00,5,,,,,"])
    main(["import", str(diary)])
    main(["schedule", "P-0012", "09:00", "mon-sun", "America/Bogota"])
    capsys.readouterr()
    main(["import", str(diary)])
    assert capsys.readouterr().out == "imported 0 check-ins and 0 infusions for 1 patients (0 new)\n"
    assert asyncio.run(counts(url)) == (1, 2, 2, 0)
