"""The detection bench's simulated cohort and its stand-in for the earlier low_mood rule."""

from __future__ import annotations

import random
from datetime import timedelta
from itertools import pairwise

from bench.detection import earlier_low_mood
from bench.simulated_diaries import simulate, simulate_patient
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
