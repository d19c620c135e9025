"""Charts: what each one draws (gaps stay gaps, only changed signs are marked, scores in panels of their
own), that it is drawn from that data, its size for a phone, and its words in every language."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.trends import Scored
from bot.diary import chart, scores
from bot.diary.questionnaire import Questionnaires
from bot.prompts import Catalog
from bot.sandbox.picture import message_picture
from bot.sandbox.server import ChatMessage
from storage.checkins import Entry

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
QUESTIONNAIRES = Questionnaires.load()
CATALOG = Catalog.load("en")


def entry(days_ago: float, **answers: str) -> Entry:
    return Entry(0, NOW - timedelta(days=days_ago), dict(answers))


def size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_a_line_joins_only_answers_with_nothing_missed_between() -> None:
    entries = [
        entry(10, pain="4", mood="3"),
        entry(9.5, pain="5", mood="3"),
        entry(9, mood="2"),  # pain skipped: the pain line breaks, mood goes on
        entry(8.5, pain="6", mood="2"),
        entry(8),  # missed check-in: both break
        entry(7.5, pain="6", mood="3"),
        entry(3, pain="7", mood="3"),  # four days without any check-in: a gap
    ]
    data = chart.chart_data(entries, title="t", now=NOW)
    assert [[v for _, v in run] for run in data.pain] == [[4, 5], [6], [6], [7]]
    assert [[v for _, v in run] for run in data.mood] == [[3, 3, 2, 2], [3], [3]]


def test_only_signs_that_differ_from_the_other_side_are_marked() -> None:
    entries = [
        entry(5, skin_color="same", skin_temperature="same", swelling="none"),
        entry(4, skin_color="cant_tell", skin_temperature="warmer", swelling="mild"),
        entry(3, skin_color="redder", skin_temperature="colder", swelling="marked"),
        entry(2, skin_color="normal"),  # the earlier question's "no change"
        entry(1, skin_color="mottled"),  # the earlier question's answer, still shown
    ]
    data = chart.chart_data(entries, title="t", now=NOW)
    assert {item: [code for _, code in marks] for item, marks in data.signs.items()} == {
        "skin_color": ["redder", "mottled"],
        "skin_temperature": ["warmer", "colder"],
        "swelling": ["mild", "marked"],
    }


def test_the_window_keeps_infusions_and_scores_inside_it() -> None:
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=3)
    panels = chart.instruments(
        [Scored(old, "phq9", 15), Scored(recent, "interference", 6.3), Scored(old, "crps", 4)],
        QUESTIONNAIRES,
        lambda q: q.upper(),
    )
    assert [(p.id, p.name, p.highest) for p in panels] == [
        ("crps", "CRPS", 8),
        ("interference", "INTERFERENCE", 10),
        ("phq9", "PHQ9", 27),
    ]
    data = chart.chart_data([entry(1, pain="3")], title="t", now=NOW, infusions=[old, recent], instruments=panels)
    assert data.infusions == [recent]
    assert [(p.id, p.scores) for p in data.instruments] == [("interference", [(recent, 6.3)])]


def test_each_questionnaire_axis_ends_at_its_highest_total() -> None:
    assert {q.id: q.highest for q in QUESTIONNAIRES.values() if q.scoring} == {
        "phq2": 6,
        "phq9": 27,
        "interference": 10,
        "crps": 8,
    }


def staff_data(instruments: int) -> chart.ChartData:
    entries = [entry(d / 2, pain=str(3 + d % 4), mood=str(1 + d % 5), skin_color="redder") for d in range(50)]
    panels = [
        chart.Instrument("phq9", "PHQ-9", 27, [(NOW - timedelta(days=20), 6), (NOW - timedelta(days=6), 12)]),
        chart.Instrument("interference", "PEG", 10, [(NOW - timedelta(days=7), 4.3), (NOW, 6.0)]),
    ][:instruments]
    infusion = NOW - timedelta(days=12)
    return chart.chart_data(entries, title="P-0012", now=NOW, infusions=[infusion], usual=4, rise=2, instruments=panels)


def test_the_chart_draws_its_data_in_separate_panels() -> None:
    data = staff_data(instruments=2)
    labels = chart.chart_labels(lambda key, **_: CATALOG.text("en", key), QUESTIONNAIRES.daily)
    figure = chart.draw(data, labels, timezone="Europe/Berlin")
    pain, mood, signs, phq9, peg = figure.axes
    drawn = [list(line.get_ydata()) for line in pain.get_lines() if line.get_marker() == "o"]
    assert drawn == [[v for _, v in run] for run in data.pain]
    assert [list(line.get_ydata()) for line in mood.get_lines() if line.get_marker() == "o"] == [
        [v for _, v in run] for run in data.mood
    ]
    assert pain.get_ylabel() == "Pain (0-10)" and mood.get_ylabel() == "Mood (1-5)", "each on its own axis"
    assert [t.get_text() for t in pain.get_legend().get_texts()] == [
        "Usual pain (median): 4",
        "Usual + a rise that counts: 6",
        "Infusion",
    ]
    assert [t.get_text() for t in signs.get_legend().get_texts()] == ["Colour: Redder"]
    assert [t.get_text() for t in signs.get_yticklabels()] == ["Colour", "Temperature", "Swelling"]
    assert (phq9.texts[-1].get_text(), list(phq9.get_lines()[0].get_ydata())) == ("PHQ-9", [6, 12])
    assert (peg.texts[-1].get_text(), list(peg.get_lines()[0].get_ydata())) == ("PEG", [4.3, 6.0])
    assert all(len([x for x in axis.get_lines() if x.get_linestyle() == ":"]) == 1 for axis in figure.axes), (
        "the infusion on every panel"
    )


def test_the_chart_is_720_pixels_wide_and_grows_with_each_questionnaire() -> None:
    labels = chart.chart_labels(lambda key, **_: CATALOG.text("en", key), QUESTIONNAIRES.daily)
    heights = []
    for panels in (0, 1, 2):
        width, height = size(chart.render_png(staff_data(panels), labels, timezone="Europe/Berlin"))
        assert width == 720
        heights.append(height)
    assert heights == [750, 880, 1010]


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_marked_answer_is_named_in_each_language(language: str) -> None:
    catalog = Catalog.load(language)
    labels = chart.chart_labels(lambda key, **_: catalog.text(language, key), QUESTIONNAIRES.daily)
    marked = {
        f"{item}.{code}"
        for item in chart.SIGNS
        for code in (*QUESTIONNAIRES.daily.item(item).options, *QUESTIONNAIRES.daily.item(item).legacy)  # type: ignore[union-attr]
        if code in chart.MARKERS
    }
    assert len(marked) == len(chart.MARKERS)
    assert marked <= set(labels) and all(labels[key] for key in marked)


def test_each_score_is_read_beside_the_one_before_it() -> None:
    day = timedelta(days=7)
    found = [
        Scored(NOW - 3 * day, "interference", 4.0),
        Scored(NOW - 2 * day, "phq9", 6),
        Scored(NOW - 2 * day, "interference", 4.3),
        Scored(NOW, "interference", 6.3),
    ]
    assert [(c.now.total, c.difference) for c in scores.changes(found)] == [
        (4.0, None),
        (6, None),
        (4.3, 0.3),
        (6.3, 2.0),
    ]
    newest = scores.newest(found)
    assert [(c.now.questionnaire, c.now.total, c.before and c.before.total) for c in newest] == [
        ("interference", 6.3, 4.3),
        ("phq9", 6, None),
    ]
    assert [c.now.questionnaire for c in scores.newest(found, since=NOW - day)] == ["interference"]


def test_staff_charts_write_each_infusions_relief_beside_it_or_at_the_left_edge() -> None:
    inside, before = NOW - timedelta(days=10), NOW - timedelta(days=58)
    data = chart.chart_data(
        [entry(1, pain="5")],
        title="t",
        now=NOW,
        infusions=[inside],
        relief=[(before, "24.09: relief 67%, 11% at the next"), (inside, "11.11: relief 40%, 35% now")],
    )
    assert data.relief == [
        (NOW - chart.WINDOW, "24.09: relief 67%, 11% at the next"),
        (inside, "11.11: relief 40%, 35% now"),
    ]
    labels = chart.chart_labels(lambda key, **_: CATALOG.text("en", key), QUESTIONNAIRES.daily)
    pain = chart.draw(data, labels, timezone="Europe/Berlin").axes[0]
    assert [t.get_text() for t in pain.texts] == [text for _, text in data.relief]


def test_a_card_picture_shows_the_chart_then_the_caption_and_buttons_at_the_charts_width() -> None:
    labels = chart.chart_labels(lambda key, **_: CATALOG.text("en", key), QUESTIONNAIRES.daily)
    png = chart.render_png(chart.chart_data([entry(1, pain="5")], title="t", now=NOW), labels, timezone="UTC")
    keyboard = {"inline_keyboard": [[{"text": "Acknowledge"}, {"text": "Resolve"}], [{"text": "Reply"}]]}

    def picture(caption: str) -> tuple[int, int]:
        return size(message_picture(ChatMessage(1, 1, True, 0, caption=caption, photo=png, reply_markup=keyboard)))

    short, longer = picture("🟠 Amber · P-0001\nPain 7-8 since Tue 14 Nov"), picture("🟠 Amber\n" + "word " * 40)
    assert short[0] == longer[0] == size(png)[0] == 720
    assert size(png)[1] < short[1] < longer[1], "the caption under the chart, a long line wrapped"
