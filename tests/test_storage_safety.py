"""What storage must survive and must not let out: killed and concurrent migrations, other users on
the machine (file modes), text PostgreSQL cannot store, and statements' parameters in error logs.

Some tests need processes that die or race; they run this module as a script
(`python -m tests.test_storage_safety kill|race ...`), whose helpers fork the processes after the
imports, so that the deaths and races fall inside the migrations and not in Python's start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import SQLModel, col, select

from storage import checkins, inbox, migrate, outbox, patient_messages
from storage.database import Database
from storage.models import (
    Alert,
    Answer,
    CheckIn,
    Counter,
    InboxUpdate,
    Infusion,
    OutboxMessage,
    Patient,
    PatientMessage,
)
from storage.text import clean
from tests.postgres import PostgresCluster

if TYPE_CHECKING:  # the helper processes import this module: they need none of the bot
    from sqlmodel.ext.asyncio.session import AsyncSession

    from tests.harness import Diary

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
HEAD = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask of a shell or service: files 0644 and folders 0755 unless the code says otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


async def migrate_url(url: str) -> None:
    database = Database(url)
    try:
        await migrate.upgrade(database)
    finally:
        await database.dispose()


async def assert_migrated_and_working(url: str) -> None:
    """At head, exactly the models' tables, and a write can be read back."""
    database = Database(url)
    try:

        def differences(connection: Connection) -> list[object]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert context.get_current_revision() == HEAD
            return list(compare_metadata(context, SQLModel.metadata))

        async with database.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
        async with database.session() as session:
            session.add(Counter(name="works", value=1))
        async with database.session() as session:
            assert (await session.exec(select(Counter.value).where(Counter.name == "works"))).one() == 1
    finally:
        await database.dispose()


