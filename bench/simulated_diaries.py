"""A simulated CRPS cohort with known truth: infusions, flares with onsets, missed check-ins.

Each patient has a usual pain level, day-to-day noise (SD 1 to 1.5, shared by the day's two
check-ins, plus a little within the day), and some of:
- ketamine infusions every 10-14 weeks, whose relief (30-70%) holds a week and fades over 12 weeks;
- worsening episodes (flares): +2 to +4 points for 1 to 4 weeks, reached within a day, not in the
  first four weeks after an infusion (whose relief would hide them from any detector);
- missed check-ins: a per-patient rate of 5-20%, plus away spells of 2-4 days.
Colour/temperature/swelling answers turn abnormal more often during flares; mood follows pain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bot.alerts.trends import Infusion, Point

START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Flare:
    onset: datetime
    end: datetime
    rise: float


@dataclass
class SimulatedPatient:
    code: str
    points: list[Point] = field(default_factory=list)
    infusions: list[Infusion] = field(default_factory=list)
    flares: list[Flare] = field(default_factory=list)
    start: datetime = START
    end: datetime = START


def _relief(day: float, infusion_days: list[tuple[float, float]]) -> float:
    """Points of relief on a day: full for a week after an infusion, fading to none at 12 weeks."""
    relief = 0.0
    for start, amount in infusion_days:
        since = day - start
        if 0 <= since < 84:
            relief = max(relief, amount * (1.0 if since < 7 else 1 - (since - 7) / 77))
    return relief


def simulate_patient(rng: random.Random, code: str, days: int, *, flaring: bool, infused: bool) -> SimulatedPatient:
    patient = SimulatedPatient(code, start=START, end=START + timedelta(days=days))
    usual = rng.uniform(3.0, 7.0)
    noise = rng.uniform(1.0, 1.5)
    miss_rate = rng.uniform(0.05, 0.2)

    infusion_days: list[tuple[float, float]] = []
    if infused:
        day = rng.uniform(20, 45)
        while day < days:
            infusion_days.append((day, usual * rng.uniform(0.3, 0.7)))
            patient.infusions.append(Infusion((START + timedelta(days=day)).date(), "ketamine"))
            day += rng.uniform(70, 98)

    flare_days: list[tuple[float, float, float, float]] = []  # onset, ramp, end, rise
    if flaring:
        day = rng.uniform(35, 70)
        while day < days - 10:
            length = rng.uniform(7, 28)
            # A flare that starts in an infusion's first weeks is hidden by its relief: no detector
            # could tell it, so none is simulated there.
            if not any(start - length <= day <= start + 28 for start, _ in infusion_days):
                rise = rng.uniform(2.0, 4.0)
                flare_days.append((day, rng.uniform(0, 1), day + length, rise))
                patient.flares.append(Flare(START + timedelta(days=day), START + timedelta(days=day + length), rise))
            day += length + rng.uniform(30, 90)

    away_until = -1.0
    for day in range(days):
        shared = rng.gauss(0, noise)
        if day > away_until and rng.random() < 0.01:
            away_until = day + rng.randint(2, 4)
        for hour in (9, 20):
            at = START + timedelta(days=day, hours=hour, minutes=rng.randint(0, 40))
            t = day + hour / 24
            if day <= away_until or rng.random() < miss_rate:
                patient.points.append(Point(at, missed=True))
                continue
            level = usual - _relief(t, infusion_days)
            flaring_now = False
            for onset, ramp, end, rise in flare_days:
                if onset <= t < end:
                    flaring_now = True
                    level += rise * (min(1.0, (t - onset) / ramp) if ramp > 0 else 1.0)
            pain = min(10, max(0, round(level + shared + rng.gauss(0, 0.5))))
            abnormal = 0.35 if flaring_now else 0.03
            mood = min(5, max(1, round(3.6 - 0.35 * (level - usual) + rng.gauss(0, 0.8))))
            patient.points.append(
                Point(
                    at,
                    pain=pain,
                    skin_color=rng.choice(["red", "blue_purple", "mottled"]) if rng.random() < abnormal else "normal",
                    skin_temperature=rng.choice(["warmer", "colder"]) if rng.random() < abnormal else "same",
                    swelling="mild" if rng.random() < abnormal else "none",
                    mood=mood,
                )
            )
    return patient


def simulate(patients: int, days: int, *, seed: int = 7) -> list[SimulatedPatient]:
    """About 40% with flares, 60% with infusions (independently); the rest stable."""
    rng = random.Random(seed)
    return [
        simulate_patient(rng, f"S-{n:05d}", days, flaring=rng.random() < 0.4, infused=rng.random() < 0.6)
        for n in range(patients)
    ]


def calm(patient: SimulatedPatient, at: datetime, *, after_flare: timedelta, after_infusion: timedelta) -> bool:
    """Neither in a flare (nor within `after_flare` after one) nor within `after_infusion` of an infusion."""
    if any(f.onset <= at <= f.end + after_flare for f in patient.flares):
        return False
    on: date = at.date()
    return not any(i.on <= on <= i.on + after_infusion for i in patient.infusions)
