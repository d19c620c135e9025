"""Questionnaires beside the daily diary: the PHQ-2 offered on its cadence after a completed daily
check-in, stepping up to the PHQ-9 the same day, and PHQ-9 item 9 handled as a crisis message is. The
real bot over HTTP against the stand-in, on SQLite and PostgreSQL; scoring checked at every band edge."""

from __future__ import annotations

import asyncio
import csv
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.alerts import digest
from bot.alerts.desk import AlertDesk
from bot.alerts.rules import load_rules
from bot.config import parse_instruments
from bot.diary import cadences
from bot.diary.checkins import Action, CheckIns, this_evening
from bot.diary.questionnaire import Questionnaire, Questionnaires
from bot.diary.schedule_rules import InputError
from bot.prompts import PROMPTS_DIR
from bot.records import replay
from bot.records.diary_csv import CsvError
from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage
from storage import audit, checkins, migrate
from storage.database import Database
from storage.models import Alert, Answer, CheckIn, OutboxMessage
from tests.cli import run_cli
from tests.harness import POSTGRESQL_ONLY, SQLITE_ONLY, Diary, running_diary
from tests.test_alerts import register_staff, staff_chat
from tests.test_care_team import BERLIN_CRISIS_LINE, all_sent
from tests.test_enrolment_races import NOW, accept, invite, meet_at

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


def test_a_questionnaire_is_read_again_when_its_file_changes(tmp_path: Path) -> None:
    daily = (PROMPTS_DIR / "questionnaires" / "daily.yaml").read_text(encoding="utf-8")
    (tmp_path / "daily.yaml").write_text(daily, encoding="utf-8")
    first = Questionnaire.load("daily", tmp_path)
    assert Questionnaire.load("daily", tmp_path) is first, "read once while the file stays as it is"
    (tmp_path / "daily.yaml").write_text(daily.replace("id: pain", "id: ache", 1), encoding="utf-8")
    assert Questionnaire.load("daily", tmp_path).items[0].id == "ache"


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


async def up_to_the_self_harm_question(diary: Diary, user: SimulatedUser) -> ChatMessage:
    """`user` enrolled, the PHQ-2 answered so that it steps up and the PHQ-9 answered up to its self-harm question
    (item 9), not at all: the message that shows that question."""
    await diary.enrol(user)
    offer = await offered(diary, user)
    for label in [NEARLY_EVERY_DAY] * 2 + [NOT_AT_ALL] * 6:
        await user.press(label, message=diary.standin.messages[user.id][offer.message_id])
    return diary.standin.messages[user.id][offer.message_id]


async def answer_with_item_9_several_days(diary: Diary, user: SimulatedUser, offer: ChatMessage) -> None:
    """A positive PHQ-2 (both items nearly every day), then the PHQ-9's next six items not at all and item 9
    (thoughts of being better off dead or of self-harm) on several days."""
    for _ in range(2):
        await user.press(NEARLY_EVERY_DAY, message=diary.standin.messages[user.id][offer.message_id])
    for _ in range(6):
        await user.press(NOT_AT_ALL, message=diary.standin.messages[user.id][offer.message_id])
    await user.press(SEVERAL_DAYS, message=diary.standin.messages[user.id][offer.message_id])


async def rows(diary: Diary, model: type) -> list:  # type: ignore[type-arg]
    async with diary.database.session() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


@SQLITE_ONLY
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


