from __future__ import annotations

import enum
import gc
import hashlib
import json
import os
import pickle
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.diary import chart
from storage import migrate
from storage.database import Database
from tests.harness import Diary, running_diary
from tests.postgres import PostgresCluster

# Where the shell sets PYTHONDONTWRITEBYTECODE=1 (as on the 2-core test machines), every process the run starts
# compiled SQLAlchemy, pydantic, Telegram and the bot from source again: each xdist worker (some 5 s of CPU) and
# each bot process a test starts (some 2 s of its 3.5). Set here, before the workers start, so that all of them
# inherit it: the bytecode is kept in .pytest_cache/pycache, beside no source file, and read back while its
# source is unchanged.
if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "pycache")

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The longest tests first: started last, one of them would keep a worker busy while the other idles.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# Python's cycle collector walked, again and again, the objects a test process keeps for good (modules, the
# collected tests, SQLAlchemy's, Telegram's and matplotlib's classes): a seventh of an end-to-end test file's
# CPU time. In larger batches from here on, and once the tests are collected, without what exists by then;
# what the tests leave behind is collected as before.
gc.set_threshold(20_000, 20, 20)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.freeze()


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
    """Every storage and end-to-end test runs on SQLite and on a real PostgreSQL server. A running bot's
    database, and that of a test marked `migrated` (whose fixtures migrate it before anything else), starts
    as a first start of the bot leaves it; any other starts empty."""
    migrated = "diary" in request.fixturenames or request.node.get_closest_marker("migrated") is not None
    if request.param == "sqlite":
        path = tmp_path / "diary.db"
        if migrated:
            await _as_after_first_start(path, request.getfixturevalue("tmp_path_factory"))
        return SQLITE + str(path)
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    if migrated:
        return await cluster.create_database(template=await _postgres_after_first_start(cluster))
    return await cluster.create_database()


@pytest.fixture
async def diary(database_url: str, tmp_path: Path) -> AsyncIterator[Diary]:
    async with running_diary(database_url, tmp_path / "files") as running:
        yield running


SQLITE = "sqlite:///"
_migrated: list[Path] = []  # this worker's SQLite file at the newest revision, made once


async def _as_after_first_start(path: Path, folders: pytest.TempPathFactory) -> None:
    """The SQLite file a first start of the bot leaves, copied: migrating a new file takes a third of a
    second, a copy a millisecond, over some 170 end-to-end tests. The bot still runs its migrations at
    every start (they find the schema at its newest revision); tests/test_migrations.py and
    tests/test_storage_safety.py migrate new files of their own."""
    if not _migrated:
        template = folders.mktemp("migrated") / "diary.db"
        database = Database(SQLITE + str(template))
        try:
            await migrate.upgrade(database)
        finally:
            await database.dispose()
        _migrated.append(template)
    shutil.copyfile(_migrated[0], path)


_migrated_postgres: list[str] = []  # the name of this worker's PostgreSQL database at the newest revision


async def _postgres_after_first_start(cluster: PostgresCluster) -> str:
    """As for SQLite: a database migrated once per worker, copied by PostgreSQL for each test (a copy
    costs what an empty database does; migrating one, a third of a second)."""
    if not _migrated_postgres:
        url = await cluster.create_database()
        database = Database(url)
        try:
            await migrate.upgrade(database)
        finally:
            await database.dispose()
        _migrated_postgres.append(url.rsplit("/", 1)[1])
    return _migrated_postgres[0]


def _drawn_once(render: Any) -> Any:
    """`chart.render_png`, keeping what it drew for the same data, words and zone: the harness's clock starts
    at one instant and its patients answer alike, so three alert cards in four repeat a chart an earlier test
    drew (a sixth of an end-to-end test's time is drawing, 0.17 s a chart). Drawing depends on nothing else,
    so each test still gets the very bytes it would have drawn; tests/test_charts.py draws what it checks."""
    drawn: dict[str, bytes] = {}

    def render_png(data: chart.ChartData, labels: Any, *, timezone: str) -> bytes:
        key = hashlib.sha256(pickle.dumps((data, dict(labels), timezone))).hexdigest()
        if key not in drawn:
            if len(drawn) >= 200:  # a few megabytes at most
                drawn.pop(next(iter(drawn)))
            drawn[key] = render(data, labels, timezone=timezone)
        return drawn[key]

    return render_png


chart.render_png = _drawn_once(chart.render_png)


# -- which SQL each test runs on PostgreSQL (DIARY_RECORD_SQL=folder): to show that a flow tested on
# SQLite only leaves no statement untried on PostgreSQL (tests/postgres_statements.py compares runs).

_RECORD_SQL = os.environ.get("DIARY_RECORD_SQL")
_statements: dict[str, set[str]] = {}
_current: list[str] = [""]


_PLACEHOLDER = re.compile(r"\$\d+::(TIMESTAMP WITH TIME ZONE|[A-Z]+)")
_IN_LIST = re.compile(r"(\$::(?:TIMESTAMP WITH TIME ZONE|[A-Z]+))(?:, \1)+")


def _shape(statement: str, parameters: Any, executemany: bool) -> str:
    """A statement as run, without what varies between runs of it (whitespace, the numbers of its
    placeholders, the length of IN lists), with the types of its values: PostgreSQL, unlike SQLite,
    refuses a value of the wrong type."""
    statement = _IN_LIST.sub(r"\1", _PLACEHOLDER.sub(r"$::\1", re.sub(r"\s+", " ", statement).strip()))
    first = parameters[0] if executemany and parameters else parameters
    values = first.values() if isinstance(first, dict) else first or ()
    types = sorted({type(v.value if isinstance(v, enum.Enum) else v).__name__ for v in values})  # an enum as sent
    return f"{statement}  -- {' '.join(types)}" if types else statement


if _RECORD_SQL:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def _record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if conn.dialect.name == "postgresql" and _current[0]:
            _statements.setdefault(_current[0], set()).add(_shape(statement, parameters, executemany))

    @pytest.fixture(autouse=True)
    def _which_test(request: pytest.FixtureRequest) -> Iterator[None]:
        _current[0] = request.node.nodeid
        yield
        _current[0] = ""

    def pytest_sessionfinish(session: pytest.Session) -> None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        folder = Path(_RECORD_SQL)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{worker}.jsonl").open("w") as out:
            for test, shapes in sorted(_statements.items()):
                out.write(json.dumps({"test": test, "statements": sorted(shapes)}) + "\n")
