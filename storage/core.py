"""Core statements on a session's connection: the hot paths' way past the ORM's per-row work."""

from typing import Any

from sqlalchemy import CursorResult, Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession


def insert(session: AsyncSession, table: Any) -> Any:
    """INSERT with ON CONFLICT for whichever backend the session is on (SQLite and PostgreSQL have it)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def execute(
    session: AsyncSession, statement: Executable, parameters: list[dict[str, Any]] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """Run a Core statement in the session's transaction (with a list of parameter sets: executemany)."""
    connection = await session.connection()
    return await connection.execute(statement, parameters)
