"""The colour question asked against the other side, with the earlier absolute answers still readable."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts.rules import load_rules
from bot.alerts.trends import Point, evaluate
from bot.records.diary_csv import CsvError, read_diary, write_points_to

HEADER = "patient,recorded_at,pain,skin_color,skin_temperature,swelling,mood,note\n"
START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def test_csv_reads_earlier_and_current_colour_answers_and_writes_them_back_unchanged(tmp_path: Path) -> None:
    values = ["normal", "red", "pale", "mottled", "blue_purple", "same", "redder", "paler", "blotchy", "cant_tell"]
    path = tmp_path / "diary.csv"
    path.write_text(
        HEADER + "".join(f"P-1,2026-11-{n + 1:02d}T09:00:00+00:00,4,{v},same,none,3,\n" for n, v in enumerate(values)),
        encoding="utf-8",
    )
    rows = read_diary(path)
    assert [row.point.skin_color for row in rows] == values
    out = io.StringIO()
    write_points_to(out, [("P-1", [row.point for row in rows])])
    assert [line.split(",")[3] for line in out.getvalue().splitlines()[1:]] == values


def test_csv_refuses_a_colour_no_version_of_the_question_offered(tmp_path: Path) -> None:
    path = tmp_path / "diary.csv"
    path.write_text(HEADER + "P-1,2026-11-01T09:00:00+00:00,4,green,same,none,3,\n", encoding="utf-8")
    with pytest.raises(CsvError, match="skin_color: 'green' is not one of"):
        read_diary(path)


def _vasomotor(colours: list[str]) -> int:
    points = [
        Point(START + timedelta(hours=12 * n), pain=4, skin_color=c, skin_temperature="same", swelling="none", mood=4)
        for n, c in enumerate(colours)
    ]
    return sum(f.rule == "vasomotor_change" for f in evaluate(points, [], load_rules()))


@pytest.mark.parametrize(
    ("calm", "changed", "fires"),
    [
        ("same", "redder", 1),
        ("same", "blotchy", 1),
        ("normal", "red", 1),  # the earlier question's answers mean what they meant
        ("normal", "redder", 1),  # a diary that spans both questions
        ("same", "cant_tell", 0),  # "I can't tell" is not a change
    ],
)
def test_a_colour_change_against_the_other_side_is_a_vasomotor_sign(calm: str, changed: str, fires: int) -> None:
    assert _vasomotor([calm] * 5 + [changed] * 3) == fires


def test_i_cant_tell_with_temperature_unanswered_says_nothing_about_the_signs() -> None:
    rules = load_rules()
    unsure = Point(START + timedelta(hours=66), pain=4, skin_color="cant_tell")
    # An evening, the next morning and evening: a change seen three times on two days.
    redder = [Point(START + timedelta(hours=12 * n), pain=4, skin_color="redder") for n in (7, 8, 9)]
    calm = [Point(START + timedelta(hours=12 * n), pain=4, skin_color="same") for n in range(5)]
    assert [f.rule for f in evaluate([*calm, unsure, *redder], [], rules)] == ["vasomotor_change"]
    assert not evaluate([*calm[:4], unsure, *redder], [], rules), "four calm check-ins, not five"
