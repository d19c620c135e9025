"""A throwaway PostgreSQL cluster for the tests, started from the machine's binaries.

The server refuses to run as root, so as root the cluster is created in a folder owned by the
`postgres` system user and run through `runuser`.
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text

from bot.sandbox.server import free_port
from storage.database import Database


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL server binaries not found: `apt-get install -y postgresql` (.ci/run does this)")


class PostgresCluster:
    """One cluster for a whole test run: started by the first process (xdist's controller, or pytest
    alone), used by every worker through the port it is told."""

    def __init__(self, port: int | None = None) -> None:
        self.bin = _binaries()
        self.root = Path(tempfile.mkdtemp(prefix="diary-pg-")) if port is None else Path()
        self.port = port or free_port()
        self._names = itertools.count(1)
        self._as_root = os.geteuid() == 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=self.root)

    def start(self) -> None:
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        data = str(self.root / "data")
        self._run(str(self.bin / "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.resume()

    def resume(self) -> None:
        """Start the server of a cluster made by `start` (again, after `pause`)."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            # A test that makes a deadlock on purpose lets the bot's side find it: found by whichever waiter checks
            # first after the cycle closes, 1 s on a loaded machine was too short a while for the test to close it.
            "-c deadlock_timeout=3s"
        )
        data = str(self.root / "data")
        self._run(str(self.bin / "pg_ctl"), "-D", data, "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def pause(self) -> None:
        """Stop the server, keeping its data, as a clinic's PostgreSQL restart does."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def create_database(self, template: str | None = None) -> str:
        """A new database, empty or a copy of `template` (a database of this cluster nobody is connected to)."""
        name = f"diary_{os.getpid()}_{next(self._names)}"
        connection = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
        try:
            await connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        finally:
            await connection.close()
        return self.url(name)


async def waiting_for_a_lock(database: Database, transaction: asyncio.Task[Any], timeout: float = 30) -> bool:
    """Whether `transaction` comes to wait for a lock another transaction holds in `database` (PostgreSQL's
    pg_stat_activity says so) rather than ending first: once it waits, it is sure to have met the lock."""
    deadline = asyncio.get_running_loop().time() + timeout
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while not transaction.done():
        async with database.session() as session:
            if (await session.exec(waiting)).scalar_one():
                return True
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)
    return False
