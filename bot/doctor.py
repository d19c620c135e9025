"""`python -m bot doctor`: is this installation ready? One line per check, each failure with its fix.

Read-only: nothing is migrated, sent or stored (connecting to a SQLite database tightens its mode to
0600, as every command does). Talks to the Bot API directly (aiohttp), so a refused token never
reaches a library's error message, and Telegram's Date header can be read for the clock check.
A bad configuration (a broken rules file, a language without a crisis text) stops before any check,
with exit status 2, as for every command: `load_settings` refuses it.
"""

from __future__ import annotations

import asyncio
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from bot.config import Settings, catalog_languages

# Schedules, check-in windows and reminders run on this server's clock; message dates on Telegram's.
MAX_CLOCK_SKEW_SECONDS = 10
PRIVATE_BITS = 0o077  # group and others: the database holds health data
# No connection, a time-out, or something other than the Bot API's JSON (a proxy's error page).
UNANSWERED = (aiohttp.ClientError, TimeoutError, ValueError)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""  # one line: what to do when it failed

    def line(self) -> str:
        if self.ok:
            return f"ok    {self.name}: {self.detail}"
        return f"FAIL  {self.name}: {self.detail}\n      fix: {self.fix}"


@dataclass(frozen=True)
class TelegramAnswer:
    status: int
    body: dict[str, Any]
    date: datetime | None  # the response's Date header
    rtt: float  # seconds the request took

    @property
    def result(self) -> Any:
        return self.body.get("result") if self.body.get("ok") else None

    @property
    def description(self) -> str:
        return str(self.body.get("description") or f"HTTP {self.status}")


class BotApi:
    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self._base = f"{settings.bot_api_url}{settings.token}/"
        self._session = session

    async def call(self, method: str, **params: Any) -> TelegramAnswer:
        started = time.monotonic()
        async with self._session.post(self._base + method, json=params) as response:
            body = await response.json(content_type=None)
            header = response.headers.get("Date")
        date = parsedate_to_datetime(header) if header else None
        return TelegramAnswer(response.status, body if isinstance(body, dict) else {}, date, time.monotonic() - started)


