"""Apply Alembic migrations from code (used by `run`, `demo`, every command-line command and the tests).

A migration is all or nothing, and one process migrates at a time:

- PostgreSQL runs DDL in transactions. The whole upgrade is one transaction, and its first statement
  takes a transaction-level advisory lock, so a second process starting at the same moment waits
  until the first has committed, then finds the schema at head and does nothing.
- SQLite can run DDL in a transaction too, but Python's driver does not open one before DDL, so each
  CREATE TABLE used to commit on its own: a process killed half-way left tables without a version
  row, and the next start failed forever on "table ... already exists". Here the driver's
  transaction handling is switched off on a connection of our own and we emit BEGIN IMMEDIATE
  ourselves, so the whole upgrade is one transaction (a crash rolls it back) that holds the write
  lock from the start. Concurrent starts first queue on an flock on `<database>.migrate.lock`: the
  kernel drops it when its holder dies, so a killed process never leaves a stale lock behind.
- SQLite migrations run with foreign keys off, as SQLite's documentation asks for schema changes:
  Alembic changes a SQLite table by copying it to a new table and dropping the old one, and with
  foreign keys on, that drop deletes the rows of every table whose foreign key to it cascades (an
  upgrade from revision 0004 used to delete the outbox's alert cards). `PRAGMA foreign_key_check`
  before the commit makes sure the migrated data still holds together.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.database import (
    ENGINE_OPTIONS,
    MIGRATE_LOCK_SUFFIX,
    PRIVATE_FILE,
    Database,
    configure_sqlite_connection,
    sqlite_path,
)

if TYPE_CHECKING:
    from alembic.config import Config

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"

# Any fixed number serves; it only has to be the same in every process that migrates this database
# and differ from other advisory locks the database's users take. "CRPSDIAR" in ASCII.
POSTGRES_LOCK_KEY = 0x4352505344494152

LOCK_POLL_SECONDS = 0.05


class MigrationError(Exception):
    pass


def alembic_config() -> Config:
    from alembic.config import Config

    return Config(str(ALEMBIC_INI))


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (the newest by default), atomically and one process at a time."""
    if revision == "head" and await at_head(database):
        return  # nothing to do, and Alembic's import alone takes longer than a short command (bench/cli_startup.py)
    from alembic import command

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with migration_connection(database) as connection:
        await connection.run_sync(run)


# `revision: str = "0009"` and `down_revision: str | None = "0008"` in each migration file.
_REVISION_LINE = re.compile(r'^(down_)?revision\b[^=\n]*=\s*"([^"\n]*)"', re.MULTILINE)


@cache
def head_revision() -> str | None:
    """The newest migration's revision, read from the files' own lines: the one no other revises.
    None when that is not one revision (branches), and then Alembic decides."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        for down, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revised if down else revisions).add(value)
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


async def at_head(database: Database) -> bool:
    """Whether the database's schema is at the newest revision already. Migrations only move forward,
    so this needs neither the migration lock nor a transaction: anything else goes through Alembic."""
    head = head_revision()
    if head is None:
        return False
    try:
        async with database.engine.connect() as connection:
            versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:  # no version table: a new database
        return False
    return list(versions) == [head]


@asynccontextmanager
async def migration_connection(database: Database) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction that holds the migration lock; committed when the block ends
    without an exception, rolled back otherwise (and by the database itself if the process dies)."""
    if not database.is_sqlite:
        async with database.engine.begin() as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_LOCK_KEY})
            yield connection
        return
    path = sqlite_path(database.url)
    if path is None:
        raise MigrationError("migrations need a SQLite database file, not an in-memory database")
    async with _file_lock(path.with_name(path.name + MIGRATE_LOCK_SUFFIX)):
        engine = _sqlite_migration_engine(database.url, path)
        try:
            async with engine.begin() as connection:
                yield connection
                await connection.run_sync(_check_foreign_keys)
        finally:
            await engine.dispose()


def _sqlite_migration_engine(url: URL, path: Path) -> AsyncEngine:
    # NullPool: the one connection is closed at the end instead of kept with foreign keys off.
    engine = create_async_engine(url, poolclass=NullPool, **ENGINE_OPTIONS)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        configure_sqlite_connection(dbapi_connection, path, foreign_keys=False)
        # The driver then neither opens transactions nor commits by itself: `on_begin` decides.
        dbapi_connection.isolation_level = None

    def on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock now, so that what the migration reads (the version row)
        # cannot change before it writes.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)
    return engine


def _check_foreign_keys(connection: Connection) -> None:
    # The check reads every table, so it runs only when a migration wrote something (every one at
    # least moves the version row; the connection is new, so its count of changed rows is this run's).
    if not connection.exec_driver_sql("SELECT total_changes()").scalar():
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise MigrationError(f"the migration left rows whose foreign keys point nowhere, in: {', '.join(tables)}")


@asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    """An exclusive flock on `path`, waited for without blocking the event loop or a thread (polling
    keeps the wait cancellable)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
            await asyncio.sleep(LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(descriptor)  # closing the file releases the lock