@SQLITE_ONLY
async def test_phq9_item_9_above_not_at_all_is_a_crisis_once_per_questionnaire(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    offer = await offered(diary, ben)
    await answer_with_item_9_several_days(diary, ben, offer)
    await ben.wait_for(lambda: any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages))
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    assert card.caption is not None and card.caption.startswith("🔴 URGENT")
    assert "PHQ-9 question 9" in card.caption and "Several days" in card.caption
    assert "Snooze 7 days" not in [label for label, _ in card.buttons]

    # Sam acknowledges it. Ben goes back to item 9 and answers higher: he says more, and it is a card of its own
    # with its own crisis text, not folded into the acknowledged one.
    await sam.press("Acknowledge", message=card)
    await all_sent(diary)

    async def back_to_item_9_and(answer: str) -> None:
        await ben.press("✏ Edit answers", message=diary.standin.messages[ben.id][offer.message_id])
        for _ in range(8):
            await ben.press("Skip ▶", message=diary.standin.messages[ben.id][offer.message_id])
        await ben.press(answer, message=diary.standin.messages[ben.id][offer.message_id])
        await all_sent(diary)

    await back_to_item_9_and(MORE_THAN_HALF)
    first, second = await rows(diary, Alert)
    assert (first.status, second.rule, second.tier, second.status) == ("acknowledged", "crisis_text", "urgent", "open")
    assert second.next_escalation_at is not None, "it escalates like a crisis message"
    assert sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 2
    await diary.wait_until(lambda: sum(1 for m in staff_chat(diary) if m.photo) == 2)
    newest = [m for m in staff_chat(diary) if m.photo][-1]
    assert newest.caption is not None and "More than half the days" in newest.caption

    # The same answer again, or a lower crisis answer: nothing new.
    await back_to_item_9_and(f"✓ {MORE_THAN_HALF}")
    await back_to_item_9_and(SEVERAL_DAYS)
    assert len(await rows(diary, Alert)) == 2
    assert sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 2


async def closed_at_item_9(diary: Diary, user: SimulatedUser) -> ChatMessage:
    """The PHQ-9 answered up to item 9 in the evening and closed by the next morning: its message, item 9's
    buttons still on it (a closed questionnaire's message is not edited)."""
    await diary.enrol(user)
    offer = await offered(diary, user)
    for label in [NEARLY_EVERY_DAY] * 2 + [NOT_AT_ALL] * 6:
        await user.press(label, message=diary.standin.messages[user.id][offer.message_id])
    diary.clock.advance(hours=13)
    return diary.standin.messages[user.id][offer.message_id]


@SQLITE_ONLY
async def test_phq9_item_9_pressed_after_the_questionnaire_closed_is_still_a_crisis(diary: Diary) -> None:
    """Ben reached item 9 in the evening and answered it the next morning, after the questionnaire had closed: he
    was told it was closed, and his thoughts of self-harm reached no one. A crisis answer is never dropped: he
    gets the crisis text and staff an urgent card; pressed again, nothing more."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    shown = await closed_at_item_9(diary, ben)
    for _ in range(2):
        await ben.press(SEVERAL_DAYS, message=shown)
    await ben.wait_for(lambda: any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages))
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    assert card.caption is not None and card.caption.startswith("🔴 URGENT")
    assert "PHQ-9 question 9" in card.caption and "Several days" in card.caption
    await all_sent(diary)
    (alert,) = await rows(diary, Alert)
    assert (alert.rule, alert.status) == ("crisis_text", "open")
    assert sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 1


@SQLITE_ONLY
async def test_phq9_item_9_pressed_after_a_discharge_is_still_a_crisis(diary: Diary) -> None:
    """Ben was discharged while his PHQ-9 stood open at item 9. A discharged patient's check-in buttons do nothing
    ("your diary has ended"), and so his "Several days" reached no one, while his typed words would have. A crisis
    answer is never dropped: he gets the crisis text and staff an urgent card; his other answers stay refused."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    offer = await offered(diary, ben)
    for label in [NEARLY_EVERY_DAY] * 2 + [NOT_AT_ALL] * 6:
        await ben.press(label, message=diary.standin.messages[ben.id][offer.message_id])
    await sam.send("/discharge P-0001")
    shown = diary.standin.messages[ben.id][offer.message_id]
    await ben.press(NOT_AT_ALL, message=shown)
    assert not any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages)
    assert not await rows(diary, Alert), "an ordinary answer is refused as before"
    await ben.press(SEVERAL_DAYS, message=shown)
    await ben.wait_for(lambda: any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages))
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    assert card.caption is not None and card.caption.startswith("🔴 URGENT") and "Several days" in card.caption
    await all_sent(diary)
    (alert,) = await rows(diary, Alert)
    assert (alert.rule, alert.status) == ("crisis_text", "open")


