"""Infusion cycles: baseline, best relief, relief now, below half since, and the projection, with no
infusion, one, two, and days without scores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.alerts import digest
from bot.alerts.cycles import cycles
from bot.alerts.desk import AlertDesk
from bot.alerts.rules import load_rules
from bot.sandbox import SimulatedUser
from storage import checkins, patients
from tests.harness import SQLITE_ONLY, Diary
from tests.test_alerts import STAFF_CHAT, alerts, complete_checkin, register_staff, staff_chat

CONFIG = load_rules().relief_waning
DAY0 = date(2026, 6, 1)


def diary(days: range, pain: Callable[[int], float], *, skip: Callable[[int], bool] = lambda d: False) -> list:
    """Two scores a day (09:00 and 20:00) on each day of `days` counted from DAY0."""
    pains = []
    for d in days:
        if skip(d):
            continue
        for hour in (9, 20):
            at = datetime(DAY0.year, DAY0.month, DAY0.day, hour, tzinfo=UTC) + timedelta(days=d)
            pains.append((at, round(pain(d))))
    return pains


def waning(d: int) -> float:
    """6 before; 2 from day 10; back to 6 at day 70 in a straight line."""
    if d < 0:
        return 6
    if d <= 10:
        return 6 - 0.4 * d
    return min(6, 2 + (d - 10) * 4 / 60)


def test_no_infusion_no_cycle() -> None:
    assert cycles(diary(range(-20, 30), waning), [], today=DAY0 + timedelta(days=29), config=CONFIG) == []


def test_too_few_scores_before_an_infusion_measure_nothing() -> None:
    (cycle,) = cycles(diary(range(0, 30), waning), [(DAY0, "")], today=DAY0 + timedelta(days=29), config=CONFIG)
    assert (cycle.baseline, cycle.relief, cycle.projected_half, cycle.day) == (None, None, None, 29)


def test_an_infusion_on_the_clinics_date_is_day_0_for_a_patient_still_on_the_day_before() -> None:
    """Staff record the clinic's date; for a patient west of the clinic it can still be the day before."""
    (cycle,) = cycles(diary(range(-20, 0), waning), [(DAY0, "")], today=DAY0 - timedelta(days=1), config=CONFIG)
    assert cycle.day == 0


def test_relief_at_its_best_now_and_below_half_since() -> None:
    today = DAY0 + timedelta(days=58)
    (cycle,) = cycles(diary(range(-14, 59), waning), [(DAY0, "ketamine")], today=today, config=CONFIG)
    assert (cycle.baseline, cycle.kind, cycle.day, cycle.ended) == (6, "ketamine", 58, False)
    assert round(cycle.relief or 0, 2) == 0.67 and cycle.relief_day == 10, "pain 2 against 6"
    assert round(cycle.relief_now or 0, 2) == 0.17, "pain 5 against 6"
    # Half of 67% is 33%: pain above 4, which whole-number scores reach on day 48 (4.5 rounds to 4).
    assert cycle.below_half_since == 48
    assert cycle.projected_half is None, "observed, not projected"


def test_the_projection_follows_the_patients_own_decay() -> None:
    today = DAY0 + timedelta(days=30)
    (cycle,) = cycles(diary(range(-14, 31), waning), [(DAY0, "")], today=today, config=CONFIG)
    assert cycle.below_half_since is None
    assert cycle.projected_half is not None and 36 <= cycle.projected_half <= 46, cycle.projected_half


def test_an_earlier_cycle_informs_the_projection_of_the_next() -> None:
    """Two infusions 80 days apart; the first fell below half at about day 41. Early in the second,
    with too little decay of its own to fit, the projection is the first cycle's day."""
    second = DAY0 + timedelta(days=80)
    pains = diary(range(-14, 80), waning) + diary(range(80, 95), lambda d: waning(d - 80))
    first, current = cycles(pains, [(DAY0, ""), (second, "")], today=DAY0 + timedelta(days=94), config=CONFIG)
    assert first.ended and first.day == 79 and first.below_half_since is not None
    assert (current.day, current.ended, current.relief_day) == (14, False, 10)
    assert current.projected_half is not None and abs(current.projected_half - first.below_half_since) <= 4


