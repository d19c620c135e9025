"""Engine and session factory, chosen by DATABASE_URL: SQLite (WAL) by default, PostgreSQL for clinics.

The SQLite file holds health data, so it is kept private whatever the process's umask: its folder is
created 0700, the file is created 0600 before SQLite opens it, and the file and its -wal/-shm are set
to 0600 on every connect (which also tightens a database made by an older version at 0644).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)
# aiosqlite logs every call it hands to its thread at DEBUG, statements' parameters included, so
# `run --verbose` would print patients' notes. Storage never wants those records, verbose or not.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
# The files SQLite keeps beside the database, and the lock storage.migrate takes there.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
MIGRATE_LOCK_SUFFIX = ".migrate.lock"

# Every engine is made with these. Statements' parameters are patients' answers, notes and messages:
# hidden, a database error in a log says which statement failed but not with what. No echo either.
ENGINE_OPTIONS: dict[str, Any] = {"hide_parameters": True, "echo": False}


# PostgreSQL's codes for a transaction it failed to end a deadlock or a conflict with another (their
# locks taken in opposite orders): run again, it goes through. asyncpg's errors carry no class that says so.
TRY_AGAIN = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def database_away(error: object) -> bool:
    """The database did not answer, or failed the transaction to let another go on (not a bug of ours): the
    same statement may well work in a moment.

    Broad on purpose: an OperationalError is also what a lasting fault of one statement raises (SQLite's
    'no such column', a PostgreSQL statement time-out), but telling the two apart by the driver's words
    (which PostgreSQL translates) would sooner or later take an outage for a fault and drop what waits for
    the database. Callers that retry cap it instead (bot/delivery/inbox.py)."""
    if isinstance(error, DBAPIError) and (
        error.connection_invalidated or getattr(error.orig, "sqlstate", None) in TRY_AGAIN
    ):
        return True
    return isinstance(error, OperationalError | InterfaceError | PoolTimeout | ConnectionError | TimeoutError)


def async_url(database_url: str) -> URL:
    """Accept the URLs people write (sqlite:///..., postgresql://...) and pick the async driver."""
    url = make_url(database_url)
    if url.drivername in ("sqlite", "sqlite+aiosqlite"):
        return url.set(drivername="sqlite+aiosqlite")
    if url.drivername in ("postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"):
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {url.drivername!r}: use sqlite:/// or postgresql://")


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return Path(url.database)


def create_private_file(path: Path) -> None:
    """An empty `path`, readable and writable by the owner only, in place of whatever was there.

    Callers then open it as usual: opening an existing file keeps its mode, so what they write stays
    private whatever the umask.
    """
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE)  # the umask may have taken bits from the mode given to open
    finally:
        os.close(descriptor)


def private_folder(folder: Path, database: Path) -> None:
    """Create `folder` (and any missing parents) 0700, or tighten it if it is one the bot made.

    An existing folder is tightened only when it is ours and holds nothing but this database's files:
    what an older version created at 0755. Any other folder (the working directory, /tmp, a folder
    an operator shares with a backup agent) is left as it is, with a warning when others can enter it.
    """
    missing = [parent for parent in (folder, *folder.parents) if not parent.exists()]
    for parent in reversed(missing):
        try:
            os.mkdir(parent, PRIVATE_FOLDER)
        except FileExistsError:  # another process starting at the same moment made it
            continue
        os.chmod(parent, PRIVATE_FOLDER)  # mkdir's mode is filtered through the umask
    if folder in missing:
        return
    status = folder.stat()
    if not status.st_mode & 0o077:
        return
    ours = {database.name + suffix for suffix in ("", *SQLITE_COMPANIONS, MIGRATE_LOCK_SUFFIX)}
    if status.st_uid == os.geteuid() and all(entry.name in ours for entry in folder.iterdir()):
        os.chmod(folder, PRIVATE_FOLDER)
        log.info("made the database folder private (0700)")
        return
    log.warning(
        "the database's folder %s is open to other users (mode %03o); its files are 0600, but consider chmod 700 on it",
        folder,
        stat.S_IMODE(status.st_mode),
    )


def prepare_sqlite_file(path: Path) -> None:
    """Make the folder private and create the database file 0600 before SQLite does (it would use 0644)."""
    private_folder(path.absolute().parent, path)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        return
    # An empty file is an empty SQLite database: the first connection writes its header.
    os.fchmod(descriptor, PRIVATE_FILE)
    os.close(descriptor)


def keep_sqlite_files_private(path: Path) -> None:
    """Set the database and the files SQLite keeps beside it to 0600 (SQLite gives -wal and -shm the
    database's mode when it creates them, but files left from an older version keep theirs)."""
    for name in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        try:
            mode = stat.S_IMODE(name.stat().st_mode)
            if mode & 0o077:
                os.chmod(name, PRIVATE_FILE)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("%s is open to other users and not ours to change: chmod 600 it", name)


def configure_sqlite_connection(dbapi_connection: Any, path: Path | None, *, foreign_keys: bool = True) -> None:
    """What every SQLite connection needs, run on connect. Migrations ask for foreign keys off (see
    storage.migrate)."""
    cursor = dbapi_connection.cursor()
    # First, so that a second process opening the database waits instead of failing with "locked".
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across process crashes in WAL mode; only a power cut may lose the last commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    cursor.close()
    if path is not None:
        keep_sqlite_files_private(path)


class Database:
    """Owns the engine. `session()` gives a unit of work that commits on success."""

    def __init__(self, database_url: str) -> None:
        self.url = async_url(database_url)
        if self.is_sqlite:
            path = sqlite_path(self.url)
            if path is not None:
                prepare_sqlite_file(path)
            # One connection: SQLite serialises writers anyway, and one connection means no
            # "database is locked" races between our own coroutines.
            #
            # The driver's own transaction handling stays (BEGIN before the first write, reads
            # outside): a unit of work that reads, then writes waits for the write lock with the busy
            # timeout instead of failing with SQLITE_BUSY when another process (a command-line
            # command, a backup) wrote in between, which an explicit BEGIN at the start would risk.
            # Only migrations, whose DDL the driver would otherwise run outside any transaction, open
            # their own transaction (storage.migrate).
            self.engine: AsyncEngine = create_async_engine(
                self.url, pool_size=1, max_overflow=0, pool_timeout=60, **ENGINE_OPTIONS
            )

            def on_connect(dbapi_connection: Any, _record: Any) -> None:
                configure_sqlite_connection(dbapi_connection, path)

            event.listen(self.engine.sync_engine, "connect", on_connect)
        else:
            # READ COMMITTED whatever the database's default: a migration's first statement waits for
            # the advisory lock, and under REPEATABLE READ or SERIALIZABLE that statement would fix the
            # snapshot before the process that held the lock committed; the claims the bot makes
            # (UPDATE ... WHERE, FOR UPDATE SKIP LOCKED) are also written for READ COMMITTED.
            self.engine = create_async_engine(
                self.url,
                pool_size=10,
                max_overflow=10,
                pool_pre_ping=True,
                isolation_level="READ COMMITTED",
                **ENGINE_OPTIONS,
            )
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