def helper(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.test_storage_safety", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --- 1. Migrations are atomic and serialised ------------------------------------------------------


@pytest.mark.slow
async def test_migration_killed_at_any_moment_leaves_a_database_that_starts(tmp_path: Path) -> None:
    """SIGKILL at random moments during the first start, each time on a fresh SQLite file: every
    database is left either untouched or migrated (nothing in between), and every one starts."""
    seed = random.randrange(1 << 32)
    runs = 6
    done = await asyncio.to_thread(helper, "kill", tmp_path, runs, seed)
    assert done.returncode == 0, done.stderr
    for n in range(runs):
        path = tmp_path / f"killed-{n}.db"
        with closing(sqlite3.connect(path)) as look:
            tables = {name for (name,) in look.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            has_version = "alembic_version" in tables
            version = look.execute("SELECT version_num FROM alembic_version").fetchall() if has_version else []
        untouched = tables <= {"alembic_version"} and version == []
        migrated = version == [(HEAD,)] and set(SQLModel.metadata.tables) <= tables
        assert untouched or migrated, f"seed {seed}, run {n}: half a migration ({len(tables)} tables, {version})"
        await migrate_url(f"sqlite:///{path}")
        await assert_migrated_and_working(f"sqlite:///{path}")


@pytest.mark.slow
async def test_three_processes_migrating_one_fresh_database_all_succeed(database_url: str) -> None:
    done = await asyncio.to_thread(helper, "race", database_url, 3)
    assert done.returncode == 0, done.stderr
    await assert_migrated_and_working(database_url)


@pytest.mark.slow
@pytest.mark.postgres
async def test_migrations_are_serialised_on_a_postgresql_database_that_defaults_to_serializable(
    postgres_cluster: PostgresCluster,
) -> None:
    """A clinic's DBA may make REPEATABLE READ or SERIALIZABLE the database's default. A transaction's
    snapshot is then taken by its first statement, the one that waits for the advisory lock: the
    processes that waited saw no tables and failed on "relation alembic_version already exists"."""
    for level in ("repeatable read", "serializable"):
        url = await postgres_cluster.create_database()
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(
                f"ALTER DATABASE \"{url.rsplit('/', 1)[1]}\" SET default_transaction_isolation = '{level}'"
            )
        finally:
            await connection.close()
        done = await asyncio.to_thread(helper, "race", url, 3)
        assert done.returncode == 0, f"{level}: {done.stderr[-2000:]}"
        await assert_migrated_and_working(url)


async def test_a_migration_that_fails_half_way_changes_nothing(database_url: str) -> None:
    """Revision 0006 first adds invite.relink, then creates wrongtoken. When the second step fails,
    the first must not stay behind either (on SQLite it did, and every later start failed on
    "duplicate column name: relink")."""
    database = Database(database_url)
    try:
        await migrate.upgrade(database, "0005")
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE wrongtoken (id INTEGER)"))
        with pytest.raises(DBAPIError):
            await migrate.upgrade(database)
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP TABLE wrongtoken"))
    finally:
        await database.dispose()
    await migrate_url(database_url)
    await assert_migrated_and_working(database_url)


async def test_upgrading_keeps_rows_that_refer_to_a_rebuilt_table(database_url: str) -> None:
    """On SQLite, revision 0005 rebuilds the alert table (copy, drop, rename). With foreign keys on,
    the drop deleted every outbox row whose alert_id cascades: the queued alert cards."""
    database = Database(database_url)
    try:
        await migrate.upgrade(database, "0004")
        async with database.engine.begin() as connection:
            for statement in (
                "INSERT INTO patient (id, code, language, timezone, status, created_at) "
                "VALUES (1, 'P-0001', 'en', 'UTC', 'active', '2026-11-21 08:00:00+00:00')",
                "INSERT INTO alert (id, patient_id, rule, tier, status, details, event_at, opened_at, updated_at, "
                "escalations) VALUES (1, 1, 'pain_high', 'urgent', 'open', '{}', '2026-11-21 08:00:00+00:00', "
                "'2026-11-21 08:00:00+00:00', '2026-11-21 08:00:00+00:00', 0)",
                "INSERT INTO outboxmessage (kind, chat_id, alert_id, status, attempts, not_before, created_at) "
                "VALUES ('alert', -100, 1, 'pending', 0, '2026-11-21 08:00:00+00:00', '2026-11-21 08:00:00+00:00')",
            ):
                await connection.execute(text(statement))
        await migrate.upgrade(database)
        async with database.session() as session:
            cards = (await session.exec(select(OutboxMessage.alert_id))).all()
            assert list(cards) == [1]
    finally:
        await database.dispose()


def kill_migrations(folder: Path, runs: int, seed: int) -> None:
    """The helper for the kill test: one whole migration to time it, then `runs` fresh databases,
    each migrated by a forked process that is SIGKILLed at a random moment within that time."""
    rng = random.Random(seed)
    start = time.monotonic()
    asyncio.run(migrate_url(f"sqlite:///{folder / 'timing.db'}"))
    took = time.monotonic() - start
    for n in range(runs):
        child = os.fork()
        if child == 0:  # pragma: no cover (the child is killed or exits here)
            try:
                asyncio.run(migrate_url(f"sqlite:///{folder / f'killed-{n}.db'}"))
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0, took))
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def race_migrations(url: str, processes: int) -> int:
    """The helper for the concurrency test: `processes` forked processes wait at a pipe, then all
    migrate the same database at once. Returns how many failed."""
    go_read, go_write = os.pipe()
    children = []
    for _ in range(processes):
        child = os.fork()
        if child == 0:  # pragma: no cover (the child exits here)
            os.close(go_write)
            os.read(go_read, 1)  # returns when the parent closes its end: all start together
            status = 0
            try:
                asyncio.run(migrate_url(url))
            except BaseException:
                traceback.print_exc()
                status = 1
            os._exit(status)
        children.append(child)
    os.close(go_read)
    os.close(go_write)
    return sum(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) != 0 for child in children)


# --- 2. Health data is private whatever the umask -------------------------------------------------


