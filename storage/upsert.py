"""INSERT ... ON CONFLICT for whichever backend the session is on (both SQLite and PostgreSQL have it)."""

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession


def insert(session: AsyncSession, table: Any) -> Any:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
