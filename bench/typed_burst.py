"""What reading a typed message with those typed just before it costs: one patient's messages handled by the
care team's intake, typed seconds apart (each read with up to five before it) or minutes apart (read alone).

    uv run python bench/typed_burst.py [--messages 300] [--database-url URL]

Prints the median and p95 time to keep and file one message, each way (SQLite in a temporary file by default).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.answers import percentile  # noqa: E402
from bench.cohort import seed_due_patients  # noqa: E402
from bot.alerts.crisis import CrisisLanguage  # noqa: E402
from bot.alerts.crisis_texts import CrisisTexts  # noqa: E402
from bot.alerts.desk import AlertDesk  # noqa: E402
from bot.alerts.rules import load_rules  # noqa: E402
from bot.care_team.intake import Intake  # noqa: E402
from bot.diary.questionnaire import Questionnaires  # noqa: E402
from bot.prompts import DEFAULT_CRISIS_TEXTS, Catalog  # noqa: E402
from storage import migrate, patients  # noqa: E402
from storage.database import Database  # noqa: E402

WORDS = ["my hand is", "burning again", "since the", "morning and", "the swelling", "went up to", "the elbow"]


async def timings(database: Database, intake: Intake, patient_id: int, *, apart: timedelta, count: int) -> list[float]:
    async with database.session() as session:
        patient = await patients.by_id(session=session, patient_id=patient_id)
    assert patient is not None
    start = datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(days=patient_id)
    taken = []
    for n in range(count):
        began = time.perf_counter()
        await intake.text(
            patient=patient,
            text=WORDS[n % len(WORDS)],
            chat_id=patient.chat_id or 0,
            message_id=n + 1,
            update_id=patient_id * 100_000 + n,
            now=start + n * apart,
        )
        taken.append(time.perf_counter() - began)
    return taken


async def run(args: argparse.Namespace, database_url: str) -> None:
    database = Database(database_url)
    await migrate.upgrade(database)
    first, second = await seed_due_patients(database, count=2, due_at=datetime(2026, 11, 1, 9, tzinfo=UTC))
    catalog = Catalog.load("en")
    questionnaires = Questionnaires.load()
    desk = AlertDesk(database, rules=load_rules(), catalog=catalog, staff_chat_id=-100, clinic_timezone="UTC")
    intake = Intake(
        database,
        questionnaire=questionnaires.daily,
        catalog=catalog,
        crisis_language=CrisisLanguage.load(),
        crisis_texts=CrisisTexts.load(DEFAULT_CRISIS_TEXTS),
        desk=desk,
        staff_chat_id=-100,
    )
    async with database.session() as session:
        ids = [(await patients.by_chat(session=session, chat_id=chat)) for chat in (first, second)]
    for label, patient, apart in (
        ("typed 5 s apart (read with 5 before)", ids[0], timedelta(seconds=5)),
        ("typed 10 min apart (read alone)", ids[1], timedelta(minutes=10)),
    ):
        assert patient is not None and patient.id is not None
        taken = await timings(database, intake, patient.id, apart=apart, count=args.messages)
        print(f"{label}: median {statistics.median(taken) * 1000:.2f} ms, p95 {percentile(taken, 0.95):.2f} ms")
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        asyncio.run(run(args, url))


if __name__ == "__main__":
    main()
