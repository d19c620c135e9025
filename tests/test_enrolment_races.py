"""Invite links made and opened at the same instant by two people, on SQLite and on a real PostgreSQL
server: two sessions of the same database, their statements interleaved at the point where a second
link, or a second account, could slip past what the first did."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot import team
from bot.care_team.staff_chat import StaffChat
from bot.delivery.outbox import tell_admins
from bot.diary import enrolment
from storage import invites, migrate, outbox, patients, staff
from storage.database import Database
from storage.models import Invite, OutboxMessage, Priority
from tests.harness import POSTGRESQL_ONLY
from tests.postgres import waiting_for_a_lock

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
async def database(database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrate.upgrade(database)
    yield database
    await database.dispose()


def meet_at(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, *, wait: float = 1.0) -> None:
    """Make the first caller of `module.name` wait (up to `wait` seconds) for a second caller to reach it
    too, then let both on: the two transactions are then both past everything before it. Where the
    code makes the second wait for the first (a row lock), the second never comes, and the first goes
    on alone after `wait`."""
    real: Callable[..., Awaitable[Any]] = getattr(module, name)
    arrived: list[None] = []
    second = asyncio.Event()

    async def meeting(**kwargs: Any) -> Any:
        arrived.append(None)
        if len(arrived) == 1:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(second.wait(), wait)
        else:
            second.set()
        return await real(**kwargs)

    monkeypatch.setattr(module, name, meeting)


async def invite(database: Database, code: str = "P-0001", *, relink: bool = False) -> str:
    return await enrolment.create_invite(
        database,
        code=code,
        timezone="Europe/Berlin",
        language="en",
        checkin_times="",
        now=NOW,
        valid_for=timedelta(days=7),
        relink=relink,
    )


async def open_links(database: Database, code: str = "P-0001") -> list[str]:
    """The hashes of the code's links not used yet."""
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        assert patient is not None
        found = await session.exec(
            select(Invite.token_hash).where(Invite.patient_id == patient.id, col(Invite.used_at).is_(None))
        )
        return list(found.all())


async def accept(database: Database, token: str, user: int) -> Any:
    return await enrolment.accept_invite(
        database, token=token, telegram_user_id=user, chat_id=user, now=NOW, default_times="09:00"
    )


async def test_two_links_made_for_one_code_at_the_same_instant_leave_only_the_newest_open(database: Database) -> None:
    """Two nurses answer the same patient's call and each makes a link for P-0001 at the same moment: on
    PostgreSQL neither saw the other's link to withdraw it, and both stayed open, so whoever held the
    one sent astray could enrol as the patient or move their record. For a code new to the diary, the
    second nurse got an error. The patient's row is locked while a link is made: the second waits."""
    monkeypatch = pytest.MonkeyPatch()
    await invite(database, "P-0001")  # a link that went astray
    for code in ("P-0001", "P-0002"):  # a second and third link for a code invited already; a new code's two
        with monkeypatch.context() as patched:
            meet_at(patched, invites, "revoke")
            await asyncio.gather(invite(database, code), invite(database, code))
        assert len(await open_links(database, code)) == 1, f"two links of {code} stayed open"

    with monkeypatch.context() as patched:
        meet_at(patched, invites, "revoke")
        first, second = await asyncio.gather(invite(database, relink=True), invite(database, relink=True))
    (still_open,) = await open_links(database)
    assert still_open in (enrolment.hash_token(first), enrolment.hash_token(second))
    withdrawn = first if still_open == enrolment.hash_token(second) else second
    assert await accept(database, withdrawn, 666) is None, "the withdrawn link enrols nobody"
    assert await accept(database, first if withdrawn == second else second, 301) is not None


async def test_a_link_accepted_while_a_re_link_is_made_leaves_only_the_re_link_open(database: Database) -> None:
    """The patient presses I agree while a nurse, hearing nothing, makes a re-link: they take their turns.
    Either the patient came first (the record is theirs) or the nurse did (the older link is withdrawn
    and enrols nobody); either way the re-link is the one link left open, and nothing else."""
    for account, code in enumerate(("P-0001", "P-0002", "P-0003", "P-0004"), start=301):  # either may come first
        token = await invite(database, code)
        with pytest.MonkeyPatch().context() as patched:
            meet_at(patched, invites, "revoke", wait=0.3)
            accepted, made = await asyncio.gather(accept(database, token, account), invite(database, code, relink=True))
        async with database.session() as session:
            record = await patients.by_code(session=session, code=code)
        assert record is not None
        assert record.telegram_user_id == (account if accepted is not None else None)
        assert await open_links(database, code) == [enrolment.hash_token(made)]


