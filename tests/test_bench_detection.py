"""The detection bench's simulated cohort and its stand-in for the earlier low_mood rule."""

from __future__ import annotations

import random
import statistics
from datetime import timedelta
from itertools import pairwise

from bench.detection import earlier_low_mood, family
from bench.simulated_diaries import Cohort, expected_missed_share, miss_rate_for, simulate, simulate_patient
from bot.alerts.rules import load_rules
from bot.alerts.trends import Point, low_mood

COHORT = simulate(60, 120, seed=3)


def three_low_in_a_row(points: list[Point]) -> list[Point]:
    """The earlier rule as it was written: 3 answered moods <= 2 in a row, each run once."""
    fired, run = [], 0
    for point in points:
        if point.mood is None:
            continue
        run = run + 1 if point.mood <= 2 else 0
        if run == 3:
            fired.append(point)
    return fired


def test_the_earlier_rule_is_three_low_moods_in_a_row() -> None:
    rules = earlier_low_mood(load_rules())
    compared = 0
    for patient in COHORT:
        expected = [p.at for p in three_low_in_a_row(patient.points)]
        assert [f.at for f in low_mood(patient.points, (), rules)] == expected
        compared += len(expected)
    assert compared > 50  # the chronically low patients give many


def test_the_mood_stream_leaves_the_pain_diary_alone() -> None:
    def diary(moods: random.Random | None) -> list[tuple[object, ...]]:
        patient = simulate_patient(
            random.Random(5), "S-1", 120, flaring=True, infused=True, moods=moods, chronic_low_mood=True, episode=True
        )
        return [(p.at, p.pain, p.skin_color, p.skin_temperature, p.swelling, p.missed) for p in patient.points]

    assert diary(None) == diary(random.Random(9))


def test_screening_every_14_days_with_a_phq9_after_a_positive_phq2() -> None:
    for patient in COHORT:
        phq2 = [s for s in patient.scores if s.questionnaire == "phq2"]
        assert phq2
        assert all((b.at.date() - a.at.date()).days >= 14 for a, b in pairwise(phq2))
        for phq9 in (s for s in patient.scores if s.questionnaire == "phq9"):
            screen = [s for s in phq2 if s.at <= phq9.at][-1]
            assert phq9.at - screen.at < timedelta(hours=1) and screen.total >= 3
            assert screen.total <= phq9.total <= 27
        positive = sum(1 for s in phq2 if s.total >= 3)
        assert positive == sum(1 for s in patient.scores if s.questionnaire == "phq9")


def test_chronically_low_patients_score_moderate_and_others_screen_negative() -> None:
    steady = [p for p in COHORT if not p.episodes]
    low = [s.total for p in steady if p.chronic_low_mood for s in p.scores if s.questionnaire == "phq9"]
    others = [s.total for p in steady if not p.chronic_low_mood for s in p.scores if s.questionnaire == "phq2"]
    assert low and sum(10 <= total <= 19 for total in low) / len(low) > 0.8
    assert others and sum(total < 3 for total in others) / len(others) > 0.9


# -- the family's parameters


def member(**changes: object) -> Cohort:
    return Cohort(**{"ramp_days": (0.0, 0.0), "noise_sd": (1.2, 1.2), **changes})  # type: ignore[arg-type]


def test_the_missed_share_is_close_to_the_one_asked_for() -> None:
    for share in (0.05, 0.30):
        cohort = member(miss_rate=miss_rate_for(share))
        points = [q for p in simulate(80, 180, seed=4, cohort=cohort) for q in p.points]
        assert abs(sum(q.missed for q in points) / len(points) - share) < 0.02
        assert abs(expected_missed_share(cohort) - share) < 1e-9


def day_noise(phi: float) -> list[list[float]]:
    """Each stable, never-infused patient's daily pain minus their mean, one check-in a day."""
    series = []
    for n in range(60):
        patient = simulate_patient(
            random.Random(n), "S", 365, flaring=False, infused=False, cohort=member(phi=phi, per_day=1)
        )
        pains = [float(q.pain) for q in patient.points if q.pain is not None]
        mean = sum(pains) / len(pains)
        series.append([p - mean for p in pains])
    return series


