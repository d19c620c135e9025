"""Schedule arithmetic across time zones and daylight saving time, 2020-2035."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diary.schedule_rules import (
    Rule,
    ScheduleError,
    join_spaced_times,
    next_slot,
    parse_days,
    parse_quiet_hours,
    parse_rule,
    parse_schedule_words,
    parse_times,
    parse_zone,
    upcoming,
    wall_clock_instant,
)

ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
BERLIN = ZoneInfo("Europe/Berlin")


def test_parsing_and_clear_errors() -> None:
    assert parse_times("20:00, 9:00") == (time(9), time(20))
    assert parse_days("mon-sun") == frozenset(range(7))
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("fri-mon") == frozenset({4, 5, 6, 0})
    assert parse_days("mon,wed,fri") == frozenset({0, 2, 4})
    with pytest.raises(ScheduleError, match="HH:MM"):
        parse_times("9am")
    with pytest.raises(ScheduleError, match="1 to 4"):
        parse_times("08:00,10:00,12:00,14:00,16:00")
    with pytest.raises(ScheduleError, match="mon-sun"):
        parse_days("weekdays")
    with pytest.raises(ScheduleError, match="'Berlin' is not an IANA time zone: did you mean Europe/Berlin"):
        parse_rule("09:00", "mon-sun", "Berlin")


def test_spring_forward_gap_fires_at_the_first_valid_minute() -> None:
    # 2026-03-29: Berlin jumps from 02:00 to 03:00.
    assert wall_clock_instant(date(2026, 3, 29), time(2, 30), BERLIN) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert wall_clock_instant(date(2026, 3, 29), time(9, 0), BERLIN) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_fall_back_fold_fires_once_at_the_first_occurrence() -> None:
    # 2026-10-25: Berlin repeats 02:00-03:00.
    rule = Rule((time(2, 30),), frozenset(range(7)), "Europe/Berlin")
    start = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    slots = upcoming(rule, now=start, count=3)
    assert [s.local_date for s in slots] == [date(2026, 10, 25), date(2026, 10, 26), date(2026, 10, 27)]
    assert slots[0].fire_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first of the two


def test_two_slots_pushed_onto_one_instant_stay_in_order() -> None:
    rule = Rule((time(2, 30), time(3, 0)), frozenset(range(7)), "Europe/Berlin")
    slots = upcoming(rule, now=datetime(2026, 3, 28, 12, tzinfo=UTC), count=2)
    assert [s.fire_at for s in slots] == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 1, tzinfo=UTC),
    ]


def test_days_of_the_week_are_local() -> None:
    rule = parse_rule("23:30", "mon", "Pacific/Auckland")
    slot = upcoming(rule, now=datetime(2026, 11, 21, tzinfo=UTC), count=1)[0]
    assert slot.local_date.weekday() == 0
    assert slot.fire_at.astimezone(ZoneInfo("Pacific/Auckland")).time() == time(23, 30)


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    times=st.lists(st.times().map(lambda t: t.replace(second=0, microsecond=0)), min_size=1, max_size=4, unique=True),
    days=st.sets(st.integers(0, 6), min_size=1),
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 1), timezones=st.just(UTC)),
)
def test_slot_sequence_properties(zone: str, times: list[time], days: set[int], start: datetime) -> None:
    if len({t.strftime("%H:%M") for t in times}) != len(times):
        return
    rule = Rule(tuple(sorted(times)), frozenset(days), zone)
    slots = upcoming(rule, now=start, count=30)
    keys = [(s.local_date, s.name) for s in slots]
    assert len(set(keys)) == len(keys), "at most one check-in per slot per local date"
    assert keys == sorted(keys)
    assert all(a.fire_at < b.fire_at for a, b in itertools.pairwise(slots)), "UTC fire times increase"
    assert slots[0].fire_at >= start, "never in the past"
    tz = ZoneInfo(zone)
    for previous, slot in zip([None, *slots], slots, strict=False):
        assert slot.local_date.weekday() in days
        wall = datetime.combine(slot.local_date, slot.local_time)
        local = slot.fire_at.astimezone(tz).replace(tzinfo=None)
        if _exists(wall, tz):
            if local != wall:  # only when a skipped wall time before it was pushed onto the same instant
                assert previous is not None and not _exists(
                    datetime.combine(previous.local_date, previous.local_time), tz
                )
                assert slot.fire_at == previous.fire_at + timedelta(minutes=1)
        else:
            assert local > wall and local.date() == slot.local_date, "the first valid minute after it"


def _exists(wall: datetime, tz: ZoneInfo) -> bool:
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def test_restart_resumes_from_the_stored_slot() -> None:
    rule = parse_rule("09:00,20:00", "mon-sun", "Europe/Berlin")
    first = next_slot(rule, after=None, previous_fire=None, now=datetime(2026, 11, 21, 7, 30, tzinfo=UTC))
    assert (first.local_date, first.name) == (date(2026, 11, 21), "09:00")
    second = next_slot(
        rule,
        after=(first.local_date, first.local_time),
        previous_fire=first.fire_at,
        now=datetime(2026, 11, 21, 23, 0, tzinfo=UTC),
    )
    assert (second.local_date, second.name) == (date(2026, 11, 21), "20:00"), "the stored cursor, not the clock"


def test_admin_words_are_refused_with_the_word_named_and_a_way_to_write_it() -> None:
    with pytest.raises(ScheduleError) as refused:
        join_spaced_times(["09:00,", "13:00", "20:00", "mon-sun"])
    assert str(refused.value) == (
        "'13:00' is a second check-in time: join the times with a comma, without spaces (09:00,13:00,20:00)"
    )
    join_spaced_times(["09:00,20:00", "mon-sun", "Europe/Berlin"])  # joined: nothing to say
    with pytest.raises(ScheduleError, match="'20:00' is a time, not a day"):
        parse_days("20:00")
    assert parse_quiet_hours("22-07") == parse_quiet_hours("22:00–07:00") == (time(22), time(7))
    for bad, key in [("22", "not_quiet_hours"), ("22-7-8", "not_quiet_hours"), ("7-7", "quiet_empty")]:
        with pytest.raises(ScheduleError) as refused:
            parse_quiet_hours(bad)
        assert refused.value.key == f"input.{key}", bad
    assert parse_schedule_words(["9:00", "mon-fri", "Europe/Berlin", "22-7"])[1] == "22:00-07:00"
    with pytest.raises(ScheduleError, match="did you mean Europe/Berlin"):
        parse_zone("europe/berlin")  # stored and shown as the database spells it
    with pytest.raises(ScheduleError, match="write one of America/Caracas, Europe/Madrid"):
        parse_zone("Valencia")
    assert parse_zone("UTC") == "UTC" and parse_zone("Etc/GMT+3") == "Etc/GMT+3", "every IANA name still works"
