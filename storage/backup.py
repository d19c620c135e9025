"""A consistent copy of the SQLite database while the bot keeps running.

SQLite's online backup API copies the pages of one read transaction, so the copy is the database as
of one instant even while the bot writes (WAL mode lets both go on). PostgreSQL has its own tool:
pg_dump (README, "Backups").

The copy is health data like the database: it is created 0600 whatever the umask.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.database import create_private_file


class BackupError(Exception):
    pass


def sqlite_copy(database_url: str, target: Path) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "DATABASE_URL is PostgreSQL: back it up with pg_dump, e.g. pg_dump --format=custom --file=diary.dump "
            '"$DATABASE_URL" (README, "Backups")'
        )
    source_path = Path(url.database or "")
    if not source_path.is_file():
        raise BackupError(f"{source_path}: no database file there")
    if target.resolve() == source_path.resolve():
        raise BackupError(f"{target}: that is the database itself")
    partial = target.with_name(target.name + ".partial")
    try:
        # SQLite would create the file with 0644; an existing empty file is an empty database to it.
        create_private_file(partial)
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)  # all pages in one step: one consistent snapshot
                (ok,) = copy.execute("PRAGMA integrity_check").fetchone()
                if ok != "ok":
                    raise BackupError(f"{target}: the copy failed its integrity check ({ok})")
            finally:
                copy.close()
        finally:
            source.close()
        partial.replace(target)
    except (sqlite3.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{target}: backup failed ({error})") from None
