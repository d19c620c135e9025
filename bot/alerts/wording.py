"""What a rule found, in the plain words a nurse reads in two seconds: "Pain 7-8 since Tue 14 Nov
(usual 4, last 28 days)". Staff only: nothing here reaches a patient.

The numbers come from a finding's details (bot/alerts/trends.py), the words from the clinic's
catalog (prompts/messages/<language>.yaml, `alerts.finding` and `dates`), the dates in the clinic's
time zone. The onset is when the change began, not when the rule fired.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.alerts.cycles import Cycle

Text = Callable[..., str]

# The answers a card words, per item: the rest ("same", "none", "I can't tell") report no change.
SIGN_ITEMS = ("skin_color", "skin_temperature", "swelling")


def local_day(at: str | datetime, zone: ZoneInfo) -> date:
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(zone).date() if moment.tzinfo else moment.date()


def day(t: Text, on: date, *, weekday: bool = True) -> str:
    """ "Tue 14 Nov", or "14 Nov" without the weekday."""
    month = t("dates.months").split()[on.month - 1]
    if not weekday:
        return t("dates.day_month", day=on.day, month=month)
    return t("dates.weekday_day_month", weekday=t("dates.weekdays").split()[on.weekday()], day=on.day, month=month)


def days(t: Text, first: date, last: date) -> str:
    """ "on Thu 20 Nov", "on 19 and 20 Nov", "from 17 to 20 Nov", "from 29 Nov to 2 Dec"."""
    if first == last:
        return t("dates.on", day=day(t, first))
    same_month = (first.year, first.month) == (last.year, last.month)
    start = str(first.day) if same_month else day(t, first, weekday=False)
    end = day(t, last, weekday=False)
    key = "dates.on_two" if (last - first).days == 1 else "dates.from_to"
    return t(key, first=start, last=end)


def both(t: Text, words: list[str]) -> str:
    """ "redder", "redder and warmer", "redder, blotchy and warmer"."""
    if len(words) < 2:
        return "".join(words)
    return t("dates.and", first=", ".join(words[:-1]), last=words[-1])


def relief(t: Text, cycle: Cycle) -> str:
    """ "24.09: relief 67%, 11% now", beside an infusion's line on a staff chart."""
    assert cycle.relief is not None and cycle.relief_now is not None
    return t(
        "alerts.chart_relief_ended" if cycle.ended else "alerts.chart_relief",
        date=cycle.infusion.strftime("%d.%m"),
        relief=round(100 * cycle.relief),
        now=max(0, round(100 * cycle.relief_now)),
    )


def _range(details: Mapping[str, object]) -> str:
    low, high = details["low"], details["high"]
    return str(low) if low == high else f"{low}-{high}"


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def finding(t: Text, rule: str, details: Mapping[str, object], zone: ZoneInfo) -> str:
    """One line for one rule's finding. A finding recorded before these words existed (its details
    lack the onset) is named by its rule."""
    try:
        return _finding(t, rule, details, zone)
    except (KeyError, IndexError, TypeError, ValueError):
        return t(f"alerts.rule.{rule}")


def _finding(t: Text, rule: str, details: Mapping[str, object], zone: ZoneInfo) -> str:
    key = f"alerts.finding.{rule}"
    since = day(t, local_day(str(details["since"]), zone))
    if rule == "pain_worsening":
        return t(
            key,
            pain=_range(details),
            since=since,
            usual=_number(details["baseline"]),
            days=details["baseline_days"],
        )
    if rule == "severe_pain":
        count = len(str(details["recent"]).split(","))
        return t(key, pain=_range(details), count=count, since=since, at_least=details["at_least"])
    if rule in ("vasomotor_change", "swelling_new"):
        span = days(t, local_day(str(details["since"]), zone), local_day(str(details["until"]), zone))
        words = [
            t(f"alerts.sign.{item}.{value}")
            for item in SIGN_ITEMS
            for value in str(details.get(item, "")).split(",")
            if value
        ]
        return t(key, signs=both(t, words), days=span, calm=details["calm_before"])
    if rule == "low_mood" and details.get("source") == "phq9":
        if details["previous"] == "-":
            return t(f"{key}.phq9_first", total=details["total"], on=since)
        return t(f"{key}.phq9", total=details["total"], on=since, previous=details["previous"])
    if rule == "low_mood":
        count = len(str(details["recent"]).split(","))
        usual = details["usual"]
        compared = t("alerts.finding.no_usual") if usual == "-" else t("alerts.finding.usual", usual=_number(usual))
        return t(f"{key}.diary", mood=_range(details), count=count, since=since, usual=compared)
    return t(key, **{**details, "since": since})
