"""Diary charts sized for a phone: pain, mood, the limb's signs and, for staff, questionnaire scores,
each in a panel of its own on one time axis. Figures only: nothing here judges a value.

`chart_data` decides what is drawn (pure, tested on its own); `render_png` draws it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.alerts.skin_signs import changed
from bot.alerts.trends import Scored
from bot.diary.questionnaire import Questionnaire
from storage.checkins import Entry

if TYPE_CHECKING:
    from matplotlib.figure import Figure, FigureBase

WINDOW = timedelta(days=30)
# Answers further apart than this are not joined by a line: the time between them had none.
GAP = timedelta(hours=36)
SIGNS = ("skin_color", "skin_temperature", "swelling")
# Okabe-Ito colours: told apart with every common colour-vision deficiency.
VERMILLION, BLUE, SKY, GREEN, PURPLE, ORANGE, GREY = (
    "#D55E00",
    "#0072B2",
    "#56B4E9",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#555555",
)
# How each answer that differs from the other side (or from none) is marked in its row.
MARKERS: dict[str, tuple[str, str, float]] = {  # answer code: (marker, colour, size)
    "redder": ("^", VERMILLION, 110),
    "red": ("^", VERMILLION, 110),
    "blue_purple": ("v", BLUE, 110),
    "paler": ("o", GREY, 90),
    "pale": ("o", GREY, 90),
    "blotchy": ("s", PURPLE, 80),
    "mottled": ("s", PURPLE, 80),
    "warmer": ("^", ORANGE, 110),
    "colder": ("v", SKY, 110),
    "mild": ("o", GREEN, 60),
    "marked": ("o", GREEN, 160),
}

# Type that stays readable when the 720-pixel image is shown 360 points wide.
LARGE_TYPE: dict[Any, object] = {"font.size": 13, "axes.titlesize": 13, "legend.fontsize": 11}

Run = list[tuple[datetime, float]]


@dataclass(frozen=True)
class Instrument:
    """A questionnaire's scores in the chart's window, on an axis from 0 to its highest total."""

    id: str
    name: str
    highest: float
    scores: list[tuple[datetime, float]]


@dataclass(frozen=True)
class ChartData:
    title: str
    start: datetime
    end: datetime
    pain: list[Run]  # each run is drawn as one line; a gap between runs stays a gap
    mood: list[Run]
    signs: dict[str, list[tuple[datetime, str]]]  # item: (when, answer) for answers other than "the same"
    infusions: list[datetime]
    usual: float | None = None  # the patient's usual pain, for staff
    rise: float | None = None  # the rise above it that counts, for staff
    instruments: list[Instrument] = field(default_factory=list)
    # For staff: each infusion's relief ("24.09: relief 67%, 11% now"), written beside its line or, for
    # an infusion before the window, at the left edge.
    relief: list[tuple[datetime, str]] = field(default_factory=list)


def _runs(entries: Sequence[Entry], item: str) -> list[Run]:
    """Consecutive answers joined; a check-in without this answer (missed, skipped) or a long silence
    starts a new run, so an unanswered stretch never looks like a steady line."""
    runs: list[Run] = []
    run: Run = []
    for entry in entries:
        value = entry.answers.get(item, "")
        if not value.isdigit() or (run and entry.started_at - run[-1][0] > GAP):
            if run:
                runs.append(run)
            run = []
        if value.isdigit():
            run.append((entry.started_at, float(value)))
    if run:
        runs.append(run)
    return runs


def instruments(
    scores: Sequence[Scored], questionnaires: Mapping[str, Questionnaire], name: Callable[[str], str]
) -> list[Instrument]:
    """One panel per questionnaire that has scores, in the order the questionnaires are listed."""
    found = []
    for questionnaire_id, questionnaire in questionnaires.items():
        points = [(s.at, s.total) for s in scores if s.questionnaire == questionnaire_id]
        if points and questionnaire.scoring is not None:
            found.append(Instrument(questionnaire_id, name(questionnaire_id), questionnaire.highest, points))
    return found


def midday(day: date, zone: ZoneInfo) -> datetime:
    """Where a day's event (an infusion) is drawn: the middle of that day in the chart's zone."""
    return datetime.combine(day, time(12), tzinfo=zone)


def chart_data(
    entries: Sequence[Entry],
    *,
    title: str,
    now: datetime,
    window: timedelta = WINDOW,
    infusions: Sequence[datetime] = (),
    usual: float | None = None,
    rise: float | None = None,
    instruments: Sequence[Instrument] = (),
    relief: Sequence[tuple[datetime, str]] = (),
) -> ChartData:
    """What the chart shows of `entries` (daily check-ins, missed ones with no answers, oldest first)."""
    start = now - window
    shown = [e for e in entries if start <= e.started_at <= now]
    return ChartData(
        title=title,
        start=start,
        end=now,
        pain=_runs(shown, "pain"),
        mood=_runs(shown, "mood"),
        signs={
            item: [(e.started_at, e.answers[item]) for e in shown if changed(item, e.answers.get(item))]
            for item in SIGNS
        },
        infusions=[d for d in infusions if start <= d <= now],
        usual=usual,
        rise=rise,
        relief=[(max(at, start), text) for at, text in relief if at <= now],
        instruments=[
            Instrument(i.id, i.name, i.highest, [(at, v) for at, v in i.scores if start <= at <= now])
            for i in instruments
            if any(start <= at <= now for at, _ in i.scores)
        ],
    )


def render_png(data: ChartData, labels: Mapping[str, str], *, timezone: str) -> bytes:
    buffer = io.BytesIO()
    draw(data, labels, timezone=timezone).savefig(buffer, format="png")
    return buffer.getvalue()


def draw(data: ChartData, labels: Mapping[str, str], *, timezone: str) -> Figure:
    """720 pixels wide, large type: readable on a phone at 360 points. `labels` holds the panel names
    (pain, mood, skin_color, skin_temperature, swelling), usual, rise, infusion, and each marked answer
    as `<item>.<code>`."""
    # Imported here: matplotlib takes a second to load, and most processes (the command line, a bot
    # that has not drawn a chart yet) never need it.
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(LARGE_TYPE):
        figure = Figure(figsize=(7.2, sum(heights(data)) + 1.4), dpi=100, layout="constrained")
        draw_into(figure, data, labels, timezone=timezone)
    return figure


def heights(data: ChartData) -> list[float]:
    """The panels' relative heights: pain, mood, signs, then one per questionnaire."""
    return [3.0, 1.6, 1.5] + [1.3] * len(data.instruments)


