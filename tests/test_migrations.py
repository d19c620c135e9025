"""The Alembic migrations build exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
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
