"""A running diary for end-to-end tests: the stand-in, the real PTB Application, a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.care_team.staff_chat import StaffChat
from bot.config import Settings, load_settings
from bot.diary import enrolment
from bot.diary.questionnaire import Questionnaire
from bot.diary.schedule_rules import parse_quiet_hours
from bot.diary.scheduler import Dispatched, Scheduler
from bot.records import erasure
from bot.runner import serve
from bot.sandbox import BotApiStandIn, SimulatedUser
from storage import patients, schedules
from storage.database import Database
from storage.models import Answer, CheckIn, InboxUpdate, OutboxMessage, Schedule

START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
TEST_RULES = Path(__file__).with_name("rules.yaml")

# For a Telegram flow whose every statement other tests run on PostgreSQL: the second database would test
# nothing new at twice the time. tests/postgres_statements.py shows that nothing went untried there.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# For a moment that only PostgreSQL's transactions, side by side, can meet (SQLite has one writer at a time).
POSTGRESQL_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Diary:
    standin: BotApiStandIn
    settings: Settings
    clock: Clock
    database: Database

    async def invite(
        self, code: str = "P-0001", *, language: str = "en", timezone: str = "Europe/Berlin", relink: bool = False
    ) -> str:
        return await enrolment.create_invite(
            self.database,
            code=code,
            timezone=timezone,
            language=language,
            checkin_times="",
            now=self.clock(),
            valid_for=timedelta(days=7),
            relink=relink,
        )

    async def erase(self, patient_id: int, telegram_user_id: int) -> bool:
        """The patient's "Yes, erase everything", as the bot does it (the staff chat told "<code> erased")."""
        return await erasure.erase(
            self.database,
            patient_id=patient_id,
            telegram_user_id=telegram_user_id,
            now=self.clock(),
            staff_chat=StaffChat(self.database, configured=self.settings.staff_chat_id),
            staff_text=lambda code: f"{code} erased",
            hold=timedelta(hours=self.settings.relink_hold_hours),
        )

    async def enrol(self, user: SimulatedUser, code: str = "P-0001", *, language: str = "en") -> None:
        token = await self.invite(code, language=language)
        await user.send(f"/start {token}")
        await user.press(data=f"cs:y:{token}")

    async def dispatch(self) -> Dispatched:
        """One scheduler tick at the test clock's time, as the running bot's interval job would do."""
        scheduler = Scheduler.for_settings(self.database, self.settings, Questionnaire.load("daily"))
        return await scheduler.dispatch_due(now=self.clock())

    async def reminders(self) -> int:
        scheduler = Scheduler.for_settings(self.database, self.settings, Questionnaire.load("daily"))
        return await scheduler.dispatch_reminders(
            now=self.clock(),
            after=timedelta(minutes=self.settings.reminder_after_minutes),
            quiet=parse_quiet_hours(self.settings.quiet_hours),
        )

    async def schedule(self, code: str) -> Schedule:
        async with self.database.session() as session:
            patient = await patients.by_code(session=session, code=code)
            assert patient is not None and patient.id is not None
            found = await schedules.get(session=session, patient_id=patient.id)
        assert found is not None
        return found

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            await asyncio.sleep(0.05)

    async def wait_until_async(self, condition: Callable[[list[OutboxMessage]], bool], timeout: float = 30) -> None:
        """Until the outbox rows satisfy the condition."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with self.database.session() as session:
                rows = list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())
            if rows and condition(rows):
                return
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            await asyncio.sleep(0.05)

    async def inbox_processed(self, timeout: float = 30, *, at_least: int = 1) -> list[InboxUpdate]:
        """The inbox once it holds `at_least` updates and every one is marked processed (a reply goes out
        before the mark). `at_least` waits for an update sent without waiting for its answer."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with self.database.session() as session:
                rows = list((await session.exec(select(InboxUpdate))).all())
            if len(rows) >= at_least and all(row.processed_at is not None for row in rows):
                return rows
            assert asyncio.get_running_loop().time() < deadline, "updates never marked processed"
            await asyncio.sleep(0.05)

    async def answers(self) -> list[Answer]:
        async with self.database.session() as session:
            return list((await session.exec(select(Answer).order_by(Answer.id))).all())

    async def checkins(self) -> list[CheckIn]:
        async with self.database.session() as session:
            return list((await session.exec(select(CheckIn).order_by(CheckIn.id))).all())


def settings_for(standin: BotApiStandIn, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "telegram_bot_token": standin.token,
        "telegram_api_base_url": standin.url,
        "database_url": database_url,
        "default_language": "en",
        "default_timezone": "Europe/Berlin",
        # Far from the test clock (08:00 UTC) and ticking rarely: scheduling tests dispatch explicitly.
        "default_checkin_times": "03:00",
        "schedule_tick_seconds": 60,
        "staff_chat_id": -100500,
        "admin_telegram_ids": "900",
        "rules_file": TEST_RULES,
        # The stand-in does not limit chats unless a test asks it to: pacing them would only add waiting
        # (tests/test_scheduling.py and bench/dispatch.py check the pacing against its limits).
        "chat_messages_per_second": 100,
        "group_messages_per_minute": 6000,
        # Tests queue messages straight into the outbox, and step the clock past retries: looked for at once.
        "outbox_poll_seconds": 0.1,
        # An update met by the database or Telegram away is tried again a tenth of a second later, not a second:
        # tests that fail Telegram four times in a row waited 15 s for the fifth try.
        "inbox_retry_seconds": 0.1,
        # How a send went, met by the database away, is written down again 0.05 s later (up to 0.4 s between tries),
        # not 0.25 s (up to 2 s): tests that keep the database away for six tries waited almost 8 s.
        "outbox_retry_seconds": 0.05,
        # No questionnaire offered after the daily one unless a test turns it on (tests/test_instruments.py).
        "instruments": "",
    }
    return load_settings(_env_file=None, **(values | overrides))


@asynccontextmanager
async def running_diary(
    database_url: str,
    files: Path,
    *,
    clock: Clock | None = None,
    standin: BotApiStandIn | None = None,
    **overrides: object,
) -> AsyncIterator[Diary]:
    """The bot, serving until the block ends; `webhook=True` receives updates by webhook, not polling.
    Pass the `clock` and `standin` of an earlier block to restart the bot where it stopped."""
    webhook = bool(overrides.pop("webhook", False))
    clock = clock or Clock()
    restart = standin is not None
    if standin is None:
        standin = BotApiStandIn(files_dir=files, clock=clock)  # message dates agree with the bot's clock
        await standin.start()
    settings = settings_for(standin, database_url, **overrides)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(settings, stop=stop, ready=ready, clock=clock, poll_timeout=5, webhook=webhook))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # start-up failed: raise its error
    database = Database(database_url)
    try:
        yield Diary(standin, settings, clock, database)
    finally:
        stop.set()
        await task
        if not restart:
            await standin.stop()
        await database.dispose()