def tick_days(span: timedelta) -> int:
    """Days between date labels: a week on the 30-day chart, more on a longer one so labels never meet."""
    return 7 * max(1, round(span / timedelta(days=60)))


def draw_into(figure: FigureBase, data: ChartData, labels: Mapping[str, str], *, timezone: str) -> None:
    """The chart's panels in `figure` (a whole figure, or part of a report's page), in the type size of
    the caller's rc_context."""
    import matplotlib.dates as mdates

    axes = figure.subplots(len(heights(data)), 1, sharex=True, gridspec_kw={"height_ratios": heights(data)})
    pain_axis, mood_axis, signs_axis, *score_axes = axes

    for axis, runs, colour, (low, high) in (
        (pain_axis, data.pain, VERMILLION, (0, 10)),
        (mood_axis, data.mood, BLUE, (1, 5)),
    ):
        for run in runs:
            axis.plot([t for t, _ in run], [v for _, v in run], "-o", color=colour, markersize=5, linewidth=2)
        axis.set_ylim(low - 0.6, high + 0.6)
        axis.set_yticks(range(low, high + 1, 2 if high == 10 else 1))
        axis.grid(axis="y", alpha=0.3)
    pain_axis.set_ylabel(labels["pain"])
    mood_axis.set_ylabel(labels["mood"])
    if data.usual is not None:
        pain_axis.axhline(data.usual, color="black", linewidth=1.2, label=f"{labels['usual']}: {data.usual:g}")
        if data.rise is not None:
            level = data.usual + data.rise
            pain_axis.axhline(level, color="black", linestyle="--", linewidth=1.2, label=f"{labels['rise']}: {level:g}")

    rows = {item: len(SIGNS) - 1 - row for row, item in enumerate(SIGNS)}
    for item, marks in data.signs.items():
        for code in dict.fromkeys(code for _, code in marks):  # one legend entry per answer, in order
            marker, colour, size = MARKERS.get(code, ("x", GREY, 80))
            when = [t for t, c in marks if c == code]
            signs_axis.scatter(
                when,
                [rows[item]] * len(when),
                marker=marker,
                color=colour,
                s=size,
                label=labels.get(f"{item}.{code}", code),
            )
    signs_axis.set_ylim(-0.6, len(SIGNS) - 0.4)
    signs_axis.set_yticks(list(rows.values()), [labels[item] for item in rows])
    signs_axis.grid(axis="y", alpha=0.3)

    for axis, instrument in zip(score_axes, data.instruments, strict=True):
        when, values = [t for t, _ in instrument.scores], [v for _, v in instrument.scores]
        axis.plot(when, values, "-o", color=PURPLE, markersize=6, linewidth=2)
        for t, v in instrument.scores:
            axis.annotate(f"{v:g}", (t, v), textcoords="offset points", xytext=(0, 7), ha="center")
        axis.set_ylim(0, instrument.highest * 1.5)
        axis.set_yticks([0, instrument.highest])
        # Named inside the panel: instrument names are longer than a y-axis label has room for.
        axis.annotate(instrument.name, (0.01, 0.95), xycoords="axes fraction", va="top", fontsize="medium")

    for number, day in enumerate(data.infusions):
        for axis in axes:
            axis.axvline(
                day,
                color=GREY,
                linestyle=":",
                linewidth=1.5,
                label=labels["infusion"] if number == 0 and axis is pain_axis else None,
            )

    for at, text in data.relief:
        pain_axis.annotate(
            text, (at, 10.5), xytext=(5, 0), textcoords="offset points", va="top", fontsize=12, color=GREY
        )

    zone = ZoneInfo(timezone)
    last = axes[-1]
    last.set_xlim(data.start, data.end + timedelta(hours=12))
    every = tick_days(data.end - data.start)
    last.xaxis.set_major_locator(mdates.DayLocator(interval=every, tz=zone))  # type: ignore[no-untyped-call]
    last.xaxis.set_major_formatter(mdates.DateFormatter("%d.%m", tz=zone))  # type: ignore[no-untyped-call]
    if pain_axis.get_legend_handles_labels()[0]:
        pain_axis.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False)
    if signs_axis.get_legend_handles_labels()[0]:  # under the panel it explains, across the width
        signs_axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    figure.suptitle(data.title)
    figure.align_ylabels(axes)


def chart_labels(text: Callable[[str], str], daily: Questionnaire) -> dict[str, str]:
    """The words `render_png` needs, from a language's catalog (`text(key)`): panel names, lines, and
    each marked answer as "Row: answer"."""
    labels = {key: text(f"chart.{key}") for key in ("pain", "mood", *SIGNS, "infusion", "usual", "rise")}
    for item_id in SIGNS:
        item = daily.item(item_id)
        for code in (*item.options, *item.legacy) if item else ():
            if code in MARKERS:
                labels[f"{item_id}.{code}"] = f"{labels[item_id]}: {text(f'items.{item_id}.options.{code}')}"
    return labels
