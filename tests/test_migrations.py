"""The Alembic migrations build exactly the tables the models describe."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage import migrate
from storage.database import Database

ROOT = Path(__file__).resolve().parent.parent


async def test_migrations_match_models(database_url: str) -> None:
    database = Database(database_url)
    await migrate.upgrade(database)
    await migrate.upgrade(database)  # idempotent: a second start changes nothing

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
    await database.dispose()


async def test_a_database_at_head_is_recognised_without_alembic(database_url: str, tmp_path: Path) -> None:
    """Commands skip Alembic (and its import) when the schema is at the newest revision: that revision,
    read from the migration files' own lines, is the one Alembic finds, and any other version row goes
    through Alembic as before."""
    assert migrate.head_revision() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    database = Database(database_url)
    try:
        await migrate.upgrade(database, "0008")
        assert not await migrate.at_head(database)
        await migrate.upgrade(database)
        assert await migrate.at_head(database)
    finally:
        await database.dispose()
    fresh = Database(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert not await migrate.at_head(fresh), "no version table yet"
    finally:
        await fresh.dispose()


def test_a_downgrade_on_sqlite_keeps_the_highest_patient_id_ever_given(tmp_path: Path) -> None:
    """0012 made SQLite remember the highest id ever given, so an erased patient's id is never given again
    (their cards, buttons and exports name it). A downgrade that rebuilt the table forgot it."""
    path = tmp_path / "diary.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}

    def alembic(*argv: str) -> None:
        subprocess.run([sys.executable, "-m", "alembic", *argv], cwd=ROOT, env=env, check=True, capture_output=True)

    alembic("upgrade", "head")
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.executemany(
            "INSERT INTO patient (code, language, timezone, status, created_at) VALUES (?, 'en', 'UTC', 'active', ?)",
            [(f"P-{n}", "2026-11-01 09:00:00") for n in (1, 2, 3)],
        )
        connection.execute("DELETE FROM patient WHERE code = 'P-3'")  # erased
    alembic("downgrade", "0016")
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'patient'").fetchone() == (3,)
