"""Whatever anyone sends, no handler fails: random text (long, emoji, right-to-left, zero-width,
SQL-like), random commands with random arguments, and random button data, from a patient in the middle
of a check-in, staff, an admin, a stranger and in the staff group.

Hypothesis drives a running bot (the real Application over HTTP, SQLite) kept in a background thread's
event loop, so every example goes through the whole stack. A handler error would be logged by the
error handler (bot/handlers/errors.py); the test counts those and requires zero.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import access
from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage
from storage import inbox, staff
from tests.harness import Diary, running_diary

T = TypeVar("T")

NASTY = [
    "",
    " ",
    "ڕۆژباش، ئازارم هەیە",  # right-to-left
    "שלום\u200f\u202e",  # RTL marks and an override
    "a\u200bb\u200c\u200d\ufeff",  # zero-width characters
    "'; DROP TABLE patient; --",
    "1 OR 1=1",
    "%s %d {code} {0} ${x}",
    "😀" * 2000,
    "x" * 4096,
    "\x00\x01\x07",
    "/start " + "A" * 64,
    "/schedule P-0001 25:00 mon-sun Mars/Base",
    "/pause -1",
    "/pause 99999999999999999999",
    "/infusion P-0001 2026-02-30",
    "/staff add 99999999999999999999999 admin",
    "/invite ../../etc/passwd",
    "/patient P-0001 extra",
    "/timezone " + "Z" * 300,
]
COMMANDS = [*sorted(access.COMMANDS), "unknown", ""]
PREFIXES = sorted(access.BUTTONS)

texts = st.one_of(st.sampled_from(NASTY), st.text(max_size=300))
commands = st.builds(lambda c, a: f"/{c} {a}".strip(), st.sampled_from(COMMANDS), texts)
buttons = st.one_of(
    st.text(max_size=64),
    st.builds(lambda p, rest: f"{p}:{rest}", st.sampled_from(PREFIXES), st.text(max_size=40)),
    st.builds(
        lambda p, a, n, item, value: f"{p}:{a}:{n}:{item}:{value}",
        st.sampled_from(["ck", "al"]),
        st.sampled_from(list("asbetzrh")),
        st.integers(min_value=-5, max_value=10**13),
        st.sampled_from(["pain", "mood", "note", "", "skin_color", "x" * 30]),
        st.sampled_from(["5", "11", "-1", "red", "", "0" * 20]),
    ),
)
senders = st.sampled_from(["patient", "staff", "admin", "stranger", "group"])
actions = st.tuples(senders, st.sampled_from(["text", "command", "button"]), texts, commands, buttons)


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class Bot:
    """A running diary in its own thread's event loop; tests hand it coroutines."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._stop: asyncio.Event | None = None
        self._served: Future[None] | None = None
        self.diary: Diary | None = None
        self.users: dict[str, SimulatedUser] = {}
        self.tmp_path = tmp_path

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _serve(self, started: asyncio.Future[None]) -> None:
        self._stop = asyncio.Event()
        url = f"sqlite:///{self.tmp_path / 'diary.db'}"
        async with running_diary(url, self.tmp_path / "files") as diary:
            self.diary = diary
            self.users = {
                "patient": SimulatedUser(diary.standin, 301, "Ben"),
                "staff": SimulatedUser(diary.standin, 800, "Sam"),
                "admin": SimulatedUser(diary.standin, 900, "Ada"),
                "stranger": SimulatedUser(diary.standin, 801, "Guest"),
                "group": SimulatedUser(diary.standin, 802, "Gil"),
            }
            async with diary.database.session() as session:
                await staff.add(session=session, telegram_user_id=800, role="staff", now=diary.clock())
                await staff.add(session=session, telegram_user_id=802, role="staff", now=diary.clock())
            await diary.enrol(self.users["patient"])
            started.set_result(None)
            await self._stop.wait()

    def start(self) -> None:
        async def begin() -> None:
            started: asyncio.Future[None] = self.loop.create_future()
            self._served = asyncio.run_coroutine_threadsafe(self._serve(started), self.loop)
            await started

        self.run(begin())

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        if self._served is not None:
            self._served.result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def act(self, sender: str, kind: str, text: str, command: str, data: str) -> None:
        """One action, then wait until the bot has handled every update it received."""
        assert self.diary is not None
        user = self.users[sender]
        chat_id = self.diary.settings.staff_chat_id if sender == "group" else None
        if kind == "button":
            anchor = ChatMessage(1, chat_id or user.id, True, 0, text="ours")
            self.diary.standin.callback_query(user.json, anchor, data, "fuzz")
        else:
            self.diary.standin.user_message(user.json, command if kind == "command" else text, chat_id)
        await self.settled()

    async def settled(self) -> None:
        assert self.diary is not None
        last = self.diary.standin.last_update_id
        for _ in range(1500):  # up to half a minute: a shared CI machine can be slow
            async with self.diary.database.session() as session:
                unfinished = await inbox.unfinished(session=session)
                seen = await inbox.seen(session=session, update_id=last)
            if seen and not unfinished:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the bot did not finish handling the updates")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    bot = Bot(tmp_path_factory.mktemp("fuzz"))
    bot.start()
    yield bot
    bot.stop()


@pytest.fixture(scope="module")
def failures() -> Iterator[Failures]:
    handler = Failures()
    logging.getLogger("bot").addHandler(handler)
    yield handler
    logging.getLogger("bot").removeHandler(handler)


# The fuzzing and its follow-up share one bot: with xdist they run in one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("fuzz")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(actions, min_size=1, max_size=4))
def test_no_input_makes_a_handler_fail(
    running: Bot, failures: Failures, steps: list[tuple[str, str, str, str, str]]
) -> None:
    before = failures.count
    for step in steps:
        running.run(running.act(*step))
    assert failures.count == before


def test_the_fuzzed_bot_still_works_afterwards(running: Bot, failures: Failures) -> None:
    """Nothing the fuzzing sent broke the diary: a fresh check-in still runs and is stored."""
    running.run(running.act("patient", "command", "", "/resume", ""))
    user = running.users["patient"]
    before = len(user.messages)
    running.run(user.send("/checkin", wait=False))

    def new_checkin() -> bool:  # replies to what the fuzzing sent may still be arriving
        return any("Question 1 of 6" in (m.text or "") for m in user.messages[before:])

    running.run(user.wait_for(new_checkin))
    checkin = next(m for m in user.messages[before:] if "Question 1 of 6" in (m.text or ""))
    running.run(user.press("5", message=checkin))
    assert failures.count == 0
    assert running.diary is not None
    answers = running.run(running.diary.answers())
    assert any(a.item == "pain" and a.value == "5" for a in answers)
