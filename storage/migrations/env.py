"""Alembic environment. Runs on a connection handed over by storage.migrate, or opens one from DATABASE_URL."""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)
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
    async with database.engine.connect() as connection:
        await connection.run_sync(run_on)
        await connection.commit()
    await database.dispose()


shared = context.config.attributes.get("connection")
if shared is not None:
    run_on(shared)
else:
    asyncio.run(run_from_environment())