def test_days_without_scores_are_not_counted_as_relief() -> None:
    today = DAY0 + timedelta(days=58)
    pains = diary(range(-14, 59), waning, skip=lambda d: 42 <= d < 52)  # relief fell below half unseen
    (cycle,) = cycles(pains, [(DAY0, "")], today=today, config=CONFIG)
    full = cycles(diary(range(-14, 59), waning), [(DAY0, "")], today=today, config=CONFIG)[0]
    assert (cycle.relief, cycle.relief_day, cycle.relief_now) == (full.relief, full.relief_day, full.relief_now)
    assert (full.below_half_since, cycle.below_half_since) == (48, 52), "the first day it was seen, not guessed"


# -- end to end: a waning cycle on a card, on /patient, in /cycles and in the digest until staff act


async def with_a_waning_cycle(diary: Diary, code: str) -> date:
    """Pain 6 for two weeks, an infusion, 2 from day 2, 3 from day 41, 5 on day 57; returns its day."""
    now = diary.clock()
    on = (now - timedelta(days=58)).date()

    def pain(d: int) -> int:
        return 6 if d < 0 else 4 if d < 2 else 2 if d < 41 else 3 if d < 57 else 5

    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        assert patient is not None and patient.id is not None
        entries = []
        for d in range(-14, 58):
            for hour in (9, 20):
                at = datetime(on.year, on.month, on.day, hour, tzinfo=UTC) + timedelta(days=d)
                entries.append((at, at.date(), {"pain": str(pain(d)), "mood": "3"}))
        await checkins.import_entries(session=session, patient_id=patient.id, questionnaire="daily", entries=entries)
    return on


async def test_a_waning_cycle_reaches_staff_until_they_act(diary: Diary) -> None:
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    on = await with_a_waning_cycle(diary, "P-0001")
    reply = await sam.send(f"/infusion P-0001 {on.isoformat()} ketamine", chat_id=STAFF_CHAT)
    assert reply is not None and (reply.text or "").startswith("Infusion recorded")
    await complete_checkin(ben, "6")  # the last three: 5, 5, 6; mean 5.3 against 6 before and 2 at best

    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    cycle = (
        f"Infusion {on.isoformat()} (ketamine): relief 67% at day 3, 11% now at day 58; below half of it since day 57"
    )
    assert card.caption is not None
    assert "\nRelief after the last infusion is wearing off: below half of its best since Fri 20 Nov\n" in card.caption
    assert f"{cycle}." in card.caption, card.caption
    assert "relief" not in " ".join(m.text or m.caption or "" for m in ben.messages).lower(), "staff only"

    await sam.send("/patient P-0001")
    await sam.wait_for(lambda: any(m.photo for m in sam.messages))
    assert f"Infusion cycles (newest first):\n{cycle}" in " ".join(m.text or "" for m in sam.messages)
    await sam.send("/cycles")
    await sam.wait_for(lambda: "Infusion cycles (1)" in (sam.last.text or ""))
    assert f"\nP-0001: {cycle}" in (sam.last.text or "")

    desk = AlertDesk.for_settings(diary.database, diary.settings)
    for listed in (1, 2):  # every day while nobody acts on it
        diary.clock.advance(hours=14, minutes=31) if listed == 1 else diary.clock.advance(days=1)
        assert await digest.daily(desk, now=diary.clock())
        await diary.wait_until(lambda: len(digests(diary)) == listed)  # noqa: B023 (awaited in the loop)
        text = digests(diary)[-1]
        assert text.startswith("Daily digest") and "Relief waning after an infusion" in text
        assert f"P-0001: Infusion {on.isoformat()} (ketamine): relief 67% at day 3" in text
        assert "none" not in text, "only what there is to say"

    reply = await sam.send(f"/infusion P-0001 {diary.clock().date().isoformat()}", chat_id=STAFF_CHAT)
    assert reply is not None and (reply.text or "").startswith("Infusion recorded")
    (waning,) = [a for a in await alerts(diary) if a.rule == "relief_waning"]
    assert waning.status == "resolved" and waning.resolved_by == sam.id, "the next infusion answers it"
    diary.clock.advance(days=1)
    assert await digest.daily(desk, now=diary.clock())
    await diary.wait_until_async(lambda rows: not any(r.status in ("pending", "sending") for r in rows))
    assert len(digests(diary)) == 2, "nothing to say: no digest"


