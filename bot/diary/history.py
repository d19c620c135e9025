"""A patient's own recent numbers, for /history. Figures only: nothing here judges a value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.diary import chart
from bot.diary.questionnaire import Questionnaire
from storage import checkins, infusions
from storage.checkins import Entry
from storage.database import Database


@dataclass(frozen=True)
class Figures:
    count: int
    pain: tuple[int, int, int] | None  # lowest, highest, most recent
    mood: tuple[int, int, int] | None


def _series(entries: list[Entry], item: str) -> list[tuple[datetime, int]]:
    return [(e.started_at, int(e.answers[item])) for e in entries if e.answers.get(item, "").isdigit()]


def _low_high_last(points: list[tuple[datetime, int]]) -> tuple[int, int, int] | None:
    values = [v for _, v in points]
    return (min(values), max(values), values[-1]) if values else None


def figures(entries: list[Entry]) -> Figures:
    return Figures(
        count=sum(1 for e in entries if e.answers),
        pain=_low_high_last(_series(entries, "pain")),
        mood=_low_high_last(_series(entries, "mood")),
    )


@dataclass(frozen=True)
class Recent:
    entries: list[Entry]  # the last 30 days, missed check-ins with no answers, oldest first
    infusions: list[date]


async def recent(database: Database, *, patient_id: int, now: datetime, since: datetime | None = None) -> Recent:
    """The chart's window, or only what came after `since` within it (the moment a re-link moved the
    record to this account, while its hold lasts: whoever opened the link sees nothing from before)."""
    start = now - chart.WINDOW if since is None else max(now - chart.WINDOW, since)
    async with database.session() as session:
        entries = await checkins.diary_since(session=session, patient_id=patient_id, since=start)
        given = await infusions.since(session=session, patient_id=patient_id, since=start.date())
    if since is not None:
        entries = [e for e in entries if e.started_at > since]
    days = [day for day, _ in given if since is None or day > since.date()]
    return Recent(entries, days)


def chart_png(recent: Recent, *, text: Callable[..., str], daily: Questionnaire, timezone: str, now: datetime) -> bytes:
    """The patient's own chart: their answers and infusion days in their language (`text`), nothing
    that is for staff only (no usual level, no scores)."""
    zone = ZoneInfo(timezone)

    def day(at: datetime) -> str:
        return at.astimezone(zone).strftime("%d.%m")

    data = chart.chart_data(
        recent.entries,
        title=text("chart.title", start=day(now - chart.WINDOW), end=day(now)),
        now=now,
        infusions=[chart.midday(d, zone) for d in recent.infusions],
    )
    return chart.render_png(data, chart.chart_labels(text, daily), timezone=timezone)
