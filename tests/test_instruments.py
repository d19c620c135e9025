"""Questionnaires beside the daily diary: the PHQ-2 offered on its cadence after a completed daily
check-in, stepping up to the PHQ-9 the same day, and PHQ-9 item 9 handled as a crisis message is. The
real bot over HTTP against the stand-in, on SQLite and PostgreSQL; scoring checked at every band edge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.diary.checkins import this_evening
from bot.diary.questionnaire import Questionnaire, Questionnaires
from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage
from storage.models import Alert, Answer, CheckIn, OutboxMessage
from tests.harness import Diary, running_diary
from tests.test_alerts import register_staff, staff_chat
from tests.test_care_team import BERLIN_CRISIS_LINE, all_sent

QUESTIONNAIRES = Questionnaires.load()
DAILY_ANSWERS = ["4", "The same", "The same", "Not swollen", "3 Okay"]
NOT_AT_ALL, SEVERAL_DAYS, MORE_THAN_HALF, NEARLY_EVERY_DAY = (
    "Not at all",
    "Several days",
    "More than half the days",
    "Nearly every day",
)


@pytest.fixture
async def diary(database_url: str, tmp_path: Path) -> AsyncIterator[Diary]:
    async with running_diary(database_url, tmp_path / "files", instruments="phq2") as running:
        yield running


# -- scoring by the published rules


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands_at_every_edge(total: int, band: str) -> None:
    phq9 = QUESTIONNAIRES["phq9"]
    values = [min(3, max(0, total - 3 * n)) for n in range(9)]
    assert sum(values) == total
    score = phq9.score({item.id: str(value) for item, value in zip(phq9.items, values, strict=True)})
    assert score is not None and (score.total, score.band) == (total, band)


@pytest.mark.parametrize(("first", "second", "band"), [(0, 0, "negative"), (1, 1, "negative"), (2, 1, "positive")])
def test_phq2_is_positive_from_3(first: int, second: int, band: str) -> None:
    score = QUESTIONNAIRES["phq2"].score({"phq_interest": str(first), "phq_down": str(second)})
    assert score is not None and score.band == band and score.total == first + second


def test_a_questionnaire_with_an_unanswered_item_has_no_score() -> None:
    assert QUESTIONNAIRES["phq2"].score({"phq_interest": "3"}) is None
    assert QUESTIONNAIRES.daily.score({"pain": "3"}) is None, "the daily diary is not scored"


def test_the_phq9_carries_the_phq2_items_and_item_9_is_its_crisis_item() -> None:
    phq2, phq9 = QUESTIONNAIRES["phq2"], QUESTIONNAIRES["phq9"]
    assert [item.id for item in phq9.items[:2]] == [item.id for item in phq2.items]
    assert phq2.step_up is not None and (phq2.step_up.at_least, phq2.step_up.to) == (3, "phq9")
    assert phq9.is_crisis_answer("phq_self_harm", "1") and not phq9.is_crisis_answer("phq_self_harm", "0")
    assert not phq9.is_crisis_answer("phq_down", "3")


@pytest.mark.parametrize(
    ("pressed", "asked_again"),
    [
        ("08:00", "2026-11-21 19:00"),
        ("18:59", "2026-11-21 19:00"),
        ("19:00", "2026-11-22 19:00"),
        ("23:30", "2026-11-22 19:00"),
    ],
)
def test_remind_me_this_evening_is_19_00_never_in_the_night(pressed: str, asked_again: str) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime.fromisoformat(f"2026-11-21 {pressed}").replace(tzinfo=berlin).astimezone(UTC)
    assert this_evening(now, berlin).astimezone(berlin).strftime("%Y-%m-%d %H:%M") == asked_again


def test_a_scored_questionnaire_needs_numeric_codes() -> None:
    with pytest.raises(ValueError, match="numeric option codes"):
        Questionnaire.parse(
            {"id": "x", "items": [{"id": "a", "type": "choice", "options": ["yes"]}], "score": {"bands": {0: "low"}}}
        )


# -- end to end


async def daily_checkin(diary: Diary, user: SimulatedUser) -> None:
    await user.send("/checkin")
    for label in DAILY_ANSWERS:
        await user.press(label)
    await user.press("Skip ▶")  # no note
    assert "Thank you. Your answers:" in (user.last_with_buttons().text or "")


async def offered(diary: Diary, user: SimulatedUser) -> ChatMessage:
    """Completes a daily check-in; returns the questionnaire offered after it."""
    before = len(user.messages)
    await daily_checkin(diary, user)
    await user.wait_for(lambda: len(user.messages) > before + 1 and "Mood questionnaire" in (user.last.text or ""))
    return user.last


async def rows(diary: Diary, model: type) -> list:  # type: ignore[type-arg]
    async with diary.database.session() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


async def test_a_positive_phq2_steps_up_to_the_phq9_in_the_same_message(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    offer = await offered(diary, ben)
    assert offer.text is not None and "Over the last 2 weeks" in offer.text and "Question 1 of 2" in offer.text
    assert "Little interest or pleasure in doing things" in offer.text
    labels = [label for label, _ in offer.buttons]
    assert labels[:4] == [NOT_AT_ALL, SEVERAL_DAYS, MORE_THAN_HALF, NEARLY_EVERY_DAY]
    assert {"Not this time", "Remind me this evening"} <= set(labels)

    await ben.press(MORE_THAN_HALF, message=offer)
    await ben.press(SEVERAL_DAYS, message=ben.last_with_buttons())  # PHQ-2 total 3: positive
    shown = diary.standin.messages[ben.id][offer.message_id]
    assert shown.text is not None and "Question 3 of 9" in shown.text, "the PHQ-9 goes on in the same message"
    assert "Trouble falling or staying asleep" in shown.text
    for _ in range(6):
        await ben.press(SEVERAL_DAYS, message=shown)
    await ben.press(NOT_AT_ALL, message=shown)  # item 9
    shown = diary.standin.messages[ben.id][offer.message_id]
    assert shown.text is not None and "Thank you. Your answers:" in shown.text
    assert "Thoughts of death or self-harm: Not at all" in shown.text
    assert not any(word in shown.text for word in ("score", "moderate", "mild")), "nothing interprets a score"

    checkins = {c.questionnaire: c for c in await rows(diary, CheckIn)}
    assert set(checkins) == {"daily", "phq2", "phq9"}
    assert checkins["phq2"].completed_at is not None and checkins["phq9"].completed_at is not None
    answers = {a.item: a.value for a in await rows(diary, Answer) if a.checkin_id == checkins["phq9"].id}
    assert len(answers) == 9 and answers["phq_interest"] == "2" and answers["phq_down"] == "1"
    score = QUESTIONNAIRES["phq9"].score(answers)
    assert score is not None and (score.total, score.band) == (9, "mild")
    assert not await rows(diary, Alert), "item 9 answered 'not at all' raises nothing"

    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.send("/patient P-0001")
    await sam.wait_for(lambda: any("Questionnaires" in (m.text or "") for m in sam.messages))
    days = next(m.text for m in sam.messages if "Questionnaires" in (m.text or ""))
    assert days is not None and "PHQ-9: 9 (mild)" in days and "PHQ-2: 3 (positive screen)" in days


async def test_phq9_item_9_above_not_at_all_is_a_crisis_once_per_questionnaire(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    offer = await offered(diary, ben)
    for _ in range(2):
        await ben.press(NEARLY_EVERY_DAY, message=diary.standin.messages[ben.id][offer.message_id])
    for _ in range(6):
        await ben.press(NOT_AT_ALL, message=diary.standin.messages[ben.id][offer.message_id])
    await ben.press(SEVERAL_DAYS, message=diary.standin.messages[ben.id][offer.message_id])
    await ben.wait_for(lambda: any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages))
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    assert card.caption is not None and card.caption.startswith("🔴 URGENT")
    assert "PHQ-9 question 9" in card.caption and "Several days" in card.caption
    assert "Snooze 7 days" not in [label for label, _ in card.buttons]

    # Back to item 9 and a higher answer, or the same press again: no second card.
    shown = diary.standin.messages[ben.id][offer.message_id]
    await ben.press("✏ Edit answers", message=shown)
    for _ in range(8):
        await ben.press("Skip ▶", message=diary.standin.messages[ben.id][offer.message_id])
    await ben.press(MORE_THAN_HALF, message=diary.standin.messages[ben.id][offer.message_id])
    await all_sent(diary)
    (alert,) = await rows(diary, Alert)
    assert (alert.rule, alert.tier, alert.status) == ("crisis_text", "urgent", "open")
    assert alert.next_escalation_at is not None, "it escalates like a crisis message"
    assert sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 1


async def test_a_negative_phq2_ends_and_is_not_offered_again_for_14_days(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    offer = await offered(diary, ben)
    await ben.press(SEVERAL_DAYS, message=offer)
    await ben.press(SEVERAL_DAYS, message=diary.standin.messages[ben.id][offer.message_id])
    shown = diary.standin.messages[ben.id][offer.message_id]
    assert shown.text is not None and "Thank you. Your answers:" in shown.text and "of 9" not in shown.text

    diary.clock.advance(days=13)
    await daily_checkin(diary, ben)
    await all_sent(diary)
    assert [c.questionnaire for c in await rows(diary, CheckIn)] == ["daily", "phq2", "daily"]
    diary.clock.advance(days=1)
    again = await offered(diary, ben)
    assert again.message_id != offer.message_id


async def test_not_this_time_declines_and_remind_me_this_evening_asks_again_at_19(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    offer = await offered(diary, ben)  # 09:00 in Berlin
    await ben.press("Remind me this evening", message=offer)
    assert diary.standin.messages[ben.id][offer.message_id].text == "All right. I will ask again in the evening."
    (later,) = [row for row in await rows(diary, OutboxMessage) if row.kind == "checkin" and row.status == "pending"]
    assert later.not_before.hour == 18 and later.not_before.minute == 0, "19:00 in Berlin is 18:00 UTC"
    diary.clock.advance(hours=10)
    await ben.wait_for(
        lambda: "Mood questionnaire" in (ben.last.text or "") and ben.last.message_id != offer.message_id
    )
    assert "Remind me this evening" not in [label for label, _ in ben.last.buttons], "put off once only"
    await ben.press("Not this time", message=ben.last)
    assert ben.last.text == "All right. I will ask again in a few weeks."

    diary.clock.advance(days=1)
    await daily_checkin(diary, ben)
    await all_sent(diary)
    phq = [c for c in await rows(diary, CheckIn) if c.questionnaire == "phq2"]
    assert [c.status for c in phq] == ["skipped"], "declined: not offered again the next day"


async def test_text_while_a_questionnaire_is_offered_reaches_staff(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await offered(diary, ben)
    await ben.send("Can someone call me about the next infusion?")
    await diary.wait_until(lambda: any("next infusion" in (m.text or "") for m in staff_chat(diary)))
    assert not [a for a in await rows(diary, Answer) if a.item == "note" and "infusion" in a.value]


async def test_no_questionnaire_is_offered_when_the_clinic_turns_them_off(database_url: str, tmp_path: Path) -> None:
    async with running_diary(database_url, tmp_path / "files", instruments="") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        await daily_checkin(diary, ben)
        await all_sent(diary)
        assert [c.questionnaire for c in await rows(diary, CheckIn)] == ["daily"]
        assert not any("Mood questionnaire" in (m.text or "") for m in ben.messages)
