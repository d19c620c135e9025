"""The operator's commands as a clinic runs them: export (CSV and FHIR), audit, backup, staff.
Real processes on real databases (SQLite and PostgreSQL where the command supports both)."""

from __future__ import annotations

import asyncio
import csv
import json
import sqlite3
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle

from storage import checkins, patients
from storage.database import Database
from tests.cli import run_cli
from tests.test_records import GOOD, bot, counts, diary_file

PAIN_LOINC = "72514-3"


async def imported(database_url: str, folder: Path) -> None:
    done = await asyncio.to_thread(bot, "import", diary_file(folder, GOOD), database_url=database_url)
    assert done.returncode == 0, done.stderr


async def test_csv_export_is_the_diary_format_and_imports_back_the_same(database_url: str, tmp_path: Path) -> None:
    await imported(database_url, tmp_path)
    out = tmp_path / "export.csv"
    done = await asyncio.to_thread(bot, "export", "--format", "csv", "--out", out, database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"exported 3 check-ins of 2 patients to {out}"
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["patient"], r["pain"], r["skin_color"], r["note"]) for r in rows] == [
        ("P-0012", "6", "red", "Burning at night"),
        ("P-0012", "7", "", ""),
        ("P-0013", "2", "normal", "Fine, thanks"),
    ]
    # In the patient's own zone (the clinic's Berlin here, given at import), as the bot counts their days:
    # a replay of the export then counts the same days. The same instants as imported.
    assert [r["recorded_at"] for r in rows] == [
        "2026-11-01T09:05:00+01:00",
        "2026-11-01T20:10:00+01:00",
        "2026-11-01T14:00:00+01:00",
    ]
    one = tmp_path / "one.csv"
    done = await asyncio.to_thread(
        bot, "export", "--format", "csv", "--patient", "P-0013", "--out", one, database_url=database_url
    )
    assert done.returncode == 0 and len(one.read_text(encoding="utf-8").splitlines()) == 2

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    again = await asyncio.to_thread(bot, "import", out, database_url=fresh)
    assert again.returncode == 0, again.stderr
    assert await counts(fresh) == (2, 3, 6 + 1 + 6, 0), "what was answered comes back, nothing else"

    missing = await asyncio.to_thread(
        bot, "export", "--format", "csv", "--patient", "P-9", "--out", tmp_path / "x.csv", database_url=database_url
    )
    assert missing.returncode == 2 and missing.stderr.strip() == "error: there is no patient with the code P-9"
    assert not (tmp_path / "x.csv").exists()


async def test_fhir_export_is_a_valid_r4_bundle_with_loinc_coded_pain(database_url: str, tmp_path: Path) -> None:
    await imported(database_url, tmp_path)
    out = tmp_path / "diary.json"
    done = await asyncio.to_thread(bot, "export", "--format", "fhir", "--out", out, database_url=database_url)
    assert done.returncode == 0, done.stderr
    raw = json.loads(out.read_text(encoding="utf-8"))
    bundle = Bundle.model_validate(raw)  # the FHIR library checks every element against the spec
    assert bundle.type == "collection"
    resources = [entry.resource for entry in bundle.entry or []]
    responses = [r for r in resources if r.get_resource_type() == "QuestionnaireResponse"]
    observations = [r for r in resources if r.get_resource_type() == "Observation"]
    assert len(responses) == 3
    first = raw["entry"][0]["resource"]
    assert first["subject"]["identifier"]["value"] == "P-0012"
    assert {item["linkId"]: item["answer"][0] for item in first["item"]} == {
        "pain": {"valueInteger": 6},
        "skin_color": {"valueCoding": {"system": "urn:crps-diary:item:skin_color", "code": "red"}},
        "skin_temperature": {"valueCoding": {"system": "urn:crps-diary:item:skin_temperature", "code": "warmer"}},
        "swelling": {"valueCoding": {"system": "urn:crps-diary:item:swelling", "code": "mild"}},
        "mood": {"valueInteger": 3},
        "note": {"valueString": "Burning at night"},
    }
    pain = [o for o in observations if o.code.coding and o.code.coding[0].code == PAIN_LOINC]
    assert [(o.code.coding[0].system, o.valueInteger) for o in pain] == [
        ("http://loinc.org", 6),
        ("http://loinc.org", 7),
        ("http://loinc.org", 2),
    ]
    urls = {entry["fullUrl"] for entry in raw["entry"]}
    assert all(ref["reference"] in urls for o in raw["entry"] for ref in o["resource"].get("derivedFrom", []))
    assert len(urls) == len(raw["entry"]), "every resource has its own id"


