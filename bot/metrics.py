"""Prometheus metrics for the operator, served on METRICS_LISTEN (GET /metrics, and /healthz beside it).

Events are counted as they happen (updates handled and how long each took, handler failures, sends by
how Telegram answered); what the database holds (inbox backlog, owed messages and their age, open
alerts, check-ins of the last day, whether there is a staff chat) is counted when Prometheus scrapes,
by a few indexed queries, so nothing has to be kept in step by hand. Each application has a registry of
its own, so two bots in one process (the tests) never add to each other's numbers. No label carries
anything about a patient: kinds, results, tiers and outcomes only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from bot.care_team.staff_chat import StaffChat
from storage import gauges
from storage.database import Database

log = logging.getLogger(__name__)

# How a send ended: delivered; Telegram's 429 (slow down), 403 (blocked, or not in the group), 400
# (refused); 5xx or no connection; or a time-out, after which nobody knows whether it arrived.
SEND_RESULTS = ("ok", "429", "403", "400", "5xx", "uncertain")
ALERT_TIERS = ("urgent", "amber", "digest")
CHECKIN_WINDOW = timedelta(hours=24)


@dataclass
class Snapshot:
    """What the database says, taken at the start of a scrape."""

    inbox_backlog: int = 0
    outbox: dict[str, tuple[int, float]] = field(default_factory=dict)  # kind -> (owed, oldest in seconds)
    alerts_open: dict[str, int] = field(default_factory=dict)
    checkins: dict[str, int] = field(default_factory=dict)
    staff_chat_known: bool = False


class DatabaseGauges(Collector):
    """Yields the last snapshot as gauges; `refresh` takes a new one (async, before the registry is read)."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()

    async def refresh(self, database: Database, staff_chat: StaffChat, now: datetime) -> None:
        async with database.session() as session:
            owed = await gauges.outbox_owed(session=session, now=now)
            self.snapshot = Snapshot(
                inbox_backlog=await gauges.inbox_backlog(session=session),
                outbox={kind: (count, (now - oldest).total_seconds()) for kind, (count, oldest) in owed.items()},
                alerts_open=await gauges.alerts_open(session=session),
                checkins=await gauges.checkins_closed(session=session, now=now, within=CHECKIN_WINDOW),
                staff_chat_known=await staff_chat.current(session) is not None,
            )

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        yield _gauge("diary_inbox_backlog", "Telegram updates stored but not yet handled", s.inbox_backlog)
        depth = GaugeMetricFamily("diary_outbox_queue", "Messages due and not yet sent, by kind", labels=["kind"])
        oldest = GaugeMetricFamily(
            "diary_outbox_oldest_seconds", "Age of the oldest message due and not yet sent, by kind", labels=["kind"]
        )
        for kind, (count, age) in sorted(s.outbox.items()):
            depth.add_metric([kind], count)
            oldest.add_metric([kind], max(age, 0.0))
        yield depth
        yield oldest
        yield _labelled(
            "diary_alerts_open", "Alerts nobody has acted on yet, by tier", "tier", ALERT_TIERS, s.alerts_open
        )
        yield _labelled(
            "diary_checkins_last_24h",
            "Check-ins that closed in the last 24 hours, by outcome",
            "outcome",
            ("answered", "missed", "skipped"),
            s.checkins,
        )
        yield _gauge("diary_staff_chat_known", "1 when there is a staff chat to send to", int(s.staff_chat_known))


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _labelled(
    name: str, documentation: str, label: str, always: Iterable[str], values: dict[str, int]
) -> GaugeMetricFamily:
    """Every known label value is shown, 0 when there is none, so an alert rule sees it go back to 0."""
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value in sorted(set(always) | set(values)):
        family.add_metric([value], values.get(value, 0))
    return family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter("diary_updates_processed", "Telegram updates handled", registry=self.registry)
        self.handler_errors = Counter(
            "diary_handler_errors",
            "Updates whose handler failed (logged with the update's number)",
            registry=self.registry,
        )
        self.update_seconds = Histogram(
            "diary_update_seconds",
            "Time to handle one update, handlers and their database work",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.sends = Counter("diary_sends", "Messages sent to Telegram, by result", ["result"], registry=self.registry)
        for result in SEND_RESULTS:
            self.sends.labels(result)  # shown at 0 from the start, so rate() works from the first failure
        self.database = DatabaseGauges()
        self.registry.register(self.database)

    def sent(self, result: str) -> None:
        self.sends.labels(result).inc()

    async def exposition(self, database: Database, staff_chat: StaffChat, now: datetime) -> bytes:
        await self.database.refresh(database, staff_chat, now)
        return generate_latest(self.registry)


async def health(database: Database) -> web.Response:
    """GET /healthz (beside /metrics, and on the webhook's listener): whether the database answers."""
    try:
        async with database.session() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception:  # any failure means unhealthy; the reason goes to the log
        log.exception("health check: the database does not answer")
        return web.json_response({"ok": False, "database": "unreachable"}, status=503)
    return web.json_response({"ok": True})


class MetricsServer:
    """GET /metrics for Prometheus and GET /healthz, on their own listener: bind it to loopback or the
    monitoring network, never behind the proxy that faces Telegram."""

    def __init__(
        self, metrics: Metrics, database: Database, staff_chat: StaffChat, *, clock: Callable[[], datetime]
    ) -> None:
        self.metrics, self.database, self.staff_chat, self.clock = metrics, database, staff_chat, clock
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> int:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        return await health(self.database)

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            body = await self.metrics.exposition(self.database, self.staff_chat, self.clock())
        except Exception:  # the database does not answer: Prometheus records the scrape as failed
            log.exception("metrics: the database does not answer")
            return web.Response(status=503, text="the database does not answer\n")
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
