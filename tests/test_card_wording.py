"""Cards in plain words with the day each change began, worded from what the rules found on
hand-made diaries; and one card for everything a check-in raised."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.alerts import digest, wording
from bot.alerts.cycles import Cycle
from bot.alerts.desk import AlertDesk
from bot.alerts.trends import Infusion, Point, Scored, evaluate
from bot.prompts import Catalog
from bot.sandbox import SimulatedUser
from storage import checkins, patients
from storage.models import Alert, AuditEvent
from tests.harness import Diary
from tests.test_alerts import STAFF_CHAT, register_staff, staff_chat
from tests.test_trends import RULES

CATALOG = Catalog.load("en")
ZONE = ZoneInfo("Europe/Madrid")
CALM = {"pain": 4, "skin_color": "same", "skin_temperature": "same", "swelling": "none", "mood": 4}
# Tuesday 3 November 2026, 09:00 in Madrid; check-ins twelve hours apart.
START = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


def en(key: str, **values: object) -> str:
    return CATALOG.text("en", key, **values)


def es(key: str, **values: object) -> str:
    return CATALOG.text("es", key, **values)


def diary(values: list[dict[str, object]], start: datetime = START) -> list[Point]:
    return [Point(start + n * timedelta(hours=12), **value) for n, value in enumerate(values)]  # type: ignore[arg-type]


def lines(
    points: list[Point], infusions: list[Infusion] | None = None, scores: list[Scored] | None = None
) -> list[str]:
    found = evaluate(points, infusions or [], RULES, scores or [])
    return [wording.finding(en, f.rule, f.details, ZONE) for f in found]


def test_a_rise_in_pain_says_the_range_since_the_day_it_began_and_the_usual_level() -> None:
    # 28 days at 3-5 (usual 4), then 7s and 8s from Tuesday 3 November.
    before = [CALM | {"pain": 3 + n % 3} for n in range(56)]
    points = diary(before + [CALM | {"pain": p} for p in (7, 8, 7, 8, 8, 7)], start=START - timedelta(days=28))
    assert lines(points) == ["Pain 7-8 since Tue 3 Nov (usual 4, last 28 days)"]


def test_severe_pain_names_the_run_and_its_threshold() -> None:
    points = diary([CALM] * 11 + [CALM | {"pain": p} for p in (9, 10, 9, 9)])  # from an evening: 3 days
    assert lines(points)[-1] == "Pain 9-10 on 4 check-ins in a row since Sun 8 Nov (alert at 9 or more)"


def test_skin_changes_name_each_sign_and_the_days_they_were_seen() -> None:
    signs = [CALM | {"skin_color": "redder"}, CALM | {"skin_color": "redder", "skin_temperature": "warmer"}]
    points = diary([CALM] * 9 + signs + signs[:1])  # the 10th to 12th check-ins: Sat 7 Nov evening to Sun 8 Nov
    assert lines(points) == [
        "Skin redder and warmer than the other side on 7 and 8 Nov (the same on the 5 check-ins before)"
    ]
    # A morning and an evening of one day are one day's answers: the next morning makes it two days.
    swollen = diary([CALM] * 6 + [CALM | {"swelling": "mild"}, CALM | {"swelling": "marked"}] * 2)
    assert lines(swollen) == ["Swelling mild and marked on 6 and 7 Nov (none on the 5 check-ins before)"]


def test_a_low_mood_gives_its_range_and_the_patients_usual() -> None:
    points = diary([CALM] * 10 + [CALM | {"mood": m} for m in (2, 1, 2)])
    assert lines(points) == ["Mood 1-2 of 5 on 3 check-ins in a row since Sun 8 Nov (usual 4)"]
    early = diary([CALM] * 2 + [CALM | {"mood": 1}] * 3)
    assert lines(early) == ["Mood 1 of 5 on 3 check-ins in a row since Wed 4 Nov (no usual level yet)"]


def test_a_phq9_gives_its_day_and_the_score_before() -> None:
    scores = [Scored(START, "phq9", 6), Scored(START + timedelta(days=14), "phq9", 12)]
    assert lines([], scores=scores) == ["PHQ-9 12 on Tue 17 Nov (before: 6)"]
    assert lines([], scores=scores[1:]) == ["PHQ-9 12 on Tue 17 Nov (the first)"]


def test_missed_check_ins_and_waning_relief_say_since_when() -> None:
    missed = diary([CALM] * 4 + [{"missed": True}] * 3)
    assert lines(missed) == ["3 check-ins missed in a row since Thu 5 Nov"]
    pains = [8] * 28 + [3] * 28 + [4, 5, 6, 7, 7, 8, 8, 8, 8, 8, 8, 8]
    points = diary([CALM | {"pain": p} for p in pains], start=START - timedelta(days=14))
    # Relief 62% (pain 3 against 8 before); below half of it once the mean of three passes 5.5.
    assert lines(points, [Infusion(date(2026, 11, 3), "ketamine")]) == [
        "Relief after the last infusion is wearing off: below half of its best since Wed 18 Nov",
    ]


def test_days_across_a_month_and_a_longer_run() -> None:
    assert wording.days(en, date(2026, 11, 30), date(2026, 12, 1)) == "on 30 Nov and 1 Dec"
    assert wording.days(en, date(2026, 11, 17), date(2026, 11, 20)) == "from 17 to 20 Nov"
    assert wording.days(en, date(2026, 11, 28), date(2026, 12, 2)) == "from 28 Nov to 2 Dec"
    assert wording.days(es, date(2026, 11, 19), date(2026, 11, 20)) == "el 19 y el 20 nov"


def test_spanish_cards_word_the_same_findings() -> None:
    points = diary([CALM] * 11 + [CALM | {"pain": p} for p in (9, 10, 9, 9)])
    (found,) = [f for f in evaluate(points, [], RULES) if f.rule == "severe_pain"]
    assert wording.finding(es, found.rule, found.details, ZONE) == (
        "Dolor 9-10 en 4 cuestionarios seguidos desde el dom 8 nov (alerta a partir de 9)"
    )


def test_an_alert_recorded_before_these_words_is_named_by_its_rule() -> None:
    old = {"recent": "9, 9, 9, 9", "at_least": 9}
    assert wording.finding(en, "severe_pain", old, ZONE) == "Severe pain on several check-ins in a row"


def test_a_staff_chart_words_each_cycles_relief() -> None:
    cycle = Cycle(date(2026, 9, 24), "ketamine", 58, False, 6.0, 0.67, 3, 0.11, 57, None)
    assert wording.relief(en, cycle) == "24.09: relief 67%, 11% now"
    assert wording.relief(en, replace(cycle, ended=True)) == "24.09: relief 67%, 11% at the next"


# -- one card per check-in, end to end


async def with_answers(diary: Diary, code: str, answers: list[dict[str, str]]) -> None:
    """Earlier check-ins twelve hours apart, ending twelve hours before now."""
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        assert patient is not None and patient.id is not None
        now, count = diary.clock(), len(answers)
        times = [now - timedelta(hours=12 * (count - n)) for n in range(count)]
        entries = [(at, at.date(), a) for at, a in zip(times, answers, strict=True)]
        await checkins.import_entries(session=session, patient_id=patient.id, questionnaire="daily", entries=entries)


async def test_the_rules_one_check_in_raises_share_one_card_and_one_press(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    calm = {key: str(value) for key, value in CALM.items()}
    low = calm | {"mood": "1"}
    await with_answers(diary, "P-0001", [calm] * 16 + [low | {"skin_color": "redder"}] * 2)
    await ben.send("/checkin")
    for label in ["4", "Redder", "The same", "Not swollen", "1 Very low", "Skip ▶"]:
        await ben.press(label)
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows if r.kind == "alert"))

    (card,) = [m for m in staff_chat(diary) if m.photo]
    assert card.caption is not None
    assert card.caption.startswith(
        "🟠 Amber · P-0001\n"
        "Skin redder than the other side on 20 and 21 Nov (the same on the 5 check-ins before)\n"
        "Mood 1 of 5 on 3 check-ins in a row since Fri 20 Nov (usual 4)\n"
    ), card.caption
    async with diary.database.session() as session:
        rows = list((await session.exec(select(Alert).order_by(Alert.id))).all())
    assert sorted(a.rule for a in rows) == ["low_mood", "vasomotor_change"]
    lead = next(a for a in rows if a.card_alert_id is None)
    assert [a.card_alert_id for a in rows if a is not lead] == [lead.id]
    assert lead.card_message_id == card.message_id

    await sam.press("Acknowledge", message=card)
    await diary.wait_until(
        lambda: "Acknowledged by Sam" in (diary.standin.messages[STAFF_CHAT][card.message_id].caption or "")
    )
    async with diary.database.session() as session:
        rows = list((await session.exec(select(Alert))).all())
        audited = list((await session.exec(select(AuditEvent).where(AuditEvent.action == "alert_acknowledge"))).all())
    assert {a.status for a in rows} == {"acknowledged"}, "the press acts on everything the card shows"
    assert sorted(e.detail for e in audited) == sorted(f"alert {a.id} ({a.rule})" for a in rows)

    # Two days later the digest lists the card's findings, in the same words, until someone resolves them.
    diary.clock.advance(days=2, hours=14, minutes=31)  # after the digest time (23:30 in Berlin)
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    assert await digest.daily(desk, now=diary.clock())
    await diary.wait_until(lambda: any("Daily digest" in (m.text or "") for m in staff_chat(diary)))
    text = next(m.text or "" for m in staff_chat(diary) if "Daily digest" in (m.text or ""))
    assert (
        "Alerts open for more than 48 hours:\n"
        "P-0001: Skin redder than the other side on 20 and 21 Nov (the same on the 5 check-ins before)\n"
        "P-0001: Mood 1 of 5 on 3 check-ins in a row since Fri 20 Nov (usual 4)"
    ) in text, text
