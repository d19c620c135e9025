"""A wave of check-ins survives SIGKILL (each arrives at least once), and several processes share one
PostgreSQL without doubling."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from bench.cohort import seed_due_patients
from bot.sandbox import BotApiStandIn
from storage import migrate
from storage.database import Database
from storage.models import CheckIn, OutboxMessage
from tests.bot_process import bot_env, start_bot, stop, wait_for
from tests.postgres import PostgresCluster


def checkin_messages(standin: BotApiStandIn) -> Counter[int]:
    return Counter(
        int(c.params["chat_id"]) for c in standin.sent("sendMessage") if "Question 1 of 6" in str(c.params.get("text"))
    )


@pytest.mark.slow
async def test_sigkill_mid_wave_sends_each_checkin_at_least_once(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    count = 500  # enough for the kill to land mid-wave with hundreds still owed
    standin = BotApiStandIn()
    await standin.start()
    database = Database(database_url)
    await migrate.upgrade(database)
    chats = await seed_due_patients(
        database, count=count, due_at=datetime.now(UTC) - timedelta(minutes=1), standin=standin
    )
    env = bot_env(standin, database_url, MESSAGES_PER_SECOND="300", SCHEDULE_TICK_SECONDS="1", OUTBOX_LEASE_SECONDS="2")
    bot = start_bot(env)
    try:
        await wait_for(lambda: _at_least(standin, count // 3), 60)
        bot.send_signal(signal.SIGKILL)
        bot.wait()
        killed_at = len(checkin_messages(standin))
        assert killed_at < count, "the kill landed mid-wave"
        async with database.session() as session:
            in_flight = len((await session.exec(select(OutboxMessage).where(OutboxMessage.status == "sending"))).all())
        bot = start_bot(env)

        async def settled() -> bool:
            async with database.session() as session:
                owed = (
                    await session.exec(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status.in_(("pending", "sending")))  # type: ignore[attr-defined]
                    )
                ).one()
            return owed == 0 and len(checkin_messages(standin)) == count

        await wait_for(settled, 90)
        await asyncio.sleep(1)  # a duplicate would have arrived by now
        async with database.session() as session:
            per_patient = Counter((await session.exec(select(CheckIn.patient_id))).all())
            statuses = Counter((await session.exec(select(OutboxMessage.status))).all())
        assert len(per_patient) == count and set(per_patient.values()) == {1}, "one check-in per patient and slot"
        sent = checkin_messages(standin)
        assert set(sent) == set(chats), "every patient got their check-in"
        # A request in flight at the instant of the kill may have arrived before the process died: it is
        # sent again rather than risk a patient never getting it. Only those can arrive twice.
        duplicates = sum(n - 1 for n in sent.values())
        with capsys.disabled():
            print(f"\n[{database_url.split(':')[0]}] wave of {count}: {duplicates} duplicates, {in_flight} in flight")
        assert duplicates <= in_flight <= 64
        assert statuses == {"sent": count}
    finally:
        stop(bot)
        await standin.stop()
        await database.dispose()


async def _at_least(standin: BotApiStandIn, n: int) -> bool:
    return len(checkin_messages(standin)) >= n


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_processes_on_postgresql_send_each_checkin_once(postgres_cluster: PostgresCluster) -> None:
    count = 400
    database_url = await postgres_cluster.create_database()
    standin = BotApiStandIn()
    await standin.start()
    database = Database(database_url)
    await migrate.upgrade(database)
    env = bot_env(standin, database_url, MESSAGES_PER_SECOND="300", SCHEDULE_TICK_SECONDS="1")
    first, second = start_bot(env), start_bot(env)
    try:
        await asyncio.sleep(3)  # both running and ticking before the wave is due
        await seed_due_patients(database, count=count, due_at=datetime.now(UTC) - timedelta(minutes=1), standin=standin)
        await wait_for(lambda: _at_least(standin, count), 60)
        await asyncio.sleep(2)  # anything sent twice would arrive by now
        sent = checkin_messages(standin)
        assert len(sent) == count and set(sent.values()) == {1}
        async with database.session() as session:
            checkins = (await session.exec(select(func.count()).select_from(CheckIn))).one()
        assert checkins == count
    finally:
        stop(first)
        stop(second)
        await standin.stop()
        await database.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
