"""A simulated CRPS cohort with known truth: infusions, flares with onsets, missed check-ins, and
depressive episodes with onsets.

Each patient has a usual pain level, day-to-day noise (SD 1 to 1.5, shared by the day's two
check-ins, plus a little within the day), and some of:
- ketamine infusions every 10-14 weeks, whose relief (30-70%) holds a week and fades over 12 weeks;
- worsening episodes (flares): +2 to +4 points for 1 to 4 weeks, reached within a day, not in the
  first four weeks after an infusion (whose relief would hide them from any detector);
- missed check-ins: a per-patient rate of 5-20%, plus away spells of 3-5 days.
Colour/temperature/swelling answers turn abnormal more often during flares, from the onset, except
in a share of flares that come without any skin sign (a third by default): those show in the pain
alone. A patient writes a note on some days, more often during a flare (a quarter of flare days,
one day in twenty otherwise); the rules may see that a check-in has a note, never its words. Mood
follows pain.

A `Cohort` changes those: the days a flare takes to reach its level, the noise's SD and its AR(1)
correlation from day to day, the missed share, one check-in a day instead of two, and the share of
chronically low moods, the share of flares without skin signs and how often notes are written.
The default `Cohort()` is the cohort above: its pain, missed check-ins and moods are drawn exactly as
before there were sign-less flares and notes, which come from a random stream of their own (the skin
answers of a sign-less flare's check-ins are drawn again from it, at the calm rate).

Mood (1-5) is noisy (SD 0.8 per check-in) around a per-patient level: 3.2 to 4 for most patients,
1.3 to 2 for the chronically low (about 18%: usually 1 or 2, some 3s). About 8% of patients, low or
not, have a depressive episode: from an onset after the first six weeks, their level falls by 1.5 to
2.5 over ten days and stays down for 6 to 16 weeks.

Every patient is screened the way the diary does it: a PHQ-2 (0-6) at the first completed check-in
and at the first one 14 or more days after the last, and when it is 3 or more a PHQ-9 (0-27, its
first two items the PHQ-2's) the same day. Both follow a severity tied to the mood level at the time:
a PHQ-9 around 4 for a level of 3.6, five points more per point of mood lower (a chronically low
patient: mostly 10-19), plus a per-patient offset (SD 1.5) and the questionnaires' own noise. An
episode therefore raises the expected PHQ-9 by 7.5 to 12.5 points.

Mood traits and scores come from a random stream of their own: the pain diaries are the same as
without them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bot.alerts.trends import Infusion, Point, Scored

START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Cohort:
    """How a simulated cohort's diaries are made: one member of the family the detection bench sweeps.

    The defaults are the bench's original cohort. Ranges are drawn per patient (noise, missed rate)
    or per flare (ramp); a fixed value is a range of one.
    """

    name: str = "bench"
    ramp_days: tuple[float, float] = (0.0, 1.0)  # days a flare takes to reach its level
    noise_sd: tuple[float, float] = (1.0, 1.5)  # SD of the day's pain noise (shared by its check-ins)
    phi: float = 0.0  # AR(1) correlation of that noise from one day to the next
    miss_rate: tuple[float, float] = (0.05, 0.2)  # per check-in, besides away spells of 3-5 days
    per_day: int = 2  # check-ins a day: 9:00 and 20:00, or 20:00 alone
    low_mood_share: float = 0.18  # patients with a chronically low mood
    signless_share: float = 1 / 3  # flares whose skin colour, temperature and swelling do not change
    note_on_flare_days: float = 0.25  # share of flare days with a note (at one of the day's check-ins)
    note_on_calm_days: float = 0.05  # the same on other days


# Skin answers that report a change: per item and check-in, in a flare with signs and otherwise.
SIGN_RATE_IN_FLARE = 0.35
SIGN_RATE_CALM = 0.03

# Away spells start on 1% of days and last 3-5 days (4 on average): about 4/104 of check-ins.
AWAY_SHARE = 4 / 104


def miss_rate_for(share: float) -> tuple[float, float]:
    """Per-patient missed rates (half to one and a half times the mean) for an overall missed share
    that includes the away spells."""
    rate = max(0.0, (share - AWAY_SHARE) / (1 - AWAY_SHARE))
    return (0.5 * rate, 1.5 * rate)


def expected_missed_share(cohort: Cohort) -> float:
    rate = sum(cohort.miss_rate) / 2
    return AWAY_SHARE + (1 - AWAY_SHARE) * rate


@dataclass(frozen=True)
class Flare:
    onset: datetime
    end: datetime
    rise: float
    signs: bool = True  # False: the skin answers stay as in a calm spell; the pain alone shows it


@dataclass(frozen=True)
class Episode:
    """A depressive episode: mood level `depth` points lower from `onset` (fully within ten days) to `end`."""

    onset: datetime
    end: datetime
    depth: float


@dataclass
class SimulatedPatient:
    code: str
    points: list[Point] = field(default_factory=list)
    infusions: list[Infusion] = field(default_factory=list)
    flares: list[Flare] = field(default_factory=list)
    scores: list[Scored] = field(default_factory=list)  # PHQ-2 and PHQ-9 totals, in time order
    chronic_low_mood: bool = False
    episodes: list[Episode] = field(default_factory=list)
    start: datetime = START
    end: datetime = START


@dataclass(frozen=True)
class MoodTraits:
    level: float  # the usual mood, 1-5, before pain moves it
    phq_offset: float  # how much higher than the mood level says this patient scores the PHQ
    episode: tuple[float, float, float] | None  # onset day, end day, depth


EPISODE_RAMP_DAYS = 10.0


def mood_traits(moods: random.Random, days: int, *, chronic_low: bool, episode: bool) -> MoodTraits:
    level = moods.uniform(1.3, 2.0) if chronic_low else moods.uniform(3.2, 4.0)
    offset = moods.gauss(0, 1.5)
    span = None
    if episode and days >= 84:
        onset = moods.uniform(42, days - 28)  # late enough for a baseline, early enough to be seen
        span = (onset, onset + moods.uniform(42, 112), moods.uniform(1.5, 2.5))
    return MoodTraits(level, offset, span)


def _mood_level(traits: MoodTraits, day: float) -> float:
    if traits.episode is None:
        return traits.level
    onset, end, depth = traits.episode
    if not onset <= day < end:
        return traits.level
    return traits.level - depth * min(1.0, (day - onset) / EPISODE_RAMP_DAYS)


def _screen(moods: random.Random, at: datetime, severity: float) -> list[Scored]:
    """A PHQ-2 and, when positive, the PHQ-9 that follows it; `severity` is the expected PHQ-9 total.
    The PHQ-2 items carry more of the total in a low mood than the average item does."""
    phq2 = min(6, max(0, round(0.27 * severity + moods.gauss(0, 0.6))))
    screened = [Scored(at, "phq2", phq2)]
    if phq2 >= 3:
        rest = min(21, max(0, round(0.73 * severity + moods.gauss(0, 2.0))))
        screened.append(Scored(at + timedelta(minutes=3), "phq9", phq2 + rest))
    return screened


def _relief(day: float, infusion_days: list[tuple[float, float]]) -> float:
    """Points of relief on a day: full for a week after an infusion, fading to none at 12 weeks."""
    relief = 0.0
    for start, amount in infusion_days:
        since = day - start
        if 0 <= since < 84:
            relief = max(relief, amount * (1.0 if since < 7 else 1 - (since - 7) / 77))
    return relief


def simulate_patient(
    rng: random.Random,
    code: str,
    days: int,
    *,
    flaring: bool,
    infused: bool,
    moods: random.Random | None = None,
    chronic_low_mood: bool = False,
    episode: bool = False,
    cohort: Cohort = Cohort(),
    extra: random.Random | None = None,
) -> SimulatedPatient:
    """`moods` draws the mood traits and questionnaire scores (none without it); `extra` which flares
    have no skin signs, their skin answers and the notes (a stream of the patient's code without it);
    `rng` everything else. The default cohort draws from `rng` exactly as before it had parameters."""
    extra = extra or random.Random(code)
    patient = SimulatedPatient(code, start=START, end=START + timedelta(days=days), chronic_low_mood=chronic_low_mood)
    traits = MoodTraits(3.6, 0.0, None)
    if moods is not None:
        traits = mood_traits(moods, days, chronic_low=chronic_low_mood, episode=episode)
    if traits.episode is not None:
        onset, end, depth = traits.episode
        patient.episodes.append(Episode(START + timedelta(days=onset), START + timedelta(days=min(end, days)), depth))
    usual = rng.uniform(3.0, 7.0)
    noise = rng.uniform(*cohort.noise_sd)
    miss_rate = rng.uniform(*cohort.miss_rate)
    hours = (9, 20) if cohort.per_day == 2 else (20,)
    innovation = math.sqrt(1 - cohort.phi**2)  # keeps the noise's SD at `noise` whatever phi

    infusion_days: list[tuple[float, float]] = []
    if infused:
        day = rng.uniform(20, 45)
        while day < days:
            infusion_days.append((day, usual * rng.uniform(0.3, 0.7)))
            patient.infusions.append(Infusion((START + timedelta(days=day)).date(), "ketamine"))
            day += rng.uniform(70, 98)

    flare_days: list[tuple[float, float, float, float, bool]] = []  # onset, ramp, end, rise, with signs
    if flaring:
        day = rng.uniform(35, 70)
        while day < days - 10:
            length = rng.uniform(7, 28)
            # A flare that starts in an infusion's first weeks is hidden by its relief: no detector
            # could tell it, so none is simulated there.
            if not any(start - length <= day <= start + 28 for start, _ in infusion_days):
                rise = rng.uniform(2.0, 4.0)
                signs = extra.random() >= cohort.signless_share
                flare_days.append((day, rng.uniform(*cohort.ramp_days), day + length, rise, signs))
                onset, end = START + timedelta(days=day), START + timedelta(days=day + length)
                patient.flares.append(Flare(onset, end, rise, signs))
            day += length + rng.uniform(30, 90)

    away_until = -1.0
    last_screen: date | None = None
    shared = 0.0
    for day in range(days):
        # AR(1): today's noise keeps phi of yesterday's, so bad days come in runs (phi 0: independent).
        shared = cohort.phi * shared + innovation * rng.gauss(0, noise) if day else rng.gauss(0, noise)
        if day > away_until and rng.random() < 0.01:
            away_until = day + rng.randint(2, 4)
        for hour in hours:
            at = START + timedelta(days=day, hours=hour, minutes=rng.randint(0, 40))
            t = day + hour / 24
            if day <= away_until or rng.random() < miss_rate:
                patient.points.append(Point(at, missed=True))
                continue
            level = usual - _relief(t, infusion_days)
            flaring_now = signed = False
            for onset, ramp, end, rise, signs in flare_days:
                if onset <= t < end:
                    flaring_now, signed = True, signs
                    level += rise * (min(1.0, (t - onset) / ramp) if ramp > 0 else 1.0)
            pain = min(10, max(0, round(level + shared + rng.gauss(0, 0.5))))
            # The signs change with the flare's onset while the pain may still be rising (an assumption:
            # with signs that ramped like the pain, they would say nothing earlier than the pain does).
            mood_level = _mood_level(traits, t)
            mood = min(5, max(1, round(mood_level - 0.35 * (level - usual) + rng.gauss(0, 0.8))))
            answers = _skin(rng, SIGN_RATE_IN_FLARE if flaring_now else SIGN_RATE_CALM)
            if flaring_now and not signed:
                answers = _skin(extra, SIGN_RATE_CALM)
            # A day's note is written at one of its check-ins: each carries it with 1/per_day of the chance.
            note_share = cohort.note_on_flare_days if flaring_now else cohort.note_on_calm_days
            note = "a note" if extra.random() < note_share / len(hours) else None
            patient.points.append(Point(at, pain=pain, **answers, mood=mood, note=note))
            # The PHQ-2 is offered after a completed check-in when none was taken for 14 days.
            if moods is not None and (last_screen is None or (at.date() - last_screen).days >= 14):
                last_screen = at.date()
                severity = 4 + 5 * (3.6 - mood_level) + traits.phq_offset
                patient.scores += _screen(moods, at + timedelta(minutes=5), severity)
    return patient


def _skin(rng: random.Random, abnormal: float) -> dict[str, str]:
    """Colour, temperature and swelling answers, each changed with probability `abnormal`."""
    return {
        "skin_color": rng.choice(["red", "blue_purple", "mottled"]) if rng.random() < abnormal else "normal",
        "skin_temperature": rng.choice(["warmer", "colder"]) if rng.random() < abnormal else "same",
        "swelling": "mild" if rng.random() < abnormal else "none",
    }


def simulate(patients: int, days: int, *, seed: int = 7, cohort: Cohort = Cohort()) -> list[SimulatedPatient]:
    """About 40% with flares, 60% with infusions (independently); the rest stable. Independently of
    those, `cohort.low_mood_share` (18%) with a chronically low mood and 8% with a depressive episode."""
    rng = random.Random(seed)
    moods = random.Random(f"moods-{seed}")
    extra = random.Random(f"signs-and-notes-{seed}")
    return [
        simulate_patient(
            rng,
            f"S-{n:05d}",
            days,
            flaring=rng.random() < 0.4,
            infused=rng.random() < 0.6,
            moods=moods,
            chronic_low_mood=moods.random() < cohort.low_mood_share,
            episode=moods.random() < 0.08,
            cohort=cohort,
            extra=extra,
        )
        for n in range(patients)
    ]


def calm(patient: SimulatedPatient, at: datetime, *, after_flare: timedelta, after_infusion: timedelta) -> bool:
    """Neither in a flare (nor within `after_flare` after one) nor within `after_infusion` of an infusion."""
    if any(f.onset <= at <= f.end + after_flare for f in patient.flares):
        return False
    on: date = at.date()
    return not any(i.on <= on <= i.on + after_infusion for i in patient.infusions)