async def test_database_folder_and_files_are_private_under_umask_022(tmp_path: Path, umask_022: None) -> None:
    folder = tmp_path / "var" / "diary"
    path = folder / "diary.db"
    database = Database(f"sqlite:///{path}")
    try:
        await migrate.upgrade(database)
        async with database.session() as session:
            session.add(Counter(name="n", value=1))
        # The pooled connection is still open, so SQLite's -wal and -shm are there to look at.
        companions = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", ".migrate.lock")]
        assert all(file.exists() for file in companions)
        assert {str(file): mode(file) for file in [path, *companions]} == {
            str(file): 0o600 for file in [path, *companions]
        }
        assert (mode(tmp_path / "var"), mode(folder)) == (0o700, 0o700)
    finally:
        await database.dispose()


async def test_a_database_an_older_version_left_open_to_others_is_made_private(tmp_path: Path, umask_022: None) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "diary.db"
    await migrate_url(f"sqlite:///{path}")
    (path.with_name("diary.db-wal")).touch()
    for file in (folder, path, path.with_name("diary.db-wal")):
        os.chmod(file, 0o755 if file.is_dir() else 0o644)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    (shared / "someone-elses.txt").write_text("not the bot's")
    shared_path = shared / "diary.db"

    for url in (f"sqlite:///{path}", f"sqlite:///{shared_path}"):
        database = Database(url)
        try:
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                if url.endswith(str(path)):  # while connected, -wal and -shm are there to look at
                    files = [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))]
                    assert [mode(file) for file in files] == [0o600, 0o600, 0o600]
        finally:
            await database.dispose()
    assert (mode(folder), mode(path)) == (0o700, 0o600)
    # A folder holding other things than the database may be shared on purpose: the files are
    # private, the folder is left as it was (with a warning in the log).
    assert (mode(shared), mode(shared_path)) == (0o755, 0o600)


def test_backups_and_exports_are_private_under_umask_022(tmp_path: Path, umask_022: None) -> None:
    """`python -m bot backup` and `export` as `main()` runs them, but in this process, so that the
    umask stays 022 and the files' own modes are what is tested (main()'s umask: the next test)."""
    from bot.cli import backup, export
    from bot.config import load_settings

    url = f"sqlite:///{tmp_path / 'diary.db'}"
    settings = load_settings(database_url=url, default_timezone="Europe/Berlin")
    asyncio.run(migrate_url(url))
    copy, csv, fhir = tmp_path / "backup.db", tmp_path / "export.csv", tmp_path / "export.json"
    csv.write_text("yesterday's export, left readable\n")
    os.chmod(csv, 0o644)
    backup.run(settings, argparse.Namespace(file=copy))
    export.run(settings, argparse.Namespace(format="csv", patient=None, out=csv))
    export.run(settings, argparse.Namespace(format="fhir", patient=None, out=fhir))
    assert [mode(file) for file in (copy, csv, fhir)] == [0o600, 0o600, 0o600]
    assert csv.read_text(encoding="utf-8").startswith("patient,")


