"""A patient's pain and mood as an SVG drawn on the server, for the console's record page.

The data is `bot.diary.chart.chart_data`'s, so the browser shows what the Telegram charts show: each
run of answers is one line and a gap (missed check-ins, a long silence) stays a gap; infusion days are
vertical lines. Each point carries a <title>, which browsers show on hover; the whole chart is one
image to a screen reader, named by its title and described by a summary of the figures. Figures only:
nothing here judges a value. No script and no inline style (the console's Content-Security-Policy
allows neither): presentation attributes and classes in console.css.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from bot.diary.chart import BLUE, GREY, VERMILLION, ChartData, Run

WIDTH = 900.0
LEFT = 48.0  # room for the value labels
RIGHT = 12.0
TOP = 34.0  # room for the title
PANEL = 150.0  # one panel's height
BETWEEN = 34.0  # a panel's name sits in the space above it
BOTTOM = 26.0  # the date labels
PLOT_WIDTH = WIDTH - LEFT - RIGHT
TICK_DAYS = 14


@dataclass(frozen=True)
class Panel:
    item: str  # "pain", "mood"
    low: float
    high: float
    colour: str
    runs: list[Run]


def panels(data: ChartData) -> list[Panel]:
    return [Panel("pain", 0, 10, VERMILLION, data.pain), Panel("mood", 1, 5, BLUE, data.mood)]


def panel_top(index: int) -> float:
    return TOP + BETWEEN + index * (PANEL + BETWEEN)


def x_of(at: datetime, data: ChartData) -> float:
    return round(LEFT + PLOT_WIDTH * ((at - data.start) / (data.end - data.start)), 1)


def y_of(value: float, panel: Panel, top: float) -> float:
    return round(top + PANEL * (1 - (value - panel.low) / (panel.high - panel.low)), 1)


def summary(data: ChartData, labels: Mapping[str, str], zone: ZoneInfo) -> str:
    """What the chart shows, in words, for a screen reader."""

    def day(at: datetime) -> str:
        return at.astimezone(zone).strftime("%d.%m")

    parts = []
    for panel in panels(data):
        values = [v for run in panel.runs for _, v in run]
        name = labels[panel.item]
        if not values:
            parts.append(f"{name}: no answers.")
            continue
        last = panel.runs[-1][-1]
        parts.append(
            f"{name}: {len(values)} answers in {len(panel.runs)} unbroken stretches, lowest {min(values):g}, "
            f"highest {max(values):g}, last {last[1]:g} on {day(last[0])}."
        )
    if data.infusions:
        parts.append(f"{labels['infusion']}: {', '.join(day(at) for at in data.infusions)}.")
    return " ".join(parts)


def render(data: ChartData, labels: Mapping[str, str], *, zone: ZoneInfo, element_id: str = "chart") -> Markup:
    """The chart as inline SVG markup (every text in it escaped)."""
    shown = panels(data)
    height = panel_top(len(shown)) - BETWEEN + BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {height:g}" class="chart" role="img" '
        f'aria-labelledby="{element_id}-title {element_id}-desc" id="{element_id}">',
        f'<title id="{element_id}-title">{escape(data.title)}</title>',
        f'<desc id="{element_id}-desc">{escape(summary(data, labels, zone))}</desc>',
        f'<text x="{LEFT:g}" y="20" class="chart-title">{escape(data.title)}</text>',
    ]
    for index, panel in enumerate(shown):
        out += _panel(data, panel, labels, panel_top(index), zone, last=index == len(shown) - 1)
    out.append("</svg>")
    return Markup("\n".join(out))


def _panel(
    data: ChartData, panel: Panel, labels: Mapping[str, str], top: float, zone: ZoneInfo, *, last: bool
) -> list[str]:
    name = escape(labels[panel.item])
    out = [
        f'<g data-item="{panel.item}">',
        f'<text x="{LEFT:g}" y="{top - 10:g}" class="chart-panel">{name}</text>',
        f'<rect x="{LEFT:g}" y="{top:g}" width="{PLOT_WIDTH:g}" height="{PANEL:g}" fill="none" stroke="{GREY}"/>',
    ]
    step = 2 if panel.high - panel.low > 5 else 1
    value = panel.low
    while value <= panel.high:
        y = y_of(value, panel, top)
        out.append(f'<line x1="{LEFT:g}" x2="{WIDTH - RIGHT:g}" y1="{y:g}" y2="{y:g}" class="chart-grid"/>')
        out.append(f'<text x="{LEFT - 6:g}" y="{y + 4:g}" text-anchor="end" class="chart-axis">{value:g}</text>')
        value += step
    for tick in _ticks(data, zone):
        x = x_of(tick, data)
        out.append(f'<line x1="{x:g}" x2="{x:g}" y1="{top:g}" y2="{top + PANEL:g}" class="chart-grid"/>')
        if last:
            label = tick.astimezone(zone).strftime("%d.%m")
            y = top + PANEL + 18
            anchor = "end" if x > WIDTH - RIGHT - 20 else "middle"  # today's date, not cut off at the edge
            out.append(f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}" class="chart-axis">{label}</text>')
    for at in data.infusions:
        x = x_of(at, data)
        when = escape(f"{labels['infusion']} {at.astimezone(zone):%d.%m.%Y}")
        out.append(
            f'<line x1="{x:g}" x2="{x:g}" y1="{top:g}" y2="{top + PANEL:g}" stroke="{GREY}" stroke-width="2" '
            f'stroke-dasharray="6 4" class="chart-infusion"><title>{when}</title></line>'
        )
    for run in panel.runs:
        points = " ".join(f"{x_of(at, data):g},{y_of(v, panel, top):g}" for at, v in run)
        out.append(f'<polyline points="{points}" fill="none" stroke="{panel.colour}" stroke-width="2"/>')
    for run in panel.runs:
        for at, v in run:
            tip = escape(f"{at.astimezone(zone):%d.%m.%Y %H:%M} · {labels[panel.item]}: {v:g}")
            out.append(
                f'<circle cx="{x_of(at, data):g}" cy="{y_of(v, panel, top):g}" r="4" fill="{panel.colour}">'
                f"<title>{tip}</title></circle>"
            )
    out.append("</g>")
    return out


def _ticks(data: ChartData, zone: ZoneInfo) -> Sequence[datetime]:
    """Local midnights every two weeks, counted back from the last day shown."""
    last = datetime.combine(data.end.astimezone(zone).date(), time(), tzinfo=zone)
    found = []
    tick = last
    while tick >= data.start:
        found.append(tick)
        tick = datetime.combine((tick - timedelta(days=TICK_DAYS)).date(), time(), tzinfo=zone)
    return found[::-1]
