"""Schedule arithmetic: when is each patient's next check-in, in their own time zone. Pure functions.

A slot is a nominal local time on a local date ("09:00" on 2026-03-29). Its UTC instant is that wall
time in the patient's zone, with two daylight-saving rules:
- a wall time that does not exist that day (spring forward) fires at the first valid minute after it;
- a wall time that occurs twice (fall back) fires once, at its first occurrence.
Slots follow each other in (local date, local time) order, and each fires strictly after the one
before it: if a gap pushes two slots onto the same instant, the later one moves on by a minute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTE = timedelta(minutes=1)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """Input that does not describe a schedule; the message says how to write it."""


@dataclass(frozen=True)
class Rule:
    times: tuple[time, ...]
    days: frozenset[int]  # 0 = Monday
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> str:
        return f"{format_times(self.times)} {format_days(self.days)} {self.timezone}"


@dataclass(frozen=True)
class Slot:
    local_date: date
    local_time: time
    fire_at: datetime  # UTC

    @property
    def name(self) -> str:
        return self.local_time.strftime("%H:%M")


def parse_times(text: str) -> tuple[time, ...]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    times = set()
    for part in parts:
        match = _TIME.match(part)
        if not match:
            raise ScheduleError(f"'{part}' is not a time: write local times as HH:MM, comma-separated (09:00,20:00)")
        times.add(time(int(match.group(1)), int(match.group(2))))
    if not 1 <= len(times) <= 4:
        raise ScheduleError("a schedule has 1 to 4 check-in times a day, e.g. 09:00 or 09:00,20:00")
    return tuple(sorted(times))


def format_times(times: tuple[time, ...]) -> str:
    return ",".join(t.strftime("%H:%M") for t in times)


def parse_days(text: str) -> frozenset[int]:
    """'mon-sun', 'mon-fri', 'mon,wed,fri', 'sat-sun' (ranges may wrap: 'fri-mon')."""
    days: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        ends = part.split("-")
        if len(ends) > 2 or any(end not in DAY_NAMES for end in ends):
            raise ScheduleError(f"'{part}' is not a day or range: write mon-sun, mon-fri or mon,wed,fri")
        first, last = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        days.update((first + n) % 7 for n in range((last - first) % 7 + 1))
    if not days:
        raise ScheduleError("name at least one day: mon-sun, mon-fri or mon,wed,fri")
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "mon-sun"
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def parse_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"'{name}' is not an IANA time zone (for example Europe/Berlin)") from None
    return name


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """'22:00-07:00' -> (start, end); the span may cross midnight."""
    parts = text.split("-")
    if len(parts) != 2:
        raise ScheduleError(f"'{text}' is not a span of hours: write it as 22:00-07:00")
    start, end = (parse_times(part)[0] for part in parts)
    return start, end


def in_quiet_hours(moment: datetime, zone: ZoneInfo, quiet: tuple[time, time] | None) -> bool:
    if quiet is None:
        return False
    start, end = quiet
    local = moment.astimezone(zone).time()
    return start <= local < end if start <= end else local >= start or local < end


def parse_rule(times: str, days: str, timezone: str) -> Rule:
    return Rule(parse_times(times), parse_days(days), parse_zone(timezone))


def wall_clock_instant(local_date: date, local_time: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall time: the first occurrence if repeated, the first valid minute after if
    skipped."""
    wanted = datetime.combine(local_date, local_time)
    candidate = wanted
    for _ in range(24 * 60):  # gaps are at most a few hours; this bounds the walk
        aware = candidate.replace(tzinfo=zone, fold=0)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == candidate:
            return aware.astimezone(UTC)
        candidate += MINUTE
    raise ValueError(f"no valid wall time near {wanted} in {zone}")


def slots_from(rule: Rule, local_date: date) -> list[tuple[date, time]]:
    """The nominal slots of one local date (none if the day is not in the schedule)."""
    if local_date.weekday() not in rule.days:
        return []
    return [(local_date, t) for t in rule.times]


def next_slot(rule: Rule, *, after: tuple[date, time] | None, previous_fire: datetime | None, now: datetime) -> Slot:
    """The slot that comes after `after` (a local date and time), firing strictly after `previous_fire`.

    With no `after` (a new or changed schedule) it is the first slot whose instant is after `now`.
    """
    zone = rule.zone
    if after is None:
        start_date = now.astimezone(zone).date() - timedelta(days=1)
        cursor: tuple[date, time] = (start_date, time.min)
    else:
        start_date, cursor = after[0], after
    for offset in range(0, 9):
        for local_date, local_time in slots_from(rule, start_date + timedelta(days=offset)):
            if (local_date, local_time) <= cursor and after is not None:
                continue
            fire_at = wall_clock_instant(local_date, local_time, zone)
            if previous_fire is not None and fire_at <= previous_fire:
                fire_at = previous_fire + MINUTE
            if after is None and fire_at <= now:
                continue
            return Slot(local_date, local_time, fire_at)
    raise ScheduleError("the schedule has no day on which to send a check-in")


def upcoming(rule: Rule, *, now: datetime, count: int) -> list[Slot]:
    """The next `count` slots from now, as `/schedule CODE` shows them."""
    slots = [next_slot(rule, after=None, previous_fire=None, now=now)]
    while len(slots) < count:
        last = slots[-1]
        slots.append(next_slot(rule, after=(last.local_date, last.local_time), previous_fire=last.fire_at, now=now))
    return slots