async def run_checks(settings: Settings, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[Check]:
    """Every check, in the order an installer fixes them."""
    checks = [*await database_checks(settings), rules_check(settings), crisis_texts_check(settings)]
    checks += await telegram_checks(settings, clock=clock)
    return checks


# ---------------------------------------------------------------------------------------- database


async def database_checks(settings: Settings) -> list[Check]:
    """Reachable, its files private (SQLite), migrations at head, at least one admin known."""
    from storage.database import Database, async_url, sqlite_path

    url = async_url(settings.database_url)
    checks: list[Check] = []
    path = sqlite_path(url) if url.get_backend_name() == "sqlite" else None
    if path is not None:
        if not path.exists():
            fix = "check DATABASE_URL, or start the bot once (python -m bot run) to create it"
            return [Check("database", False, f"no database file at {path}", fix), _not_checked("admins")]
        mode = stat.S_IMODE(path.stat().st_mode)  # before connecting: a connection tightens it
        private = not mode & PRIVATE_BITS
        detail = f"{path} is {mode:04o}" + ("" if private else ", readable by other users of this server")
        checks.append(Check("database file", private, detail, f"chmod 600 {path} (and chmod 700 its folder)"))
    database = Database(settings.database_url)
    try:
        checks += [await _migrations(database), await _admins(database, settings)]
    except Exception as error:  # unreachable: the reason, never the URL (it may hold a password)
        reason = str(error).splitlines()[0][:160] if str(error) else ""
        fix = "check DATABASE_URL, that the server runs and accepts this user, and the network between them"
        checks += [Check("database", False, f"does not answer ({type(error).__name__}: {reason})", fix)]
        checks.append(_not_checked("admins"))
    finally:
        await database.dispose()
    return checks


async def _migrations(database: Any) -> Check:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    async with database.engine.connect() as connection:
        current = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    where = "SQLite" if database.is_sqlite else "PostgreSQL"
    if current == head:
        return Check("database", True, f"{where}, schema at {head}")
    fix = "python -m bot run applies them at start (or: uv run alembic upgrade head)"
    return Check("database", False, f"{where}, schema at {current or 'nothing'}, this version needs {head}", fix)


async def _admins(database: Any, settings: Settings) -> Check:
    from storage import staff

    async with database.session() as session:
        known = set(await staff.admins(session=session)) | set(settings.admin_telegram_ids)
    if known:
        return Check("admins", True, f"{len(known)} known")
    fix = (
        "set ADMIN_TELEGRAM_IDS to your Telegram user id (@userinfobot shows it), or: python -m bot staff add ID admin"
    )
    return Check("admins", False, "nobody is admin: no one can run /staffchat, /staff or /schedule", fix)


def _not_checked(name: str, why: str = "the database did not answer") -> Check:
    return Check(name, False, f"not checked: {why}", "fix the line above first")


# ---------------------------------------------------------------------------------------- files


def rules_check(settings: Settings) -> Check:
    from bot.alerts.rules import RULE_NAMES, RulesError, load_rules

    try:
        rules = load_rules(settings.rules_file)  # Settings refuses a broken file; checked again for run_checks
    except RulesError as error:
        return Check("rules", False, str(error), f"correct {settings.rules_file} (see prompts/rules.yaml)")
    enabled = sum(getattr(rules, name).enabled for name in RULE_NAMES)
    return Check("rules", True, f"{settings.rules_file}: {enabled} of {len(RULE_NAMES)} rules on")


def crisis_texts_check(settings: Settings) -> Check:
    from bot.alerts.crisis_texts import CrisisTexts

    languages = catalog_languages()
    missing = CrisisTexts.load(settings.crisis_texts_dir).missing(languages)
    if missing:  # Settings refuses this too; checked again so that run_checks stands on its own
        fix = f"write {settings.crisis_texts_dir}/{missing[0]}.yaml with the emergency number of each country"
        return Check("crisis texts", False, f"none for {', '.join(missing)}", fix)
    return Check("crisis texts", True, f"{', '.join(languages)} in {settings.crisis_texts_dir}")


# ---------------------------------------------------------------------------------------- Telegram


async def telegram_checks(settings: Settings, *, clock: Callable[[], datetime]) -> list[Check]:
    later = ["staff chat", "webhook", "clock"]
    if not settings.token:
        fix = "create a bot with @BotFather (/newbot) and set TELEGRAM_BOT_TOKEN to the token it gives"
        return [Check("token", False, "TELEGRAM_BOT_TOKEN is not set", fix)] + [
            _not_checked(name, "no token") for name in later
        ]
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        api = BotApi(settings, session)
        fix = f"check this server's network and proxy, and TELEGRAM_API_BASE_URL ({settings.telegram_api_base_url})"
        try:
            me = await api.call("getMe")
        except UNANSWERED as error:
            failed = Check("token", False, f"Telegram does not answer ({type(error).__name__})", fix)
            return [failed] + [_not_checked(name, "Telegram did not answer") for name in later]
        token = _token(me, settings)
        if not token.ok:
            return [token] + [_not_checked(name, "the token did not work") for name in later]
        checks = [token]
        for name, check in (
            ("staff chat", _staff_chat(api, settings, int(me.result["id"]))),
            ("webhook", _webhook(api, settings)),
        ):
            try:
                checks.append(await check)
            except UNANSWERED as error:
                checks.append(Check(name, False, f"Telegram stopped answering ({type(error).__name__})", fix))
        return [*checks, _clock(me, clock)]


def _token(me: TelegramAnswer, settings: Settings) -> Check:
    if me.status in (401, 404) or me.result is None:
        fix = "copy the token again from @BotFather (/mybots, API Token) into TELEGRAM_BOT_TOKEN"
        return Check("token", False, f"Telegram refused the token ({me.description})", fix)
    username = str(me.result.get("username", ""))
    if settings.telegram_bot_username and settings.telegram_bot_username.lstrip("@") != username:
        fix = f"set TELEGRAM_BOT_USERNAME={username}, or leave it empty (invite links would name another bot)"
        return Check("token", False, f"the token is @{username}'s, TELEGRAM_BOT_USERNAME says otherwise", fix)
    reads_all = me.result.get("can_read_all_group_messages")
    privacy = "privacy mode off" if reads_all else "privacy mode on (staff reply by replying to the bot's messages)"
    return Check("token", True, f"@{username} (id {me.result['id']}), {privacy}")


async def _staff_chat(api: BotApi, settings: Settings, bot_id: int) -> Check:
    from bot.care_team.staff_chat import StaffChat
    from storage.database import Database, async_url, sqlite_path

    name = "staff chat"
    url = async_url(settings.database_url)
    path = sqlite_path(url) if url.get_backend_name() == "sqlite" else None
    chat_id, source, looked = settings.staff_chat_id, "STAFF_CHAT_ID", False
    if path is None or path.exists():  # never create a database to look in it
        database = Database(settings.database_url)
        try:
            stored = await StaffChat(database, configured=None).current()
            looked = True
        except Exception:  # unreachable or not migrated: reported by the database lines
            stored = None
        finally:
            await database.dispose()
        if stored is not None:
            chat_id, source = stored, "chosen with /staffchat"
    if chat_id is None and not looked:
        return _not_checked(name, "the database did not answer, and STAFF_CHAT_ID is not set")
    if chat_id is None:
        fix = "add the bot to the clinic's staff group and send /staffchat there (as an admin)"
        return Check(name, False, "none: cards and patients' messages wait until there is one", fix)
    chat = await api.call("getChat", chat_id=chat_id)
    if chat.result is None:
        moved = (chat.body.get("parameters") or {}).get("migrate_to_chat_id")
        if moved:
            fix = "send /staffchat in the group (the bot also follows it by itself at its next message there)"
            return Check(name, False, f"{chat_id} ({source}) became the supergroup {moved}", fix)
        fix = "add the bot to the clinic's staff group and send /staffchat there"
        return Check(name, False, f"{chat_id} ({source}): {chat.description}", fix)
    title = chat.result.get("title") or chat.result.get("first_name") or ""
    shown = f"“{title}” ({chat_id}, {source})"
    member = await api.call("getChatMember", chat_id=chat_id, user_id=bot_id)
    status = (member.result or {}).get("status")
    if status in ("left", "kicked") or member.result is None:
        fix = "add the bot to the group again and send /staffchat there"
        return Check(name, False, f"{shown}: the bot is not a member ({status or member.description})", fix)
    may_post = status in ("creator", "administrator") or (
        member.result.get("can_send_messages", True)
        and (chat.result.get("permissions") or {}).get("can_send_messages", True)
    )
    if not may_post:
        fix = "let members send messages in the group's permissions, or make the bot an admin of the group"
        return Check(name, False, f"{shown}: the bot may not post there ({status})", fix)
    return Check(name, True, f"{shown}, the bot is {status}")


async def _webhook(api: BotApi, settings: Settings) -> Check:
    info = (await api.call("getWebhookInfo")).result or {}
    registered = str(info.get("url") or "")
    pending = int(info.get("pending_update_count") or 0)
    error = info.get("last_error_message")
    if settings.webhook_url:
        if registered and registered != settings.webhook_url:
            fix = "python -m bot run --webhook registers WEBHOOK_URL; stop any other server using this token"
            return Check(
                "webhook", False, f"Telegram posts to {registered}, WEBHOOK_URL is {settings.webhook_url}", fix
            )
        if error:
            fix = f"check that the proxy forwards {settings.webhook_url} to WEBHOOK_LISTEN:WEBHOOK_PORT"
            return Check("webhook", False, f"Telegram's last delivery failed: {error} ({pending} waiting)", fix)
        state = "registered" if registered else "registered at the next run --webhook"
        return Check("webhook", True, f"{settings.webhook_url} {state}, {pending} updates waiting")
    if registered:
        fix = "python -m bot run (polling) removes it at start; if another server set it, stop that one"
        return Check(
            "webhook", False, f"a webhook is set ({registered}) but WEBHOOK_URL is not: polling gets nothing", fix
        )
    return Check("webhook", True, f"none (long polling), {pending} updates waiting")


def _clock(me: TelegramAnswer, clock: Callable[[], datetime]) -> Check:
    if me.date is None:
        return Check("clock", True, "Telegram's answer carried no Date header: not compared")
    # The header is whole seconds and was written some time during the request.
    skew = (clock() - me.date).total_seconds() - me.rtt / 2
    detail = f"{abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} Telegram's"
    if abs(skew) <= MAX_CLOCK_SKEW_SECONDS + 1:
        return Check("clock", True, detail)
    fix = "turn on time synchronisation (timedatectl set-ntp true, or chrony)"
    return Check("clock", False, f"this server's clock is {detail}: check-ins would come at the wrong time", fix)


# ---------------------------------------------------------------------------------------- command line


def main(settings: Settings) -> int:
    """Print one line per check; 0 when all passed, 1 otherwise."""
    checks = asyncio.run(run_checks(settings))
    print("\n".join(check.line() for check in checks))
    failed = sum(not check.ok for check in checks)
    print("all checks passed" if not failed else f"{failed} of {len(checks)} checks failed")
    return 1 if failed else 0