async def test_an_earlier_infusion_recorded_late_leaves_the_waning_card_open(diary: Diary) -> None:
    """Ben's relief after his infusion is wearing off, and his card says so. Sam then records the infusion before it,
    from Ben's old letters: that resolved the card (nobody had acted on it) and the digest stopped listing it, as if
    the next infusion had been given. Only an infusion on or after the one a card is about answers it."""
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    on = await with_a_waning_cycle(diary, "P-0001")
    await sam.send(f"/infusion P-0001 {on.isoformat()} ketamine", chat_id=STAFF_CHAT)
    await complete_checkin(ben, "6")
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    earlier = on - timedelta(days=90)
    reply = await sam.send(f"/infusion P-0001 {earlier.isoformat()} ketamine", chat_id=STAFF_CHAT)
    assert reply is not None and (reply.text or "").startswith("Infusion recorded")
    (waning,) = [a for a in await alerts(diary) if a.rule == "relief_waning"]
    assert waning.status == "open", "an earlier infusion is not the next one"
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    diary.clock.advance(hours=14, minutes=31)
    assert await digest.daily(desk, now=diary.clock())
    await diary.wait_until(lambda: len(digests(diary)) == 1)
    assert f"P-0001: Infusion {on.isoformat()} (ketamine): relief 67% at day 3" in digests(diary)[-1]
    reply = await sam.send(f"/infusion P-0001 {on.isoformat()}", chat_id=STAFF_CHAT)
    assert reply is not None and (reply.text or "").startswith("P-0001 already has an infusion")
    (waning,) = [a for a in await alerts(diary) if a.rule == "relief_waning"]
    assert waning.status == "open"


def digests(diary: Diary) -> list[str]:
    return [m.text or "" for m in staff_chat(diary) if (m.text or "").startswith("Daily digest")]


@SQLITE_ONLY
async def test_a_cycle_counts_the_patients_own_days_far_west_of_utc(diary: Diary) -> None:
    """A patient in Honolulu answers at 20:00, UTC's next morning. Their evening score of the day before
    the infusion is before it: /cycles, /patient and the relief_waning rule (which counts local days) all
    start the relief at the infusion's own evening, not at the evening before."""
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    token = await diary.invite("P-0001", timezone="Pacific/Honolulu")
    await ben.send(f"/start {token}")
    await ben.press(data=f"cs:y:{token}")
    zone = ZoneInfo("Pacific/Honolulu")
    today = diary.clock().astimezone(zone).date()  # 20 Nov: 22:00 in Honolulu
    on = today - timedelta(days=20)
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
        assert patient is not None and patient.id is not None
        entries = []
        for d in range(-14, 21):  # 6 each evening before the infusion, 2 from its evening on
            at = datetime.combine(on + timedelta(days=d), time(20), tzinfo=zone).astimezone(UTC)
            entries.append((at, on + timedelta(days=d), {"pain": "6" if d < 0 else "2", "mood": "3"}))
        await checkins.import_entries(session=session, patient_id=patient.id, questionnaire="daily", entries=entries)
    reply = await sam.send(f"/infusion P-0001 {on.isoformat()}", chat_id=STAFF_CHAT)
    assert reply is not None and (reply.text or "").startswith("Infusion recorded")

    cycle = f"Infusion {on.isoformat()}: relief 67% at day 2, 67% now at day 20"  # 2, 2, 2 on days 0-2
    await sam.send("/cycles")
    await sam.wait_for(lambda: "Infusion cycles (1)" in (sam.last.text or ""))
    assert f"\nP-0001: {cycle}" in (sam.last.text or ""), sam.last.text
    await sam.send("/patient P-0001")
    await sam.wait_for(lambda: any(m.photo for m in sam.messages))
    assert f"Infusion cycles (newest first):\n{cycle}" in " ".join(m.text or "" for m in sam.messages)
