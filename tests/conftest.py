from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.harness import Diary, running_diary
from tests.postgres import PostgresCluster

# The throwaway PostgreSQL cluster is started once per run, before xdist starts its workers (they
# inherit this variable), and stopped when the run ends.
CLUSTER_PORT = "DIARY_TEST_POSTGRES_PORT"
_OWN_CLUSTER = pytest.StashKey[PostgresCluster]()


def pytest_configure(config: pytest.Config) -> None:
    # `-m "not postgres"` (make test-fast) runs no test that needs it: no cluster to wait for.
    wanted = config.getoption("markexpr") != "not postgres"
    if wanted and not hasattr(config, "workerinput") and CLUSTER_PORT not in os.environ:
        cluster = PostgresCluster()
        cluster.start()
        config.stash[_OWN_CLUSTER] = cluster
        os.environ[CLUSTER_PORT] = str(cluster.port)


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = config.stash.get(_OWN_CLUSTER, None)
    if cluster is not None:
        cluster.stop()
        os.environ.pop(CLUSTER_PORT, None)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    yield PostgresCluster(port=int(os.environ[CLUSTER_PORT]))


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
