"""The Alembic migrations build exactly the tables the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage import migrate
from storage.database import Database


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