@SQLITE_ONLY
async def test_phq9_item_9_pressed_on_the_account_a_relink_moved_the_record_from_gets_help_now(
    diary: Diary, caplog: pytest.LogCaptureFixture
) -> None:
    """Ben's PHQ-9 stood at item 9 on his old account as a re-link moved his diary to another one (his new
    number, or whoever the link reached); the old account is nobody's in the diary now. Any press there on that
    message was taken for words of crisis from someone not enrolled, the question's own words (being better off
    dead) read as his, and their answer, too long for a button's, failed: "Several days" was then told "Your care
    team will see your message", which nobody would. Thoughts of self-harm answered there get what typed words of
    crisis from someone not enrolled get: where to find help now, and that no one at the clinic will see it
    (nothing of them is kept); any other press, the one line for someone not enrolled."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    offer = await offered(diary, ben)
    for label in [NEARLY_EVERY_DAY] * 2 + [NOT_AT_ALL] * 6:
        await ben.press(label, message=diary.standin.messages[ben.id][offer.message_id])
    token = await diary.invite("P-0001", relink=True)
    new_account = SimulatedUser(diary.standin, 311, "Ben's new number")
    await new_account.press(data=f"cs:y:{token}", message=await new_account.send(f"/start {token}"))
    await ben.wait_for(lambda: "another Telegram account" in (ben.last.text or ""))
    press = await ben.press(NOT_AT_ALL, message=diary.standin.messages[ben.id][offer.message_id])
    assert press.answer is not None and press.answer.endswith("Please ask your care team for an invite link."), press
    press = await ben.press(SEVERAL_DAYS, message=diary.standin.messages[ben.id][offer.message_id])
    assert not press.answer or "invite link" not in press.answer, press.answer
    await ben.wait_for(lambda: "call your local emergency number now" in (ben.last.text or ""))
    assert "no one at the clinic will see this" in (ben.last.text or ""), ben.last.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not await rows(diary, Alert), "nothing of the old account reaches the record"


@SQLITE_ONLY
async def test_phq9_item_9_pressed_on_an_earlier_records_questionnaire_is_the_crisis_of_the_record_now_there(
    diary: Diary,
) -> None:
    """Ben's PHQ-9 stood at item 9 when his diary left this account: erased at his request, or moved by a re-link to
    another. Enrolled again since (a new code, a fresh start), he answered item 9 on it: "This check-in is closed",
    and his thoughts of self-harm reached no one, where someone not enrolled at all is told where to find help. The
    questionnaire is no record of his now, and keeps nothing; the answer is his crisis, on the record he has: the
    crisis text, and an urgent card for staff. An ordinary answer there stays closed."""

    async def left_then_enrolled_again(n: int, leaves: str) -> None:
        ben = SimulatedUser(diary.standin, 301 + n, "Ben")
        await diary.enrol(ben, f"P-000{n + 1}")
        offer = await offered(diary, ben)
        for label in [NEARLY_EVERY_DAY] * 2 + [NOT_AT_ALL] * 6:
            await ben.press(label, message=diary.standin.messages[ben.id][offer.message_id])
        if leaves == "erased":
            await ben.send("/delete")
            await ben.press("Yes, erase everything")
        else:
            token = await diary.invite(f"P-000{n + 1}", relink=True)
            someone = SimulatedUser(diary.standin, 311 + n, "Someone")
            await someone.press(data=f"cs:y:{token}", message=await someone.send(f"/start {token}"))
            await ben.wait_for(lambda: "another Telegram account" in (ben.last.text or ""))
        code = f"P-001{n + 1}"
        await diary.enrol(ben, code)
        shown = diary.standin.messages[ben.id][offer.message_id]
        press = await ben.press(NOT_AT_ALL, message=shown)
        assert press.answer is not None and "closed" in press.answer, (leaves, press)
        await ben.press(SEVERAL_DAYS, message=shown)
        await ben.wait_for(lambda: any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages))
        await diary.wait_until(lambda: any(m.photo and code in (m.caption or "") for m in staff_chat(diary)))
        card = next(m for m in staff_chat(diary) if m.photo and code in (m.caption or ""))
        assert card.caption is not None and card.caption.startswith("🔴 URGENT") and "Several days" in card.caption

    for n, leaves in enumerate(("erased", "moved")):
        await left_then_enrolled_again(n, leaves)


@SQLITE_ONLY
async def test_item_9_tapped_again_on_an_earlier_records_questionnaire_is_one_crisis_until_a_higher_answer(
    diary: Diary,
) -> None:
    """Item 9 of a questionnaire an erased diary left in the chat, pressed by Ben enrolled again: every press (a double
    tap, down and up again) was another crisis text and card. As on his own closed questionnaire, one crisis; a
    higher answer than heard there before is a crisis of its own, once."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben, "P-0001")
    offer = await offered(diary, ben)
    for label in [NEARLY_EVERY_DAY] * 2 + [NOT_AT_ALL] * 6:
        await ben.press(label, message=diary.standin.messages[ben.id][offer.message_id])
    await ben.send("/delete")
    await ben.press("Yes, erase everything")
    await diary.enrol(ben, "P-0011")
    shown = diary.standin.messages[ben.id][offer.message_id]

    async def crises_after(labels: list[str]) -> tuple[int, int]:
        for label in labels:
            await ben.press(label, message=shown)
        await all_sent(diary)
        return sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages), len(await rows(diary, Alert))

    assert await crises_after([SEVERAL_DAYS, SEVERAL_DAYS, NOT_AT_ALL, SEVERAL_DAYS]) == (1, 1)
    assert await crises_after([NEARLY_EVERY_DAY, MORE_THAN_HALF, NEARLY_EVERY_DAY]) == (2, 2)


