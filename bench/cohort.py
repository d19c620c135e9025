"""Seed many enrolled patients whose next check-in is due at one instant (benchmarks and fault tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.sandbox import BotApiStandIn, SimulatedUser
from storage.database import Database
from storage.models import Patient, Schedule, table

FIRST_USER_ID = 1_000_000


async def seed_due_patients(
    database: Database, *, count: int, due_at: datetime, standin: BotApiStandIn | None = None, batch: int = 5000
) -> list[int]:
    """`count` active patients in UTC whose daily slot is due at `due_at`; returns their chat ids."""
    due_at = due_at.astimezone(UTC).replace(second=0, microsecond=0)
    slot = due_at.strftime("%H:%M")
    chat_ids = [FIRST_USER_ID + n for n in range(count)]
    patients, schedules = table(Patient), table(Schedule)
    for start in range(0, count, batch):
        chunk = chat_ids[start : start + batch]
        async with database.engine.begin() as connection:
            rows = await connection.execute(
                patients.insert().returning(patients.c.id),
                [
                    {
                        "code": f"C-{chat_id}",
                        "telegram_user_id": chat_id,
                        "chat_id": chat_id,
                        "language": "en",
                        "timezone": "UTC",
                        "status": "active",
                        "created_at": due_at,
                        "consented_at": due_at,
                    }
                    for chat_id in chunk
                ],
            )
            ids = [row[0] for row in rows.all()]
            await connection.execute(
                schedules.insert(),
                [
                    {
                        "patient_id": patient_id,
                        "times": slot,
                        "days": "mon-sun",
                        "timezone": "UTC",
                        "next_local_date": due_at.date(),
                        "next_slot": slot,
                        "next_due_at": due_at,
                    }
                    for patient_id in ids
                ],
            )
    if standin is not None:
        for chat_id in chat_ids:
            SimulatedUser(standin, chat_id, f"Patient {chat_id}")
    return chat_ids