async def test_two_accounts_pressing_i_agree_on_one_link_at_the_same_instant_enrol_one(database: Database) -> None:
    """The link was forwarded, or seen in a group: two accounts press I agree at the same moment. One of
    them is the patient; the other is refused, and the record does not move to it afterwards."""
    token = await invite(database)
    with pytest.MonkeyPatch().context() as patched:
        meet_at(patched, invites, "claim")
        results = await asyncio.gather(accept(database, token, 301), accept(database, token, 666))
    enrolled = [result for result in results if result is not None]
    assert len(enrolled) == 1
    async with database.session() as session:
        record = await patients.by_code(session=session, code="P-0001")
    assert record is not None and record.telegram_user_id == enrolled[0].telegram_user_id
    assert await accept(database, token, 666 if record.telegram_user_id == 301 else 301) is None


async def test_the_account_that_lost_a_race_for_one_link_is_told_to_staff_once(database: Database) -> None:
    """The second of two accounts pressing I agree at the same moment read the link before the first used it: it was
    refused as "someone else's record", and staff, who hear of a used link tried by another account, heard nothing
    of the one moment most likely to be the patient and someone with a forwarded link."""
    token = await invite(database)
    notices = enrolment.MovedNotices(
        to_old_account=lambda language: "moved",
        to_staff=lambda code: f"{code} moved",
        staff_chat=StaffChat(database, configured=-100500),
        used_by_another=lambda code: f"{code} tried again",
    )

    async def press(user: int) -> Any:
        return await enrolment.accept_invite(
            database, token=token, telegram_user_id=user, chat_id=user, now=NOW, default_times="09:00", notices=notices
        )

    with pytest.MonkeyPatch().context() as patched:
        meet_at(patched, invites, "claim")
        results = await asyncio.gather(press(301), press(666))
    assert len([result for result in results if result is not None]) == 1

    async def told() -> int:
        async with database.session() as session:
            said = select(OutboxMessage.id).where(OutboxMessage.text == "P-0001 tried again")
            return len((await session.exec(said)).all())

    assert await told() == 1
    await press(666 if results[0] is not None else 301)
    assert await told() == 1, "once a link"


async def test_i_agree_pressed_as_the_patient_erases_their_diary_enrols_nobody(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patient erases their diary (its links go with it) between the moment a re-link is read and
    the moment its record is locked: the press enrols nobody, instead of failing."""
    token = await invite(database, relink=True)
    real = patients.lock

    async def erased_meanwhile(*, session: Any, patient_id: int) -> Any:
        await patients.erase(session=session, patient_id=patient_id)
        return await real(session=session, patient_id=patient_id)

    monkeypatch.setattr(patients, "lock", erased_meanwhile)
    assert await accept(database, token, 301) is None


def test_a_token_is_read_from_what_a_copy_caught_around_it_however_long() -> None:
    """Quotes, a full stop or a run of punctuation around a token copied by hand go; the token itself is
    never changed inside, and a word with no token character in it is no token. Words typed before it ("/start my
    code is ...") are not taken for it."""
    token = "Ab3_-x" * 4
    for typed, expected in (
        (f"«{token}».", token),
        (f'"{token}" please', token),
        (f"my code is {token}", token),
        (f"code: «{token}». thanks", token),
        (f"my code is {token[:-1]}", "my"),
        ("!" * 4000 + token + "?" * 4000, token),
        ("a" + "!" * 4000 + "b", "a" + "!" * 4000 + "b"),
        ("!" * 4000, ""),
        ("", ""),
    ):
        assert enrolment.typed_token(typed) == expected, typed[:20]


@POSTGRESQL_ONLY
async def test_a_word_to_the_admins_queued_as_one_of_them_is_removed_does_not_reach_them(database: Database) -> None:
    """An urgent word to the admins (an escalation, a message Telegram would not deliver) read who the
    admins are, and a removal of one of them ran before it queued their copy: the removal skipped what
    was owed to them, found nothing yet, and the copy queued after it reached someone no longer staff (on
    PostgreSQL, whose transactions run side by side; SQLite has one writer at a time). The admins' rows
    are kept until the word is queued: the removal waits for it, then finds it and skips it."""
    async with database.session() as session:
        for admin in (900, 901):
            await staff.add(session=session, telegram_user_id=admin, role="admin", now=NOW)
    read, go_on = asyncio.Event(), asyncio.Event()
    queue = outbox.enqueue

    async def once_the_admins_are_read(**owed: Any) -> None:
        read.set()
        await go_on.wait()
        await queue(**owed)

    async def tell() -> None:
        async with database.session() as session:
            await tell_admins(session, "urgent", now=NOW, priority=Priority.URGENT)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outbox, "enqueue", once_the_admins_are_read)
        telling = asyncio.create_task(tell())
        await read.wait()
        removal = asyncio.create_task(team.remove(database, telegram_user_id=901, actor_id=900, now=NOW))
        try:
            assert await waiting_for_a_lock(database, removal), "the removal waits for the word to be queued"
        finally:
            go_on.set()
            await telling
            await removal
    async with database.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending"))).all()
    assert [row.chat_id for row in rows] == [900]


# Their databases are migrated before anything else: a copy of one migrated once per worker (conftest.py).
pytestmark = pytest.mark.migrated
