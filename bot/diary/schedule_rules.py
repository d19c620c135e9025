"""Schedule arithmetic: when is each patient's next check-in, in their own time zone. Pure functions.

A slot is a nominal local time on a local date ("09:00" on 2026-03-29). Its UTC instant is that wall
time in the patient's zone, with two daylight-saving rules:
- a wall time that does not exist that day (spring forward) fires at the first valid minute after it;
- a wall time that occurs twice (fall back) fires once, at its first occurrence.
Slots follow each other in (local date, local time) order, and each fires strictly after the one
before it: if a gap pushes two slots onto the same instant, the later one moves on by a minute.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from bot.diary import places
from bot.prompts import Catalog

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTE = timedelta(minutes=1)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# A word shaped like check-in times, with the commas people put before or after a space ("09:00,").
_TIMES_WORD = re.compile(r",?\d{1,2}:\d{2}(,\d{1,2}:\d{2})*,?")
# One end of quiet hours: "22:00", or the hour alone ("22", "7"), which can only mean its full hour.
_QUIET_END = re.compile(r"([01]?\d|2[0-3])(?::([0-5]\d))?")
_LONGEST_SHOWN = 60  # a word quoted back in a refusal is cut here: nobody needs 4,000 characters back


class InputError(ValueError):
    """Words staff or admins typed that the diary does not take. `key` names the message under `input.`
    in prompts/messages that says what is wrong and how to write it, so each reader gets it in their
    language; str() is the English one, which the command line and configuration errors print."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = f"input.{key}"
        self.values = values

    def __str__(self) -> str:
        english = _english()
        return english.text(english.default_language, self.key, **self.values)


class ScheduleError(InputError):
    """Input that does not describe a schedule (times, days, zone, quiet hours)."""


@cache
def _english() -> Catalog:
    return Catalog.load("en")


def shown(word: str) -> str:
    return word[:_LONGEST_SHOWN]


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
            raise ScheduleError("not_a_time", word=shown(part))
        times.add(time(int(match.group(1)), int(match.group(2))))
    if not 1 <= len(times) <= 4:
        raise ScheduleError("times_count")
    return tuple(sorted(times))


def is_times_word(word: str) -> bool:
    """'09:00', '09:00,20:00' or '09:00,': a word meant as check-in times (right or wrong)."""
    return _TIMES_WORD.fullmatch(word) is not None


def join_spaced_times(words: Sequence[str]) -> None:
    """Refuse check-in times written with spaces ('09:00 20:00', '09:00, 20:00'), naming the joined
    form. They are not taken as meant: the same words go to the command line, where the shell has
    already split them into times, days and zone, and one spelling serves the bot, the command line and
    the schedule shown back."""
    run = list(itertools.takewhile(is_times_word, words))
    if len(run) > 1:
        joined = ",".join(part for word in run for part in word.split(",") if part)
        raise ScheduleError("times_spaced", word=shown(run[1]), times=joined)


def format_times(times: tuple[time, ...]) -> str:
    return ",".join(t.strftime("%H:%M") for t in times)


def parse_days(text: str) -> frozenset[int]:
    """'mon-sun', 'mon-fri', 'mon,wed,fri', 'sat-sun' (ranges may wrap: 'fri-mon')."""
    days: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        ends = part.split("-")
        if _TIME.match(part):  # "09:00 20:00 mon-sun ...": the second time landed where the days go
            raise ScheduleError("time_not_a_day", word=shown(part))
        if len(ends) > 2 or any(end not in DAY_NAMES for end in ends):
            raise ScheduleError("not_a_day", word=shown(part))
        first, last = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        days.update((first + n) % 7 for n in range((last - first) % 7 + 1))
    if not days:
        raise ScheduleError("no_day")
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "mon-sun"
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def parse_zone(name: str) -> str:
    """An IANA time zone exactly as the database spells it. Anything else is refused with the nearest
    zone named (a misspelling, a city, other capitals), for whoever typed it to confirm: a zone decides
    when a patient is asked, so it is never guessed."""
    if name in places.zone_names():
        return name
    place = places.nearest_place(name)
    if place is None:
        raise ScheduleError("not_a_zone", word=shown(name))
    if len(place.zones) > 1:
        raise ScheduleError("zone_choice", word=shown(name), zones=", ".join(place.zones))
    raise ScheduleError("zone_suggestion", word=shown(name), zone=place.zones[0])


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """'22:00-07:00' or '22-07' -> (start, end); the span may cross midnight."""
    parts = text.replace("–", "-").split("-")  # phones turn a typed hyphen into an en dash
    ends = [_QUIET_END.fullmatch(part.strip()) for part in parts]
    if len(ends) != 2 or ends[0] is None or ends[1] is None:
        raise ScheduleError("not_quiet_hours", word=shown(text))
    start, end = (time(int(end.group(1)), int(end.group(2) or 0)) for end in ends if end is not None)
    if start == end:
        raise ScheduleError("quiet_empty", word=shown(text))
    return start, end


def format_quiet_hours(quiet: tuple[time, time]) -> str:
    return "-".join(end.strftime("%H:%M") for end in quiet)


def parse_schedule_words(words: Sequence[str]) -> tuple[Rule, str | None]:
    """What follows the patient's code in /schedule: times, days, zone and, if the patient has their
    own, quiet hours (stored as 22:00-07:00 however they were written)."""
    join_spaced_times(words)
    if len(words) not in (3, 4):
        raise ScheduleError("schedule_words")
    rule = parse_rule(words[0], words[1], words[2])
    return rule, format_quiet_hours(parse_quiet_hours(words[3])) if len(words) == 4 else None


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
    raise ScheduleError("no_send_day")


def upcoming(rule: Rule, *, now: datetime, count: int) -> list[Slot]:
    """The next `count` slots from now, as `/schedule CODE` shows them."""
    slots = [next_slot(rule, after=None, previous_fire=None, now=now)]
    while len(slots) < count:
        last = slots[-1]
        slots.append(next_slot(rule, after=(last.local_date, last.local_time), previous_fire=last.fire_at, now=now))
    return slots
