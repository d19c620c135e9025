"""Alembic environment. Runs on a connection handed over by storage.migrate, or opens one from DATABASE_URL.

Either way the connection comes from storage.migrate.migration_connection: one transaction under the
migration lock, on an engine that hides statements' parameters (so `uv run alembic upgrade head` by
hand is as atomic, as safe beside a running bot and as quiet in its errors as a start of the bot).
"""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage import (
    migrate,
    models,  # noqa: F401  (registers the tables on SQLModel.metadata)
)
from storage.database import Database

target_metadata = SQLModel.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_environment() -> None:
    database = Database(os.environ.get("DATABASE_URL", "sqlite:///./data/diary.db"))
    try:
        async with migrate.migration_connection(database) as connection:
            await connection.run_sync(run_on)
    finally:
        await database.dispose()


shared = context.config.attributes.get("connection")
if shared is not None:
    run_on(shared)
else:
    asyncio.run(run_from_environment())
