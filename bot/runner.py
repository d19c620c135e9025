"""Running the bot: migrate, build, replay the inbox, then poll (or serve the webhook) until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import Bot, Update
from telegram.error import InvalidToken

from bot.alerts import digest, escalation
from bot.alerts.rules_file import RulesFollower
from bot.app import build_application, utc_now
from bot.config import Settings
from bot.console.app import Console
from bot.delivery.inbox import Inbox
from bot.delivery.outbox import OutboxSender
from bot.delivery.webhook import WebhookServer
from bot.diary.schedule_rules import parse_quiet_hours
from bot.handlers import errors
from bot.handlers.menus import publish_command_menus
from bot.metrics import MetricsServer
from bot.records import retention
from bot.services import Services
from storage import migrate, staff
from storage.database import Database, database_away

log = logging.getLogger(__name__)
T = TypeVar("T")
# An update stored this long ago and still unhandled was left by a process that died (handling takes
# seconds): a running process handles it rather than waiting for that one's restart.
ABANDONED_AFTER = timedelta(minutes=2)


_SECRETS: set[str] = set()


def redact_in_logs(secrets: list[str]) -> None:
    """No log line, at any level and through any handler, shows the bot token or the webhook secret:
    libraries log request URLs, which carry the token, at DEBUG (`run --verbose`)."""
    if not _SECRETS:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            message = record.getMessage()
            if any(secret in message for secret in _SECRETS):
                record.msg, record.args = _redacted(message), None
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                if any(secret in text for secret in _SECRETS):
                    record.exc_text = _redacted(text)
            return record

        logging.setLogRecordFactory(factory)
    _SECRETS.update(s for s in secrets if s)


def _redacted(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, "[redacted]")
    return text


async def _apart(what: str, work: Awaitable[T]) -> T | None:
    """One part of the scheduler's tick, None when it failed: a fault in one (a patient's schedule that does not
    read) stopped the tick there, and what came after it (an unacknowledged crisis escalated to the admins, the
    daily digest) never ran while the fault lasted. The database away fails them all, and says so once each."""
    try:
        return await work
    except Exception as error:
        if database_away(error):
            log.warning("%s failed: the database did not answer (%s)", what, type(error).__name__)
        else:
            log.exception("%s failed; the rest of the tick goes on", what)
        return None


async def _settle(bot: Bot, inbox: Inbox, *, at_most: float = 10.0) -> None:
    """With a webhook, Telegram posts what it kept once the webhook is set: wait (a little) for that."""
    deadline = asyncio.get_running_loop().time() + at_most
    while asyncio.get_running_loop().time() < deadline:
        if (await bot.get_webhook_info()).pending_update_count == 0:
            break
        await asyncio.sleep(0.2)
    await inbox.drain()


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
    clock: Callable[[], datetime] = utc_now,
    poll_timeout: int = 10,
    webhook: bool = False,
) -> None:
    """Run until `stop` is set: long polling, or with `webhook` an HTTP endpoint Telegram posts to."""
    redact_in_logs(settings.secrets)
    database = Database(settings.database_url)
    try:
        await migrate.upgrade(database)
        async with database.session() as session:
            await staff.seed_admins(session=session, telegram_user_ids=settings.admin_telegram_ids, now=clock())
        application = build_application(settings, database, clock=clock)
        services: Services = application.bot_data["services"]
        inbox = Inbox(
            application,
            database,
            clock=clock,
            catalog=services.catalog,
            received_at=services.received_at,
            poll_timeout=poll_timeout,
            metrics=services.metrics,
            crisis_text_sent=services.intake.crisis_text_sent,
            failed_again=errors.on_failed_again,
            first_retry=settings.inbox_retry_seconds,
            staff_chat=services.staff_chat,
        )
        sender = OutboxSender(
            application,
            database,
            catalog=services.catalog,
            checkins=services.checkins,
            desk=services.desk,
            cards=services.cards,
            clock=clock,
            staff_chat_id=settings.staff_chat_id,
            limiter=services.limiter,
            wake=services.outbox_wake,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            poll=settings.outbox_poll_seconds,
            away_retry=settings.outbox_retry_seconds,
            metrics=services.metrics,
        )

        quiet = parse_quiet_hours(settings.quiet_hours) if settings.quiet_hours else None
        interval = settings.schedule_tick_seconds

        ticking = asyncio.Lock()
        rules_file = RulesFollower(settings.rules_file)  # saved by the console, here or in its own process

        async def tick() -> None:
            """Due check-ins become outbox rows; the sender is woken to deliver them."""
            async with ticking:
                if (changed := rules_file.check()) is not None:
                    services.desk.rules = changed
                dispatched = await _apart("sending the check-ins due", services.scheduler.dispatch_due(now=clock()))
                reminders: int | None = 0
                if settings.reminder_after_minutes:
                    reminders = await _apart(
                        "sending reminders",
                        services.scheduler.dispatch_reminders(
                            now=clock(), after=timedelta(minutes=settings.reminder_after_minutes), quiet=quiet
                        ),
                    )
                # What another process stored and died before handling (a restart of it would, too).
                await _apart("handling abandoned updates", inbox.replay_abandoned(older_than=ABANDONED_AFTER))
                escalations = await _apart("escalating", escalation.escalate(services.desk, now=clock()))
                digested = await _apart("the daily digest", digest.daily(services.desk, now=clock()))
                await _apart(
                    "purging",
                    retention.purge(
                        database,
                        now=clock(),
                        inbox_days=settings.inbox_retention_days,
                        outbox_days=settings.outbox_retention_days,
                    ),
                )
                if (dispatched is not None and dispatched.sent) or reminders or escalations or digested:
                    sender.wake.set()
                # A slot due before the next interval tick gets a tick of its own, on time.
                earliest = await services.scheduler.earliest_due()
                if earliest is not None and 0 < (wait := (earliest - clock()).total_seconds()) < interval:
                    ticker.add_job(
                        tick,
                        "date",
                        run_date=datetime.now(UTC) + timedelta(seconds=wait),
                        id="next-due",
                        replace_existing=True,
                        misfire_grace_time=None,
                    )

        try:
            await application.initialize()  # asks Telegram who the bot is: a refused token stops here
        except InvalidToken:
            for request in application.bot._request:  # PTB leaves the HTTP sessions of that getMe open
                await request.shutdown()
            raise
        async with application:
            staff_chat_id = await services.staff_chat.current()
            await publish_command_menus(application.bot, services.catalog, database, staff_chat_id)
            await application.start()
            # One interval job; all scheduling state is in the database, so nothing is pickled or lost.
            ticker = AsyncIOScheduler(timezone=UTC)
            ticker.add_job(
                tick,
                "interval",
                seconds=settings.schedule_tick_seconds,
                next_run_time=datetime.now(UTC),
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
            sending = asyncio.create_task(sender.run(stop))
            keeping = asyncio.create_task(inbox.keep_leases(stop))
            server: WebhookServer | None = None
            console = Console.beside_bot(database, settings, services) if settings.console_address else None
            metrics: MetricsServer | None = None
            try:
                if console is not None and settings.console_address is not None:
                    await console.start(*settings.console_address)
                if settings.metrics_address is not None:
                    metrics = MetricsServer(services.metrics, database, services.staff_chat, clock=clock)
                    await metrics.start(*settings.metrics_address)
                # What arrived before this start is handled before the first tick, at its own time:
                # a tick would open the next check-in and close the one those answers belong to.
                await inbox.replay_unfinished()
                if webhook:
                    assert settings.webhook_url and settings.webhook_secret  # checked by the command line
                    secret = settings.webhook_secret.get_secret_value()
                    server = WebhookServer(inbox, database, application.bot, url=settings.webhook_url, secret=secret)
                    await server.start(settings.webhook_listen, settings.webhook_port)
                    await application.bot.set_webhook(
                        settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
                    )
                    await _settle(application.bot, inbox)
                    log.info("bot @%s is running (webhook)", application.bot.username)
                else:
                    await application.bot.delete_webhook()  # Telegram refuses getUpdates while one is set
                    await inbox.catch_up()
                    log.info("bot @%s is running", application.bot.username)
                ticker.start()
                if ready is not None:
                    ready.set()
                if server is not None:
                    await stop.wait()
                else:
                    await inbox.poll(stop)
            finally:
                stop.set()
                inbox.stop_retrying()
                if console is not None:
                    await console.stop()
                if metrics is not None:
                    await metrics.stop()
                if server is not None:
                    await server.stop()  # the webhook stays set: Telegram keeps updates until we are back
                    await inbox.drain()
                if ticker.running:
                    ticker.shutdown(wait=False)
                try:
                    await sending
                    await keeping
                finally:
                    inbox.close()  # ended whatever the sender raised: a serve after it in this process replays its rows
                await application.stop()
    finally:
        await database.dispose()