@SQLITE_ONLY
async def test_crisis_answers_tapped_down_and_up_on_a_closed_questionnaire_raise_one_crisis(diary: Diary) -> None:
    """A closed questionnaire's message keeps item 9's buttons. Ben taps "Nearly every day" (a crisis), "More than
    half the days", then "Nearly every day" again: nothing that was not said and carded, so no second crisis text
    or card; and the lower tap does not rewrite the closed questionnaire the card staff act on quotes."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    shown = await closed_at_item_9(diary, ben)
    for label in [NEARLY_EVERY_DAY, MORE_THAN_HALF, NEARLY_EVERY_DAY]:
        await ben.press(label, message=shown)
    await all_sent(diary)
    assert sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 1
    assert len(await rows(diary, Alert)) == 1
    assert {a.item: a.value for a in await diary.answers()}["phq_self_harm"] == "3"


@SQLITE_ONLY
async def test_a_higher_crisis_answer_whose_press_fails_gets_its_crisis_text_at_once(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 9 stands at "Several days" (its crisis text sent); Ben goes back and presses "Nearly every day" while
    the answer cannot be written. The stored answer is a crisis answer, but a lower one: this press's crisis
    text was not queued with it, so it goes at once from the error handler."""
    real_upsert = checkins.upsert_answer
    tries: list[str] = []

    async def away(**values: Any) -> None:
        if values.get("item") == "phq_self_harm" and values.get("value") == "3":
            tries.append(values["value"])
            raise OperationalError("INSERT INTO answer", {}, Exception("database is locked"))
        await real_upsert(**values)

    async with running_diary(database_url, tmp_path / "files", instruments="phq2") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        offer = await offered(diary, ben)
        for label in [NEARLY_EVERY_DAY] * 2 + [NOT_AT_ALL] * 6 + [SEVERAL_DAYS]:
            await ben.press(label, message=diary.standin.messages[ben.id][offer.message_id])
        await ben.wait_for(lambda: sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 1)
        await ben.press("✏ Edit answers", message=diary.standin.messages[ben.id][offer.message_id])
        for _ in range(8):
            await ben.press("Skip ▶", message=diary.standin.messages[ben.id][offer.message_id])
        monkeypatch.setattr(checkins, "upsert_answer", away)
        try:
            await ben.press(NEARLY_EVERY_DAY, message=diary.standin.messages[ben.id][offer.message_id], wait=False)
            await ben.wait_for(lambda: sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 2)
        finally:
            monkeypatch.undo()
        assert tries, "the press failed as it should"


