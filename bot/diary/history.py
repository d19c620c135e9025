"""A patient's own recent numbers and their chart. Figures only: nothing here judges a value."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.alerts.trends import changed
from storage import checkins
from storage.checkins import Entry
from storage.database import Database

WINDOW = timedelta(days=30)


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
        count=len(entries),
        pain=_low_high_last(_series(entries, "pain")),
        mood=_low_high_last(_series(entries, "mood")),
    )


async def recent_entries(database: Database, *, patient_id: int, now: datetime) -> list[Entry]:
    async with database.session() as session:
        return await checkins.entries_since(session=session, patient_id=patient_id, since=now - WINDOW)


def chart_png(
    entries: list[Entry],
    *,
    labels: dict[str, str],
    timezone: str,
    now: datetime,
    baseline: tuple[float, float] | None = None,
    infusions: Sequence[datetime] = (),
) -> bytes:
    """Pain line, mood line and markers for colour/temperature/swelling changes over the last 30 days.

    Staff charts add the patient's baseline band (`baseline`: low, high) and infusion days.
    """
    # Imported here: matplotlib takes a second to load, and most processes (the command line, a bot
    # that has not drawn a chart yet) never need it.
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    zone = ZoneInfo(timezone)
    figure = Figure(figsize=(8, 4.5), dpi=100)
    pain_axis = figure.add_subplot()
    mood_axis = pain_axis.twinx()

    pain = _series(entries, "pain")
    mood = _series(entries, "mood")
    if pain:
        pain_axis.plot(
            mdates.date2num([t for t, _ in pain]),
            [v for _, v in pain],
            "-o",
            color="#c0392b",
            markersize=3,
            label=labels["pain"],
        )
    if mood:
        mood_axis.plot(
            mdates.date2num([t for t, _ in mood]),
            [v for _, v in mood],
            "--s",
            color="#2471a3",
            markersize=3,
            label=labels["mood"],
        )

    for row, (item, marker, colour) in enumerate(
        [("skin_color", "v", "#8e44ad"), ("skin_temperature", "D", "#d68910"), ("swelling", "^", "#117a65")]
    ):
        moments = [e.started_at for e in entries if changed(item, e.answers.get(item))]
        if moments:
            pain_axis.scatter(
                mdates.date2num(moments),
                [10.6 + 0.45 * row] * len(moments),
                marker=marker,
                color=colour,
                s=22,
                label=labels[item],
                clip_on=False,
            )

    if baseline is not None:
        pain_axis.axhspan(baseline[0], baseline[1], color="#c0392b", alpha=0.12, label=labels["baseline"])
    for number, day in enumerate(d for d in infusions if now - WINDOW <= d <= now):
        pain_axis.axvline(
            float(mdates.date2num(day)),
            color="#555555",
            linestyle=":",
            label=labels["infusion"] if number == 0 else None,
        )

    pain_axis.set_ylim(-0.3, 11.8)
    pain_axis.set_yticks(range(0, 11))
    pain_axis.set_ylabel(labels["pain"])
    mood_axis.set_ylim(0.5, 5.5 + 1.5 * 5 / 11)
    mood_axis.set_yticks(range(1, 6))
    mood_axis.set_ylabel(labels["mood"])
    pain_axis.set_xlim(mdates.date2num(now - WINDOW), mdates.date2num(now + timedelta(hours=12)))
    pain_axis.xaxis.set_major_formatter(mdates.DateFormatter("%d.%m", tz=zone))
    pain_axis.grid(axis="y", alpha=0.3)
    pain_axis.set_title(labels["title"])
    handles = pain_axis.get_legend_handles_labels()
    mood_handles = mood_axis.get_legend_handles_labels()
    if handles[0] or mood_handles[0]:
        pain_axis.legend(
            handles[0] + mood_handles[0],
            handles[1] + mood_handles[1],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            ncol=3,
            fontsize=8,
            frameon=False,
        )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
