"""Infusion cycles: how much an infusion helped, how much of that relief is left, and when it will be
below half. Pure functions of one patient's pain scores and infusion days, for staff; a patient is
never told an interpretation.

Relief is measured as the `relief_waning` rule measures it (prompts/rules.yaml): against the median
pain of the `before_days` before the infusion, with pain after it smoothed over `recent_entries`
consecutive scores, so that one good or bad day does not move it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import fmean, median
from zoneinfo import ZoneInfo

from bot.alerts.rules import ReliefWaning

Pains = Sequence[tuple[datetime, int]]  # pain scores in time order


def local(pains: Pains, zone: ZoneInfo) -> Pains:
    """The scores at the patient's own time: a cycle counts the patient's days, as the relief_waning rule
    does (bot/alerts/desk.py, points_from). By UTC's, an evening score west of UTC would fall on the
    next day, after an infusion it came before, and a morning score far east of UTC on the day before."""
    return [(at.astimezone(zone), pain) for at, pain in pains]


@dataclass(frozen=True)
class Step:
    """One score after an infusion: the smoothed level, the relief it means, the best relief so far."""

    at: datetime
    day: int  # days since the infusion
    level: float  # the mean of the last `recent_entries` scores
    relief: float  # (baseline - level) / baseline
    best: float  # the largest relief so far in this cycle
    best_day: int


@dataclass(frozen=True)
class Cycle:
    infusion: date
    kind: str
    day: int  # days since the infusion: today, or the last day before the next infusion
    ended: bool  # a later infusion began the next cycle
    baseline: float | None  # median pain before it; None: too few scores to measure relief
    relief: float | None  # the best relief, a fraction of the baseline
    relief_day: int | None
    relief_now: float | None  # at the last score
    below_half_since: int | None  # the day since which relief has stayed below half of its best
    projected_half: int | None  # not below half yet: the day it is projected to be

    @property
    def measured(self) -> bool:
        return self.relief is not None and self.relief > 0


def baseline(pains: Pains, on: date, config: ReliefWaning) -> float | None:
    before = [pain for at, pain in pains if on - timedelta(days=config.before_days) <= at.date() < on]
    return float(median(before)) if len(before) >= 3 else None


def steps(pains: Pains, on: date, end: date, level: float, config: ReliefWaning) -> Iterator[Step]:
    """The cycle from its infusion to `end` (the next infusion, or after today), score by score."""
    recent: deque[int] = deque(maxlen=config.recent_entries)
    best, best_day = 0.0, 0
    for at, pain in pains:
        if not on <= at.date() < end:
            continue
        recent.append(pain)
        if len(recent) < config.recent_entries:
            continue
        mean = fmean(recent)
        relief = (level - mean) / level if level > 0 else 0.0
        day = (at.date() - on).days
        if relief > best:
            best, best_day = relief, day
        yield Step(at, day, mean, relief, best, best_day)


def _projected(after_best: list[Step], best: float, today: int) -> float | None:
    """When a straight line through relief since its best reaches half of it; None when it is not falling."""
    if len(after_best) < 3:
        return None
    days = [s.day for s in after_best]
    reliefs = [s.relief for s in after_best]
    mean_day, mean_relief = fmean(days), fmean(reliefs)
    spread = sum((d - mean_day) ** 2 for d in days)
    if spread == 0:
        return None
    slope = sum((d - mean_day) * (r - mean_relief) for d, r in zip(days, reliefs, strict=True)) / spread
    if slope >= 0:
        return None
    return max(float(today), mean_day + (best / 2 - mean_relief) / slope)


def cycles(pains: Pains, infusions: Sequence[tuple[date, str]], *, today: date, config: ReliefWaning) -> list[Cycle]:
    """Each infusion's cycle, oldest first. A projection uses the patient's own decay in this cycle and,
    when earlier cycles fell below half, the day they did (the mean of the two)."""
    given = sorted(infusions)
    found: list[Cycle] = []
    for index, (on, kind) in enumerate(given):
        ended = index + 1 < len(given)
        end = given[index + 1][0] if ended else today + timedelta(days=1)
        # Staff record the clinic's date: west of the clinic, the patient's today can be the day before.
        day = (end - on).days - 1 if ended else max(0, (today - on).days)
        level = baseline(pains, on, config)
        walked = list(steps(pains, on, end, level, config)) if level else []
        last = walked[-1] if walked else None
        if level is None or last is None or last.best <= 0:
            found.append(Cycle(on, kind, day, ended, level, None, None, last.relief if last else None, None, None))
            continue
        since = None
        for step in walked:
            if step.relief < step.best / 2 and step.best >= config.min_relief_fraction:
                since = step.day if since is None else since
            else:
                since = None
        projected = None
        if since is None and not ended and last.best >= config.min_relief_fraction:
            own = _projected([s for s in walked if s.day >= last.best_day], last.best, day)
            earlier = [c.below_half_since for c in found if c.below_half_since is not None]
            guesses = [g for g in (own, fmean(earlier) if earlier else None) if g is not None]
            projected = round(max(float(day), fmean(guesses))) if guesses else None
        found.append(Cycle(on, kind, day, ended, level, last.best, last.best_day, last.relief, since, projected))
    return found


def describe(t: Callable[..., str], cycle: Cycle) -> str:
    """ "Infusion 2026-09-01: relief 62% at day 10, 25% now at day 58; below half of it since day 41"."""
    kind = f" ({cycle.kind})" if cycle.kind else ""
    if not cycle.measured or cycle.relief is None or cycle.relief_now is None:
        return t("alerts.cycle.unmeasured", date=cycle.infusion.isoformat(), kind=kind, day=cycle.day)
    text = t(
        "alerts.cycle.ended" if cycle.ended else "alerts.cycle.measured",
        date=cycle.infusion.isoformat(),
        kind=kind,
        relief=round(100 * cycle.relief),
        relief_day=cycle.relief_day,
        now=max(0, round(100 * cycle.relief_now)),
        day=cycle.day,
    )
    if cycle.below_half_since is not None:
        text += t("alerts.cycle.below_half", since=cycle.below_half_since)
    elif cycle.projected_half is not None:
        on = cycle.infusion + timedelta(days=cycle.projected_half)
        text += t("alerts.cycle.projected", projected=cycle.projected_half, on=on.isoformat())
    return text