@POSTGRESQL_ONLY
@pytest.mark.parametrize("where", ["open", "closed", "not theirs"])
async def test_a_crisis_answer_pressed_twice_at_once_is_one_crisis(database_url: str, where: str) -> None:
    """Two presses of the same crisis answer side by side (two processes behind one webhook, a double tap): on an
    open questionnaire move_to's UPDATE makes the second wait and see the first answer; on a closed one nothing
    took the check-in's row, and each press took the answer for new: two crisis texts, two cards. So too on a
    questionnaire that is no check-in of theirs (one an earlier diary of the account's left in the chat)."""
    database = Database(database_url)
    await migrate.upgrade(database)
    try:
        patient = await accept(database, await invite(database), 301)
        async with database.session() as session:
            checkin, _ = await checkins.create(
                session=session,
                patient_id=patient.id,
                questionnaire="phq9",
                local_date=NOW.date(),
                slot="phq9",
                started_at=NOW,
                closes_at=NOW + timedelta(hours=12),
                step="phq_self_harm",
                chat_id=301,
            )
        heard: list[str] = []

        async def on_crisis_answer(*args: Any) -> None:
            heard.append(args[3])

        flow = CheckIns(
            database, Questionnaires.load(), open_for=timedelta(hours=12), on_crisis_answer=on_crisis_answer
        )
        now = NOW + timedelta(hours=1 if where == "open" else 13)
        assert checkin.id is not None
        pressed = checkin.id + 1000 if where == "not theirs" else checkin.id  # an erased diary's, say

        async def press(update_id: int) -> Any:
            return await flow.act(
                patient=patient,
                checkin_id=pressed,
                action=Action.ANSWER,
                item_id="phq_self_harm",
                value="3",
                now=now,
                update_id=update_id,
            )

        with pytest.MonkeyPatch.context() as patched:
            # Both at their look at what was heard before: on the check-in, or pressed on one not theirs.
            meet_at(patched, checkins, "crisis_pressed" if where == "not theirs" else "answers")
            await asyncio.gather(press(1), press(2))
        assert heard == ["3"]
    finally:
        await database.dispose()


@SQLITE_ONLY
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


