from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.harness import Diary, running_diary
from tests.postgres import PostgresCluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage and end-to-end test runs on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'diary.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return await cluster.create_database()


@pytest.fixture
async def diary(database_url: str, tmp_path: Path) -> AsyncIterator[Diary]:
    async with running_diary(database_url, tmp_path / "files") as running:
        yield running
