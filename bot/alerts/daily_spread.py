"""How far a patient's pain wanders from day to day, for the pain_worsening CUSUM.

A diary's scores are not independent draws. Scores given hours apart share the day's pain, and a
bad day makes the next one more likely to be bad (day-to-day correlation). Both make a run of high
scores weaker evidence than the same run of independent ones. Measuring the spread on daily means,
widened for the correlation between consecutive days, handles one and two check-ins a day alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

# The day-to-day correlation used is capped: a month of scores cannot tell 0.9 from 0.99, and the
# widening (1 + r) / (1 - r) grows without bound as r nears 1.
MAX_DAY_CORRELATION = 0.8
MIN_DAYS = 4
# A median's standard error is about 1.25 times a mean's (for normally distributed days).
MEDIAN_EFFICIENCY = 1.25


@dataclass(frozen=True, slots=True)
class Spread:
    """How far a diary's pain wanders, measured on the days of its baseline."""

    per_checkin: float  # the spread that makes a sum of check-ins behave as independent ones would
    checkins_per_day: float
    usual_error: float  # the standard error of the usual level (the baseline's median)


def daily_spread(entries: Iterable[tuple[datetime, int]]) -> Spread | None:
    """The spread per check-in, and how uncertain the usual level measured on these days is.

    With m the daily means, n the check-ins per day and r the correlation of consecutive days' means,
    the variance of a long sum of check-ins is that of n x var(m) x (1 + r) / (1 - r) per check-in:
    with one independent check-in a day it is just their variance. The usual level is a median of the
    days: its standard error is about 1.25 x sqrt(var(m) x (1 + r) / (1 - r) / days), as for a mean of
    as many independent days as the correlated ones are worth. None with fewer than 4 days.
    """
    days: dict[date, list[int]] = {}
    count = 0
    for at, pain in entries:
        days.setdefault(at.date(), []).append(pain)
        count += 1
    if len(days) < MIN_DAYS:
        return None
    ordered = sorted(days)
    means = [sum(days[day]) / len(days[day]) for day in ordered]
    mean = sum(means) / len(means)
    variance = sum((m - mean) ** 2 for m in means) / (len(means) - 1)
    per_day = count / len(days)
    if variance == 0.0:
        return Spread(0.0, per_day, 0.0)
    # Only days next to each other say how much of today's pain carries into tomorrow.
    pairs = [(means[i], means[i + 1]) for i in range(len(means) - 1) if (ordered[i + 1] - ordered[i]).days == 1]
    correlation = 0.0
    if len(pairs) >= 3:
        correlation = sum((a - mean) * (b - mean) for a, b in pairs) / len(pairs) / variance
    correlation = min(MAX_DAY_CORRELATION, max(0.0, correlation))
    long_run = variance * (1 + correlation) / (1 - correlation)
    return Spread(math.sqrt(per_day * long_run), per_day, MEDIAN_EFFICIENCY * math.sqrt(long_run / len(days)))