@SQLITE_ONLY
async def test_text_while_a_questionnaire_is_offered_reaches_staff(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await offered(diary, ben)
    await ben.send("Can someone call me about the next infusion?")
    await diary.wait_until(lambda: any("next infusion" in (m.text or "") for m in staff_chat(diary)))
    assert not [a for a in await rows(diary, Answer) if a.item == "note" and "infusion" in a.value]


@SQLITE_ONLY
async def test_crisis_words_while_a_questionnaire_waits_are_a_crisis_card_and_leave_it_open(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    offer = await offered(diary, ben)
    await ben.send("cant face another day of this, i want to end my life", wait=False)
    await ben.wait_for(lambda: any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages))
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    assert card.caption is not None and card.caption.startswith("🔴 URGENT") and "end my life" in card.caption
    # Half way through the PHQ-9, the same.
    await ben.press(MORE_THAN_HALF, message=offer)
    await ben.press(MORE_THAN_HALF, message=diary.standin.messages[ben.id][offer.message_id])
    assert "Question 3 of 9" in (diary.standin.messages[ben.id][offer.message_id].text or "")
    await ben.send("ive been stockpiling my pregabalin", wait=False)
    await diary.wait_until(lambda: sum(bool(m.photo) for m in staff_chat(diary)) == 2)
    assert "stockpiling" in (staff_chat(diary)[-1].caption or "")
    alerts = await rows(diary, Alert)
    assert [(a.rule, a.status) for a in alerts] == [("crisis_text", "open"), ("crisis_text", "open")]
    assert "Question 3 of 9" in (diary.standin.messages[ben.id][offer.message_id].text or ""), "still open"
    assert not [a for a in await rows(diary, Answer) if a.item == "note"]


@SQLITE_ONLY
async def test_no_questionnaire_is_offered_when_the_clinic_turns_them_off(database_url: str, tmp_path: Path) -> None:
    async with running_diary(database_url, tmp_path / "files", instruments="") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        await daily_checkin(diary, ben)
        await all_sent(diary)
        assert [c.questionnaire for c in await rows(diary, CheckIn)] == ["daily"]
        assert not any("Mood questionnaire" in (m.text or "") for m in ben.messages)


# -- pain interference (PEG) and the CRPS signs checklist


@pytest.mark.parametrize(
    ("answers", "total"), [((0, 0, 0), 0), ((10, 10, 10), 10), ((7, 6, 4), 5.7), ((1, 0, 0), 0.3), ((5, 5, 6), 5.3)]
)
def test_peg_is_the_mean_of_its_three_items_to_one_decimal(answers: tuple[int, int, int], total: float) -> None:
    peg = QUESTIONNAIRES["interference"]
    score = peg.score({item.id: str(value) for item, value in zip(peg.items, answers, strict=True)})
    assert score is not None and (score.total, score.band) == (total, None)


@pytest.mark.parametrize("present", [0, 1, 4, 8])
@pytest.mark.parametrize("spread", ["no", "yes"])
def test_crps_signs_count_the_eight_symptoms_and_not_the_spread(present: int, spread: str) -> None:
    crps = QUESTIONNAIRES["crps"]
    symptoms = [item.id for item in crps.items if item.id != "crps_spread"]
    assert len(symptoms) == 8
    answers = {item: "yes" if n < present else "no" for n, item in enumerate(symptoms)} | {"crps_spread": spread}
    score = crps.score(answers)
    assert score is not None and score.total == present


def test_every_instrument_offered_by_itself_has_a_cadence_and_loinc_codes_where_published() -> None:
    cadences = {q.id: q.every_days for q in QUESTIONNAIRES.values() if q.every_days}
    assert cadences == {"phq2": 14, "interference": 7, "crps": 28}
    assert (QUESTIONNAIRES["phq9"].loinc, QUESTIONNAIRES["phq9"].scoring.loinc) == ("44249-1", "44261-6")  # type: ignore[union-attr]
    assert (QUESTIONNAIRES["interference"].loinc, QUESTIONNAIRES["interference"].scoring.loinc) == (  # type: ignore[union-attr]
        "91148-7",
        "91147-9",
    )
    assert all(item.loinc for q in ("phq2", "phq9", "interference") for item in QUESTIONNAIRES[q].items)


async def answer_offer(user: SimulatedUser, diary: Diary, offer: ChatMessage, labels: list[str]) -> str:
    for label in labels:
        await user.press(label, message=diary.standin.messages[user.id][offer.message_id])
    return diary.standin.messages[user.id][offer.message_id].text or ""


@SQLITE_ONLY
async def test_interference_weekly_and_crps_signs_four_weekly_are_offered_scored_and_shown(
    database_url: str, tmp_path: Path
) -> None:
    async with running_diary(database_url, tmp_path / "files", instruments="interference,crps") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        before = len(ben.messages)
        await daily_checkin(diary, ben)
        await ben.wait_for(lambda: len(ben.messages) > before + 1 and "Pain and daily life" in (ben.last.text or ""))
        offer = ben.last
        assert "Question 1 of 3" in (offer.text or "") and "on average in the past week" in (offer.text or "")
        summary = await answer_offer(ben, diary, offer, ["7", "6", "4"])
        assert "Thank you. Your answers:" in summary and "5.7" not in summary, "no score for the patient"

        diary.clock.advance(days=1)  # one questionnaire a day: the CRPS checklist comes the next day
        before = len(ben.messages)
        await daily_checkin(diary, ben)
        await ben.wait_for(lambda: len(ben.messages) > before + 1 and "affected limb" in (ben.last.text or ""))
        offer = ben.last
        assert "Question 1 of 9" in (offer.text or "") and [label for label, _ in offer.buttons][:2] == ["No", "Yes"]
        await answer_offer(ben, diary, offer, ["Yes", "Yes", "No", "No", "Yes", "No", "No", "No", "Yes"])

        diary.clock.advance(days=6)  # a week after the first: interference again
        before = len(ben.messages)
        await daily_checkin(diary, ben)
        await ben.wait_for(lambda: len(ben.messages) > before + 1 and "Pain and daily life" in (ben.last.text or ""))
        await answer_offer(ben, diary, ben.last, ["8", "8", "8"])

        sam = SimulatedUser(diary.standin, 800, "Sam")
        await register_staff(diary, sam)
        await sam.send("/patient P-0001")
        await sam.wait_for(lambda: any(m.photo for m in sam.messages))
        shown = next(m.text for m in sam.messages if "Questionnaires" in (m.text or "")) or ""
        lines = shown.split("Questionnaires (newest first):\n")[1].splitlines()
        assert lines[0].endswith("PEG (pain interference): 8, +2.3 since 2026-11-21"), "newest first, with its change"
        assert lines[1].endswith("CRPS signs: 3") and lines[2].endswith("PEG (pain interference): 5.7")

        diary.clock.advance(hours=14, minutes=31)  # 23:31 in Berlin: the digest lists today's questionnaires
        assert await digest.daily(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
        await diary.wait_until(lambda: any("Daily digest" in (m.text or "") for m in staff_chat(diary)))
        text = next(m.text for m in staff_chat(diary) if "Daily digest" in (m.text or "")) or ""
        assert "Questionnaires answered: P-0001 PEG (pain interference) 8 (before: 5.7)" in text

        await exported_as_fhir_and_csv(database_url, tmp_path)
        await ben.send("/export")
        await ben.wait_for(lambda: ben.last.document_name == "questionnaires.csv")
        own = (ben.last.document or b"").decode("utf-8")
        assert own.count("\nP-0001,") == 3 + 9 + 3 and ",crps,crps_spread,yes,3" in own, "the patient's own answers"


async def exported_as_fhir_and_csv(database_url: str, folder: Path) -> None:
    """Each completed instrument is a QuestionnaireResponse with its score as an Observation (valid R4
    by fhir.resources), and its answers are rows of the questionnaires CSV."""
    bundle_file, rows_file = folder / "export.json", folder / "questionnaires.csv"
    for form, out in (("fhir", bundle_file), ("questionnaires", rows_file)):
        done = await asyncio.to_thread(run_cli, "export", "--format", form, "--out", out, DATABASE_URL=database_url)
        assert done.returncode == 0, done.stderr
    bundle = Bundle.model_validate(json.loads(bundle_file.read_text(encoding="utf-8")))
    resources = [entry.resource for entry in bundle.entry or []]
    responses = {
        r.questionnaire.rsplit(":", 1)[-1]: r for r in resources if r.get_resource_type() == "QuestionnaireResponse"
    }
    assert set(responses) == {"daily", "interference", "crps"}
    peg = responses["interference"]
    assert peg.status == "completed" and [i.definition for i in peg.item] == [
        "http://loinc.org/75893-8",
        "http://loinc.org/91145-3",
        "http://loinc.org/91146-1",
    ]
    scores = [
        (o.code.text, o.code.coding[0].code, o.valueQuantity.value if o.valueQuantity else o.valueInteger)
        for o in resources
        if o.get_resource_type() == "Observation" and o.code.text.endswith("_score")
    ]
    assert sorted(scores, key=str) == [
        ("crps_score", "crps_score", 3),
        ("interference_score", "91147-9", 8),
        ("interference_score", "91147-9", Decimal("5.7")),
    ]
    with rows_file.open(encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [(r["questionnaire"], r["item"], r["answer"], r["score"]) for r in written[:3]] == [
        ("interference", "peg_pain", "7", "5.7"),
        ("interference", "peg_enjoyment", "6", "5.7"),
        ("interference", "peg_activity", "4", "5.7"),
    ]
    assert len(written) == 3 + 9 + 3


@pytest.mark.slow
def test_replay_reads_phq9_scores_from_the_questionnaires_csv(tmp_path: Path) -> None:
    diary_file, scores_file, out = tmp_path / "diary.csv", tmp_path / "questionnaires.csv", tmp_path / "alerts.csv"
    diary_file.write_text(
        "patient,recorded_at,pain,skin_color,skin_temperature,swelling,mood,note\n"
        "P-1,2026-11-01T09:00:00+00:00,4,same,same,none,4,\n",
        encoding="utf-8",
    )
    answers = {"phq_interest": 3, "phq_down": 3, "phq_sleep": 2, "phq_tired": 2}  # 10, the rest "not at all"
    scores_file.write_text(
        "patient,recorded_at,questionnaire,item,answer,score\n"
        + "".join(
            f"P-1,2026-11-02T09:00:00+00:00,phq9,{item.id},{answers.get(item.id, 0)},\n"
            for item in QUESTIONNAIRES["phq9"].items
        ),
        encoding="utf-8",
    )
    rules = load_rules()
    without = replay.run(diary_file, infusions=None, rules=rules, out=out, progress=False)
    with_scores = replay.run(
        diary_file, infusions=None, rules=rules, out=out, questionnaires=scores_file, progress=False
    )
    assert (without.by_rule["low_mood"], with_scores.by_rule["low_mood"]) == (0, 1)
    scores_file.write_text(
        "patient,recorded_at,questionnaire,item,answer,score\nP-1,2026-11-02T09:00:00+00:00,phq9,phq_down,4,\n",
        encoding="utf-8",
    )
    with pytest.raises(CsvError, match=r"row 2, answer: '4' is not one of 0\|1\|2\|3"):
        replay.run(diary_file, infusions=None, rules=rules, out=out, questionnaires=scores_file, progress=False)


@SQLITE_ONLY
async def test_a_phq9_of_10_or_more_raises_a_low_mood_card_with_its_score(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    offer = await offered(diary, ben)
    await answer_offer(ben, diary, offer, [NEARLY_EVERY_DAY, NEARLY_EVERY_DAY] + [SEVERAL_DAYS] * 6 + [NOT_AT_ALL])
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    assert card.caption is not None and card.caption.startswith("🟠 Amber")
    assert "\nPHQ-9 12 on Sat 21 Nov (the first)\n" in card.caption
    assert card.caption.endswith("\nPHQ-2 6 on 21.11\nPHQ-9 12 on 21.11"), "diary cards show the newest scores, dated"
    (alert,) = await rows(diary, Alert)
    assert alert.rule == "low_mood"
    assert not any("12" in (m.text or "") and "PHQ" in (m.text or "") for m in ben.messages), "staff only"


# -- cadences: the clinic's and each patient's own


def test_clinic_cadences_from_instruments_and_their_errors() -> None:
    assert parse_instruments("phq2,interference=3,crps=28d") == {"phq2": 14, "interference": 3, "crps": 28}
    assert parse_instruments("") == {}
    for wrong, says in (("phq9", "unknown questionnaire 'phq9'"), ("crps=0", "from 1 to 365"), ("crps=x", "number")):
        with pytest.raises(ValueError, match=says):
            parse_instruments(wrong)


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["phq2"], "'phq2' is not a cadence"),
        (["phq9=14d"], "'phq9' is not a questionnaire offered by itself; known: crps, interference, phq2"),
        (["crps=400d"], "'crps=400d': between 1 and 365 days"),
    ],
)
def test_cadence_words_are_refused_with_what_is_wrong(words: list[str], says: str) -> None:
    with pytest.raises(InputError) as refused:
        cadences.parse(words, QUESTIONNAIRES)
    assert str(refused.value).startswith(says)


@SQLITE_ONLY
async def test_an_admin_sets_a_patients_own_cadences_and_offers_follow_them(database_url: str, tmp_path: Path) -> None:
    async with running_diary(database_url, tmp_path / "files", instruments="interference,crps") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        ada = SimulatedUser(diary.standin, 900, "Ada")
        await register_staff(diary, ada, role="admin")
        await diary.enrol(ben)
        reply = await ada.send("/questionnaires P-0001 interference=3d crps=off")
        assert reply is not None and reply.text == (
            "P-0001, questionnaires beside the daily check-in:\n"
            "crps: not offered (this patient's)\n"
            "interference: every 3 days (this patient's)\n"
            "phq2: not offered (the clinic's)"
        )
        refused = await ada.send("/questionnaires P-0001 mood=7d")
        assert refused is not None and (refused.text or "").startswith("'mood' is not a questionnaire")
        stranger = SimulatedUser(diary.standin, 901, "Sam")
        await register_staff(diary, stranger)  # staff, not admin
        await stranger.send("/questionnaires P-0001 crps=28d")

        offers = []
        for _day in range(7):
            before = len(ben.messages)
            await daily_checkin(diary, ben)
            await all_sent(diary)
            if len(ben.messages) > before + 1 and "Pain and daily life" in (ben.last.text or ""):
                offers.append(_day)
                await answer_offer(ben, diary, ben.last, ["3", "3", "3"])
            diary.clock.advance(days=1)
        assert offers == [0, 3, 6], "every 3 days for this patient; the CRPS checklist never"
        assert not any("affected limb" in (m.text or "") for m in ben.messages)

        shown = await asyncio.to_thread(run_cli, "questionnaires", "P-0001", DATABASE_URL=database_url)
        assert shown.returncode == 0 and "interference: every 3 days (this patient's)" in shown.stdout
        back = await asyncio.to_thread(
            run_cli, "questionnaires", "P-0001", "crps=clinic", DATABASE_URL=database_url, INSTRUMENTS="crps"
        )
        assert back.returncode == 0 and "crps: every 28 days (the clinic's)" in back.stdout
        async with diary.database.session() as session:
            events = [(e.actor_id, e.action, e.detail) for e in await audit.since(session=session)]
        assert (900, "questionnaires", "interference=3 crps=0") in events
        assert (None, "questionnaires", "crps=clinic") in events
        assert not any(e[0] == 901 and e[1] == "questionnaires" for e in events), "staff cannot set cadences"
