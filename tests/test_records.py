"""`python -m bot import` and `replay` as a clinic runs them (the command line's own `main`), on real
databases."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from sqlmodel import func, select

from storage.database import Database
from storage.models import Answer, CheckIn, Infusion, Patient
from tests.cli import Completed, run_cli

ROOT = Path(__file__).resolve().parent.parent
HEADER = "patient,recorded_at,pain,skin_color,skin_temperature,swelling,mood,note\n"


def bot(*args: str | Path, database_url: str) -> Completed:
    return run_cli(
        *args, DATABASE_URL=database_url, DEFAULT_TIMEZONE="Europe/Berlin", TELEGRAM_BOT_USERNAME="crps_diary_bot"
    )


def diary_file(folder: Path, rows: list[str]) -> Path:
    path = folder / "diary.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


GOOD = [
    "P-0012,2026-11-01T09:05:00+01:00,6,red,warmer,mild,3,Burning at night",
    "P-0012,2026-11-01T20:10:00+01:00,7,,,,,",
    "P-0012,2026-11-02T09:00:00+01:00,,,,,,",  # missed
    'P-0013,2026-11-01T08:00:00-05:00,2,normal,same,none,5,"Fine, thanks"',
]


async def counts(database_url: str) -> tuple[int, int, int, int]:
    database = Database(database_url)
    try:
        async with database.session() as session:
            return (
                (await session.exec(select(func.count()).select_from(Patient))).one(),
                (await session.exec(select(func.count()).select_from(CheckIn))).one(),
                (await session.exec(select(func.count()).select_from(Answer))).one(),
                (await session.exec(select(func.count()).select_from(Infusion))).one(),
            )
    finally:
        await database.dispose()


async def test_import_loads_history_once_and_names_a_bad_cell_importing_nothing(
    database_url: str, tmp_path: Path
) -> None:
    diary = diary_file(tmp_path, GOOD)
    infusions = tmp_path / "infusions.csv"
    infusions.write_text("patient,date,kind\nP-0012,2026-10-20,ketamine\n", encoding="utf-8")
    done = await asyncio.to_thread(bot, "import", diary, "--infusions", infusions, database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported 4 check-ins and 1 infusions for 2 patients (2 new)"
    assert await counts(database_url) == (2, 4, 6 + 1 + 6, 1)

    again = await asyncio.to_thread(bot, "import", diary, "--infusions", infusions, database_url=database_url)
    assert again.stdout.strip() == "imported 0 check-ins and 0 infusions for 2 patients (0 new)"

    bad = diary_file(tmp_path, ["P-0014,2026-11-01T09:00:00+01:00,5,,,,,", "P-0014,2026-11-01T20:00:00+01:00,11,,,,,"])
    refused = await asyncio.to_thread(bot, "import", bad, database_url=database_url)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: {bad}, row 3, pain: '11' is not one of 0|1|2|3|4|5|6|7|8|9|10 (nothing was imported)"
    )
    assert await counts(database_url) == (2, 4, 13, 1), "the good first row was not imported either"


def test_malformed_files_are_refused_with_file_row_and_field(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    cases = {
        "patient,recorded_at,pain\n": "row 1: header has missing skin_color",
        HEADER + "P-1,2026-11-01 09:00,5,,,,,\n": "row 2, recorded_at: '2026-11-01 09:00' needs an offset",
        HEADER + "P-1,yesterday,5,,,,,\n": "row 2, recorded_at: 'yesterday' is not an ISO 8601 time",
        HEADER + "P-1,2026-11-01T09:00:00Z,5,green,,,,\n": "row 2, skin_color: 'green' is not one of",
        HEADER + ",2026-11-01T09:00:00Z,5,,,,,\n": "row 2, patient: a clinic code",
        HEADER + "P-1,2026-11-01T09:00:00Z,5\n": "row 2: 3 cells, expected 8",
    }
    for text, message in cases.items():
        path = tmp_path / "diary.csv"
        path.write_text(text, encoding="utf-8")
        result = bot("import", path, database_url=url)
        assert result.returncode == 2 and message in result.stderr, (text, result.stderr)
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "P-1,2026-11-01T09:00:00Z,5,,,,,Schmerz stärker\n").encode("latin-1"))
    result = bot("import", latin, database_url=url)
    assert result.returncode == 2 and "not UTF-8 text" in result.stderr


@pytest.mark.slow
def test_replay_counts_alerts_per_rule_without_a_bot(tmp_path: Path) -> None:
    rows = [f"P-1,2026-10-{1 + n // 2:02d}T{9 if n % 2 == 0 else 20:02d}:00:00+00:00,4,,,,4," for n in range(40)]
    # Severe pain on 4 check-ins in a row over 3 days, from the evening of the 20th.
    rows += [
        f"P-1,{at}:00:00+00:00,9,,,,4," for at in ("2026-10-20T22", "2026-10-21T09", "2026-10-21T20", "2026-10-22T06")
    ]
    rows += ["P-1,2026-10-22T09:00:00+00:00,5,,,,4,I want to die"]
    diary = diary_file(tmp_path, rows)
    out = tmp_path / "alerts.csv"
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    result = bot("replay", diary, "--out", out, database_url=url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1 patients, 45 answered check-ins, 0.7 patient-months"
    by_rule = {line.split()[0]: line.split()[1:] for line in lines[2:-1]}
    assert by_rule["severe_pain"][0] == "1" and by_rule["crisis_text"][0] == "1" and by_rule["low_mood"][0] == "0"
    with out.open(encoding="utf-8") as handle:
        alerts = list(csv.DictReader(handle))
    assert [(a["rule"], a["severity"]) for a in alerts if a["rule"] != "pain_worsening"] == [
        ("severe_pain", "amber"),
        ("crisis_text", "urgent"),
    ]
    assert set(alerts[0]) == {"patient", "rule", "severity", "opened_at", "details"}

    rules = tmp_path / "rules.yaml"
    rules.write_text("severe_pain: {consecutive: 5}\n", encoding="utf-8")
    stricter = bot("replay", diary, "--rules", rules, "--out", out, database_url=url)
    assert "severe_pain               0" in stricter.stdout
    rules.write_text("severe_pain: {consecutive: -1}\n", encoding="utf-8")
    refused = bot("replay", diary, "--rules", rules, "--out", out, database_url=url)
    assert refused.returncode == 2 and "severe_pain.consecutive" in refused.stderr