async def test_audit_prints_who_did_what_and_when(database_url: str, tmp_path: Path) -> None:
    await imported(database_url, tmp_path)
    for args in (
        ("staff", "add", "800", "staff"),
        ("invite", "--code", "P-0020"),
        ("export", "--format", "csv", "--patient", "P-0012", "--out", tmp_path / "x.csv"),
    ):
        done = await asyncio.to_thread(bot, *args, database_url=database_url)
        assert done.returncode == 0, done.stderr
    printed = await asyncio.to_thread(bot, "audit", database_url=database_url)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.strip().splitlines()
    assert lines[0] == "when\twho\taction\tpatient\tdetail"
    events = [line.split("\t")[1:4] for line in lines[1:]]
    assert events == [
        ["command line", "import", "-"],
        ["command line", "staff_add", "-"],
        ["command line", "invite", "P-0020"],
        ["command line", "export", "P-0012"],
    ]
    later = await asyncio.to_thread(bot, "audit", "--since", "2999-01-01", database_url=database_url)
    assert later.stdout.strip().splitlines() == ["when\twho\taction\tpatient\tdetail"]
    bad = await asyncio.to_thread(bot, "audit", "--since", "last week", database_url=database_url)
    assert bad.returncode == 2 and "--since 'last week'" in bad.stderr


async def test_staff_from_the_command_line(database_url: str) -> None:
    for args, said in (
        (("staff", "add", "800", "admin"), "800 is admin"),
        (("staff", "list"), "800\tadmin\t"),
        (("staff", "remove", "800"), "error: the last admin cannot be removed or demoted"),
        (("staff", "add", "801", "admin"), "801 is admin"),
        (("staff", "remove", "800"), "800 is no longer staff"),
        (("staff", "remove", "800"), "800 is not staff"),
    ):
        done = await asyncio.to_thread(bot, *args, database_url=database_url)
        assert said in (done.stdout + done.stderr), (args, done.stdout, done.stderr)
    await asyncio.to_thread(bot, "staff", "add", "802", "admin", database_url=database_url)
    seeded = await asyncio.to_thread(
        run_cli, "staff", "remove", "801", DATABASE_URL=database_url, ADMIN_TELEGRAM_IDS="801,900"
    )
    assert seeded.stdout.splitlines() == [
        "801 is no longer staff",
        "801 is also in ADMIN_TELEGRAM_IDS, which makes them admin again at the next start: take them out of it too",
    ]


async def test_backup_is_a_consistent_copy_while_the_database_is_being_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    await imported(url, tmp_path)
    database = Database(url)
    try:
        async with database.session() as session:
            # A write in progress while the copy is made: the copy has what was committed, not this.
            patient = await patients.by_code(session=session, code="P-0012")
            assert patient is not None and patient.id is not None
            await checkins.set_message(session=session, checkin_id=1, chat_id=1, message_id=1)
            copy = tmp_path / "backup.db"
            done = await asyncio.to_thread(bot, "backup", copy, database_url=url)
            assert done.returncode == 0, done.stderr
    finally:
        await database.dispose()
    with sqlite3.connect(copy) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("SELECT count(*) FROM checkin").fetchone() == (4,)
        assert check.execute("SELECT message_id FROM checkin WHERE id = 1").fetchone() == (None,)
    assert await counts(f"sqlite:///{copy}") == await counts(url)

    refused = await asyncio.to_thread(bot, "backup", tmp_path / "x.db", database_url="postgresql://u@localhost/db")
    assert refused.returncode == 2 and "pg_dump" in refused.stderr