def lag1(series: list[list[float]]) -> float:
    pairs = [(a, b) for s in series for a, b in pairwise(s)]
    return sum(a * b for a, b in pairs) / sum(a * a for a, _ in pairs)


def test_day_to_day_correlation_shows_in_the_noise() -> None:
    # Some missed days break pairs apart; the within-day noise and rounding lower it a little.
    assert abs(lag1(day_noise(0.0))) < 0.08
    assert 0.4 < lag1(day_noise(0.6)) < 0.65


def test_one_check_in_a_day_gives_one_point_a_day() -> None:
    for per_day in (1, 2):
        patient = simulate_patient(
            random.Random(1), "S", 50, flaring=True, infused=True, cohort=member(per_day=per_day)
        )
        assert len(patient.points) == 50 * per_day
        assert len({p.at.date() for p in patient.points}) == 50


def test_a_flare_reaches_its_level_after_its_ramp() -> None:
    # No noise to speak of, no missed check-ins: the pain is the usual level plus the flare's share.
    quiet = member(noise_sd=(0.0, 0.0), miss_rate=(0.0, 0.0), ramp_days=(3.0, 3.0), per_day=1)
    for seed in range(40):
        patient = simulate_patient(random.Random(seed), "S", 200, flaring=True, infused=False, cohort=quiet)
        if not patient.flares or any(p.missed for p in patient.points):
            continue
        flare = patient.flares[0]
        before = [p.pain for p in patient.points if p.at < flare.onset and p.pain is not None][-10:]
        usual = statistics.median(before)  # type: ignore[type-var]
        after = [p.pain for p in patient.points if flare.onset <= p.at < flare.end]
        assert after[0] is not None and after[0] - usual < flare.rise * 0.5 + 1  # a third of the way
        assert all(p is not None and abs(p - usual - flare.rise) <= 1.5 for p in after[3:6])  # there
        return
    raise AssertionError("no quiet flaring patient")


def test_the_default_cohort_is_the_benchs_own() -> None:
    assert family()[0] == Cohort() and Cohort().per_day == 2 and Cohort().low_mood_share == 0.18


# -- flares without skin signs, and notes


def test_a_third_of_flares_come_without_skin_signs_and_their_answers_look_calm() -> None:
    cohort = member(miss_rate=(0.0, 0.0))
    patients = simulate(200, 180, seed=5, cohort=cohort)
    flares = [f for p in patients for f in p.flares]
    assert abs(sum(not f.signs for f in flares) / len(flares) - 1 / 3) < 0.08

    def changed_share(signs: bool) -> float:
        answers = [
            q.skin_color != "normal"
            for p in patients
            for f in p.flares
            if f.signs is signs
            for q in p.points
            if f.onset <= q.at < f.end
        ]
        return sum(answers) / len(answers)

    assert changed_share(False) < 0.06 < 0.25 < changed_share(True)


def test_notes_come_more_often_on_flare_days() -> None:
    patients = simulate(200, 180, seed=5, cohort=member(per_day=1, miss_rate=(0.0, 0.0)))

    def noted(in_flare: bool) -> float:
        points = [q for p in patients for q in p.points if any(f.onset <= q.at < f.end for f in p.flares) is in_flare]
        return sum(q.note is not None for q in points) / len(points)

    assert 0.03 < noted(False) < 0.07 and 0.18 < noted(True) < 0.32


def test_signs_and_notes_leave_the_pain_diary_alone() -> None:
    def diary(cohort: Cohort) -> list[tuple[object, ...]]:
        patients = simulate(30, 180, seed=2, cohort=cohort)
        return [(q.at, q.pain, q.mood, q.missed) for p in patients for q in p.points]

    assert diary(member(signless_share=0.0, note_on_flare_days=0.0)) == diary(member())
