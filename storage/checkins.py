"""Query functions for check-ins and their answers."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, CheckIn
from storage.upsert import insert


async def create(
    *,
    session: AsyncSession,
    patient_id: int,
    questionnaire: str,
    local_date: date,
    slot: str,
    started_at: datetime,
    closes_at: datetime,
    step: str | None,
    chat_id: int | None,
) -> tuple[CheckIn, bool]:
    """Create the check-in for a slot, or return the one that exists (created=False)."""
    statement = (
        insert(session, CheckIn)
        .values(
            patient_id=patient_id,
            questionnaire=questionnaire,
            local_date=local_date,
            slot=slot,
            started_at=started_at,
            closes_at=closes_at,
            step=step,
            chat_id=chat_id,
        )
        .on_conflict_do_nothing(index_elements=["patient_id", "local_date", "slot"])
        .returning(col(CheckIn.id))
    )
    created = (await session.exec(statement)).first() is not None
    result = await session.exec(
        select(CheckIn).where(CheckIn.patient_id == patient_id, CheckIn.local_date == local_date, CheckIn.slot == slot)
    )
    return result.one(), created


async def close_others(*, session: AsyncSession, patient_id: int, keep_id: int, now: datetime) -> None:
    """A new check-in closes the patient's earlier open ones: only one is answerable at a time."""
    await session.exec(
        update(CheckIn)
        .where(col(CheckIn.patient_id) == patient_id, col(CheckIn.id) != keep_id, col(CheckIn.closes_at) > now)
        .values(closes_at=now)
    )


async def get(*, session: AsyncSession, checkin_id: int) -> CheckIn | None:
    return await session.get(CheckIn, checkin_id)


async def awaiting_note(*, session: AsyncSession, patient_id: int, now: datetime) -> CheckIn | None:
    result = await session.exec(
        select(CheckIn)
        .where(CheckIn.patient_id == patient_id, CheckIn.step == "note", col(CheckIn.closes_at) > now)
        .order_by(col(CheckIn.started_at).desc())
        .limit(1)
    )
    return result.first()


async def set_message(*, session: AsyncSession, checkin_id: int, chat_id: int, message_id: int) -> None:
    await session.exec(
        update(CheckIn).where(col(CheckIn.id) == checkin_id).values(chat_id=chat_id, message_id=message_id)
    )


async def upsert_answer(*, session: AsyncSession, checkin_id: int, item: str, value: str, now: datetime) -> None:
    statement = insert(session, Answer).values(checkin_id=checkin_id, item=item, value=value, answered_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["checkin_id", "item"], set_={"value": value, "answered_at": now}
    )
    await session.exec(statement)


async def answers(*, session: AsyncSession, checkin_id: int) -> dict[str, str]:
    result = await session.exec(select(Answer.item, Answer.value).where(Answer.checkin_id == checkin_id))
    return dict(result.all())


@dataclass(frozen=True)
class Entry:
    """A check-in with its answers, as history and charts see it."""

    checkin_id: int
    started_at: datetime
    answers: dict[str, str]


async def entries_since(*, session: AsyncSession, patient_id: int, since: datetime) -> list[Entry]:
    """Check-ins with at least one answer, oldest first."""
    result = await session.exec(
        select(CheckIn.id, CheckIn.started_at, Answer.item, Answer.value)
        .join(Answer, col(Answer.checkin_id) == CheckIn.id)
        .where(CheckIn.patient_id == patient_id, col(CheckIn.started_at) >= since)
        .order_by(col(CheckIn.started_at), col(CheckIn.id))
    )
    entries: dict[int, Entry] = {}
    for checkin_id, started_at, item, value in result.all():
        entry = entries.setdefault(cast(int, checkin_id), Entry(cast(int, checkin_id), started_at, {}))
        entry.answers[item] = value
    return list(entries.values())