def test_the_command_line_makes_everything_it_writes_private(
    tmp_path: Path, umask_022: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    with pytest.raises(SystemExit):
        main(["backup", str(tmp_path / "copy.db")])  # fails (no database file), after setting the umask
    assert os.umask(0o022) == 0o077


# --- 3. Text PostgreSQL cannot store, and parameters in error logs --------------------------------

DIRTY = "Burning\x00 at night \ud800, better with 😀\udfff"
STORED = "Burning at night \ufffd, better with 😀\ufffd"


def test_clean_text_removes_nul_and_replaces_unencodable_characters() -> None:
    assert clean(DIRTY) == STORED
    assert clean("\ud83d\ude00") == "😀", "a surrogate pair split into two code points is joined again"
    assert clean("plain ascii") == "plain ascii" and clean("") == ""
    assert clean("\x00") == ""


async def a_patient(session: AsyncSession) -> Patient:
    patient = Patient(code="P-0001", language="en", timezone="Europe/Berlin", created_at=NOW)
    session.add(patient)
    await session.flush()
    return patient


async def test_notes_and_messages_with_nul_and_lone_surrogates_are_stored(database_url: str) -> None:
    database = Database(database_url)
    try:
        await migrate.upgrade(database)
        async with database.session() as session:
            patient = await a_patient(session)
            assert patient.id is not None
            checkin = CheckIn(
                patient_id=patient.id,
                questionnaire="daily",
                local_date=date(2026, 11, 21),
                slot="09:00",
                started_at=NOW,
                closes_at=NOW + timedelta(hours=2),
            )
            session.add(checkin)
            await session.flush()
            assert checkin.id is not None
            await checkins.upsert_answer(session=session, checkin_id=checkin.id, item="note", value="x", now=NOW)
            await checkins.upsert_answer(session=session, checkin_id=checkin.id, item="note", value=DIRTY, now=NOW)
            await checkins.upsert_answer(session=session, checkin_id=checkin.id, item="other", value=DIRTY, now=NOW)
            await patient_messages.add(session=session, patient_id=patient.id, text=DIRTY, now=NOW, update_id=1)
            session.add(PatientMessage(patient_id=patient.id, received_at=NOW, text=DIRTY, update_id=2))
            await outbox.enqueue(session=session, kind="patient", chat_id=1, now=NOW, text=DIRTY)
            await inbox.store_new(session=session, updates=[(5, DIRTY)], now=NOW)
            session.add(
                Alert(
                    patient_id=patient.id,
                    rule="crisis_text",
                    tier="urgent",
                    details=DIRTY,
                    event_at=NOW,
                    opened_at=NOW,
                    updated_at=NOW,
                )
            )
        async with database.session() as session:
            assert set((await session.exec(select(Answer.value))).all()) == {STORED}
            assert list((await session.exec(select(PatientMessage.text))).all()) == [STORED, STORED]
            assert list((await session.exec(select(OutboxMessage.text))).all()) == [STORED]
            assert list((await session.exec(select(InboxUpdate.payload))).all()) == [STORED]
            assert list((await session.exec(select(Alert.details))).all()) == [STORED]
    finally:
        await database.dispose()


async def test_of_two_edits_made_within_a_second_the_newest_is_the_one_numbered_last(database_url: str) -> None:
    """Telegram dates to the second; by webhook an edit may be delivered after a newer one (its POST tried again). Of
    two made within one second, the newer is the one Telegram numbered last, whichever was stored last: the next
    edit is compared with it, and staff read it as the message's words."""
    database = Database(database_url)
    try:
        await migrate.upgrade(database)
        async with database.session() as session:
            patient = await a_patient(session)
            assert patient.id is not None
            edited = NOW + timedelta(seconds=5)
            for text, at, update_id, kind in (
                ("20 tablets", NOW, 10, "text"),
                ("2 tablets", edited, 12, "edit"),
                ("200 tablets", edited, 11, "edit"),  # made first, delivered last
            ):
                await patient_messages.add(
                    session=session,
                    patient_id=patient.id,
                    text=text,
                    now=at,
                    update_id=update_id,
                    telegram_message_id=7,
                    kind=kind,
                )
        async with database.session() as session:
            newest = await patient_messages.latest(session=session, patient_id=patient.id, telegram_message_id=7)
        assert newest is not None and newest.text == "2 tablets"
    finally:
        await database.dispose()


async def test_a_note_with_nul_and_a_lone_surrogate_is_saved_as_the_note(diary: Diary) -> None:
    """End to end: the note is saved, and the patient's next message is a message, not the note."""
    from bot.sandbox import SimulatedUser

    ben = SimulatedUser(diary.standin, 101, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    for label in ["6", "Redder", "Warmer", "A little", "3 Okay"]:
        await ben.press(label)
    await ben.send("Burning\x00 at night \ud800")
    await ben.wait_for(lambda: ben.last.text == "Thank you, your note is saved.")
    await ben.send("A question for the nurse")
    assert {a.item: a.value for a in await diary.answers()}["note"] == "Burning at night \ufffd"


async def test_messages_edits_and_infusion_kinds_with_nul_and_lone_surrogates_are_stored(diary: Diary) -> None:
    """Outside a check-in too: a message and its edit reach staff, and an infusion's kind typed by staff
    is recorded, as they would be without those characters, on both databases."""
    from bot.sandbox import SimulatedUser
    from tests.test_alerts import STAFF_CHAT
    from tests.test_staff_commands import a_member

    sam = await a_member(diary)
    ben = SimulatedUser(diary.standin, 101, "Ben")
    await diary.enrol(ben, "P-0012")
    reply = await ben.send("Burning\x00 at night \ud800")
    assert reply is not None and "care team will see" in (reply.text or "")
    message = next(m for m in reversed(ben.sent_messages) if m.text == "Burning\x00 at night \ud800")
    reply = await ben.edit(message, "Burning \udfff all night")
    assert reply is not None and "went wrong" not in (reply.text or "")
    await diary.wait_until(lambda: sum("P-0012" in (m.text or "") for m in diary.standin.chat(STAFF_CHAT)) >= 2)
    reply = await sam.send("/infusion P-0012 2026-11-03 keta\x00mine \ud800")
    assert reply is not None and reply.text == "Infusion recorded for P-0012 on 2026-11-03."
    async with diary.database.session() as session:
        texts = list((await session.exec(select(PatientMessage.text).order_by(col(PatientMessage.id)))).all())
        kinds = list((await session.exec(select(Infusion.kind))).all())
    assert texts == ["Burning at night \ufffd", "Burning \ufffd all night"]
    assert kinds == ["ketamine \ufffd"]


async def test_database_errors_are_logged_without_their_parameters(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "my secret note about insomnia"
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("bot.test")
    database = Database(database_url)
    try:
        await migrate.upgrade(database)
        assert not database.engine.echo
        async with database.session() as session:
            patient = await a_patient(session)
            assert patient.id is not None
            session.add(PatientMessage(patient_id=patient.id, received_at=NOW, text="first", update_id=9))
        with pytest.raises(IntegrityError) as raised:
            async with database.session() as session:
                session.add(PatientMessage(patient_id=patient.id, received_at=NOW, text=secret, update_id=9))
        log.error("storing the message failed", exc_info=raised.value)
        # The engine that migrations use (also `alembic upgrade` by hand) hides them too.
        with pytest.raises(IntegrityError) as raised:
            async with migrate.migration_connection(database) as connection:
                assert not connection.engine.echo
                await connection.execute(
                    text(
                        "INSERT INTO patientmessage (patient_id, received_at, text, crisis, update_id, kind, filed_as)"
                        " VALUES (:p, :at, :text, false, 9, 'text', 'message')"
                    ),
                    {"p": patient.id, "at": NOW, "text": secret},
                )
        log.error("migration failed", exc_info=raised.value)
    finally:
        await database.dispose()
    assert "[SQL parameters hidden due to hide_parameters=True]" in caplog.text
    assert secret not in caplog.text


# --- the helpers' command line ---------------------------------------------------------------------

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    kill = commands.add_parser("kill")
    kill.add_argument("folder", type=Path)
    kill.add_argument("runs", type=int)
    kill.add_argument("seed", type=int)
    race = commands.add_parser("race")
    race.add_argument("url")
    race.add_argument("processes", type=int)
    arguments = parser.parse_args()
    if arguments.command == "kill":
        kill_migrations(arguments.folder, arguments.runs, arguments.seed)
    else:
        failed = race_migrations(arguments.url, arguments.processes)
        sys.exit(f"{failed} of {arguments.processes} processes failed" if failed else 0)
