"""`python -m bot doctor` against the loopback stand-in and a real database (SQLite and PostgreSQL): all
checks pass on a good set-up, and each failure, injected alone, fails its own line (with a fix) and
nothing else; exit status 0, 1, or 2 for a bad configuration."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import Settings, load_settings
from bot.doctor import Check, run_checks
from bot.sandbox import BotApiStandIn, SimulatedUser
from storage import clinic_settings, migrate, staff
from storage.database import Database
from tests.cli import run_cli

GROUP = -4001
ADMIN = 900


@dataclass
class Installation:
    standin: BotApiStandIn
    database_url: str
    tmp_path: Path
    overrides: dict[str, object]

    def settings(self) -> Settings:
        values: dict[str, object] = {
            "telegram_bot_token": self.standin.token,
            "telegram_api_base_url": self.standin.url,
            "database_url": self.database_url,
            "admin_telegram_ids": "",
        }
        return load_settings(_env_file=None, **(values | self.overrides))

    @property
    def sqlite_file(self) -> Path | None:
        return Path(self.database_url.removeprefix("sqlite:///")) if self.database_url.startswith("sqlite") else None


@asynccontextmanager
async def installation(database_url: str, tmp_path: Path) -> AsyncIterator[Installation]:
    """A good installation: migrated, one admin, a staff group the bot is in (chosen with /staffchat)."""
    standin = BotApiStandIn()
    await standin.start()
    standin.add_group(GROUP, "Clinic staff", [ADMIN])
    database = Database(database_url)
    await migrate.upgrade(database)
    now = datetime.now(UTC)
    async with database.session() as session:
        await staff.add(session=session, telegram_user_id=ADMIN, role="admin", now=now)
        await clinic_settings.put(session=session, name="staff_chat_id", value=str(GROUP), now=now)
    await database.dispose()
    try:
        yield Installation(standin, database_url, tmp_path, {})
    finally:
        await standin.stop()


@pytest.fixture
async def installed(database_url: str, tmp_path: Path) -> AsyncIterator[Installation]:
    async with installation(database_url, tmp_path) as done:
        yield done


async def on_database(i: Installation, statement: str) -> None:
    database = Database(i.database_url)
    async with database.session() as session:
        await session.exec(text(statement))  # type: ignore[call-overload]
    await database.dispose()


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def failing(checks: list[Check]) -> list[str]:
    return [check.name for check in checks if not check.ok]


async def test_a_good_installation_passes_every_check_and_exits_0(installed: Installation) -> None:
    checks = await run_checks(installed.settings())
    assert failing(checks) == [], [c.line() for c in checks]
    names = [c.name for c in checks]
    for expected in ("database", "admins", "rules", "crisis texts", "token", "staff chat", "webhook", "clock"):
        assert expected in names
    assert "“Clinic staff” (-4001, chosen with /staffchat)" in by_name(checks)["staff chat"].detail
    assert "@crps_diary_bot" in by_name(checks)["token"].detail

    env = {
        "TELEGRAM_BOT_TOKEN": installed.standin.token,
        "TELEGRAM_API_BASE_URL": installed.standin.url,
        "DATABASE_URL": installed.database_url,
    }
    done = await asyncio.to_thread(run_cli, "doctor", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "all checks passed" and all(line.startswith("ok    ") for line in lines[:-1])
    assert installed.standin.token not in done.stdout


async def refuse_token(i: Installation) -> None:
    i.overrides["telegram_bot_token"] = "999:not-the-bots-token"


async def telegram_unreachable(i: Installation) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    i.overrides["telegram_api_base_url"] = f"http://127.0.0.1:{port}"


async def another_bots_username(i: Installation) -> None:
    i.overrides["telegram_bot_username"] = "some_other_bot"


async def no_staff_chat(i: Installation) -> None:
    await on_database(i, "DELETE FROM clinicsetting")


async def bot_not_in_the_staff_chat(i: Installation) -> None:
    i.standin.set_bot_status(GROUP, "left")


async def bot_may_not_post(i: Installation) -> None:
    i.standin.set_bot_status(GROUP, "restricted")


async def staff_chat_became_a_supergroup(i: Installation) -> None:
    i.standin.migrate_to_supergroup(GROUP, -1004001, by=SimulatedUser(i.standin, ADMIN, "Ada"))


async def no_admin(i: Installation) -> None:
    await on_database(i, "DELETE FROM staffmember")


async def migrations_behind(i: Installation) -> None:
    await on_database(i, "UPDATE alembic_version SET version_num = '0009'")


async def database_unreachable(i: Installation) -> None:
    if i.sqlite_file is not None:
        i.overrides["database_url"] = f"sqlite:///{i.tmp_path / 'elsewhere' / 'diary.db'}"
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    i.overrides["database_url"] = f"postgresql://diary:secret@127.0.0.1:{port}/diary"


async def webhook_set_while_polling(i: Installation) -> None:
    i.standin.webhook = {"url": "https://old-server.example/telegram", "secret_token": None}


async def webhook_elsewhere(i: Installation) -> None:
    i.overrides |= {"webhook_url": "https://clinic.example/telegram", "webhook_secret": "s" * 20}
    i.standin.webhook = {"url": "https://old-server.example/telegram", "secret_token": None}


async def clock_ten_minutes_off(i: Installation) -> None:
    i.standin.clock = lambda: time.time() - 600


def crisis_texts_in_english_only(folder: Path) -> Path:
    folder.mkdir()
    source = Path("prompts/crisis/replies/en.yaml")
    (folder / "en.yaml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


FAILURES: dict[str, tuple[Callable[[Installation], Awaitable[None]], list[str], str]] = {
    # injected failure: (how, the lines that fail, words of the first failing line's fix)
    "token refused": (refuse_token, ["token", "staff chat", "webhook", "clock"], "@BotFather"),
    "Telegram unreachable": (telegram_unreachable, ["token", "staff chat", "webhook", "clock"], "network"),
    "another bot's username": (another_bots_username, ["token", "staff chat", "webhook", "clock"], "TELEGRAM_BOT_"),
    "no staff chat": (no_staff_chat, ["staff chat"], "send /staffchat"),
    "bot not in the staff chat": (bot_not_in_the_staff_chat, ["staff chat"], "add the bot"),
    "bot may not post": (bot_may_not_post, ["staff chat"], "permissions"),
    "staff chat became a supergroup": (staff_chat_became_a_supergroup, ["staff chat"], "/staffchat"),
    "no admin": (no_admin, ["admins"], "ADMIN_TELEGRAM_IDS"),
    "migrations behind": (migrations_behind, ["database"], "alembic upgrade head"),
    "database unreachable": (database_unreachable, ["database", "admins", "staff chat"], "DATABASE_URL"),
    "webhook set while polling": (webhook_set_while_polling, ["webhook"], "removes it"),
    "webhook elsewhere": (webhook_elsewhere, ["webhook"], "registers WEBHOOK_URL"),
    "clock off": (clock_ten_minutes_off, ["clock"], "time synchronisation"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_each_failure_fails_its_own_line_with_a_fix(installed: Installation, failure: str) -> None:
    inject, lines, fix = FAILURES[failure]
    await inject(installed)
    checks = await run_checks(installed.settings())
    assert failing(checks) == lines, [c.line() for c in checks]
    first = by_name(checks)[lines[0]]
    assert fix in first.fix, first.line()
    assert "secret" not in "\n".join(c.line() for c in checks), "no password from DATABASE_URL"


async def test_a_sqlite_file_others_can_read_fails(tmp_path: Path) -> None:
    async with installation(f"sqlite:///{tmp_path / 'diary.db'}", tmp_path) as installed:
        assert installed.sqlite_file is not None
        os.chmod(installed.sqlite_file, 0o644)
        checks = await run_checks(installed.settings())
        assert failing(checks) == ["database file"]
        assert "0644" in by_name(checks)["database file"].detail
        assert f"chmod 600 {installed.sqlite_file}" in by_name(checks)["database file"].fix
        checks = await run_checks(installed.settings())
        assert failing(checks) == [], "every connection makes it private again, as the bot does"


async def test_a_language_without_a_crisis_text_fails(installed: Installation) -> None:
    folder = crisis_texts_in_english_only(installed.tmp_path / "crisis")
    # Settings refuses such a folder (run stops); run_checks stands on its own and says so too.
    settings = installed.settings().model_copy(update={"crisis_texts_dir": folder})
    checks = await run_checks(settings)
    assert failing(checks) == ["crisis texts"] and "es" in by_name(checks)["crisis texts"].detail


async def test_exit_1_when_a_check_fails_and_2_for_a_bad_configuration(installed: Installation) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": installed.standin.token,
        "TELEGRAM_API_BASE_URL": installed.standin.url,
        "DATABASE_URL": installed.database_url,
    }
    installed.standin.set_bot_status(GROUP, "kicked")
    done = await asyncio.to_thread(run_cli, "doctor", **env)
    assert done.returncode == 1
    assert "FAIL  staff chat: “Clinic staff” (-4001, chosen with /staffchat)" not in done.stdout  # not reachable
    assert "FAIL  staff chat: -4001 (chosen with /staffchat)" in done.stdout and "      fix: " in done.stdout
    count = 9 if installed.sqlite_file else 8  # SQLite: and its file's mode
    assert done.stdout.splitlines()[-1] == f"1 of {count} checks failed"

    rules = installed.tmp_path / "rules.yaml"
    rules.write_text("severe_pain:\n  consecutive: 0\n", encoding="utf-8")
    bad = await asyncio.to_thread(run_cli, "doctor", **env, RULES_FILE=str(rules))
    assert bad.returncode == 2 and "severe_pain.consecutive" in bad.stderr and bad.stdout == ""


# Their databases are migrated before anything else: a copy of one migrated once per worker (conftest.py).
pytestmark = pytest.mark.migrated
