"""A patient's check-in end to end: the real bot over HTTP against the stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import pytest

from bot.logs import quiet_library_loggers
from bot.sandbox import SimulatedUser
from tests.harness import SQLITE_ONLY, Diary


async def start_checkin(diary: Diary, user: SimulatedUser) -> None:
    await user.send("/checkin")
    assert "Question 1 of 6" in (user.last.text or "")


@SQLITE_ONLY
async def test_full_checkin_is_one_message_edited_in_place(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 101, "Ben")
    await diary.enrol(ben)
    await start_checkin(diary, ben)
    checkin_message = ben.last
    for label in ["6", "Redder", "Warmer", "A little", "3 Okay"]:
        await ben.press(label)
    assert "Question 6 of 6" in (ben.last.text or "")
    await ben.send("Burning at night")
    await ben.wait_for(lambda: ben.last.text == "Thank you, your note is saved.")

    summary = diary.standin.messages[ben.id][checkin_message.message_id]
    assert summary.edits == 6, "every step edits the same message"
    assert summary.text is not None
    for line in [
        "Pain: 6",
        "Skin colour: Redder",
        "Skin temperature: Warmer",
        "Swelling: A little",
        "Mood: 3 Okay",
        "Note: Burning at night",
    ]:
        assert line in summary.text
    assert [label for label, _ in summary.buttons] == ["✏ Edit answers"]
    stored = {a.item: a.value for a in await diary.answers()}
    assert stored == {
        "pain": "6",
        "skin_color": "redder",
        "skin_temperature": "warmer",
        "swelling": "mild",
        "mood": "3",
        "note": "Burning at night",
    }
    (checkin,) = await diary.checkins()
    assert checkin.completed_at is not None and checkin.step is None


@SQLITE_ONLY
async def test_half_finished_checkin_keeps_what_was_answered(diary: Diary) -> None:
    ana = SimulatedUser(diary.standin, 102, "Ana")
    await diary.enrol(ana)
    await start_checkin(diary, ana)
    await ana.press("8")
    await ana.press("Paler")
    stored = {a.item: a.value for a in await diary.answers()}
    assert stored == {"pain": "8", "skin_color": "paler"}
    (checkin,) = await diary.checkins()
    assert checkin.completed_at is None and checkin.step == "skin_temperature"


@SQLITE_ONLY
async def test_back_skip_and_edit(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 103, "Ben")
    await diary.enrol(ben)
    await start_checkin(diary, ben)
    await ben.press("5")
    await ben.press("◀ Back")
    assert "Question 1 of 6" in (ben.last.text or "")
    assert "✓ 5" in [label for label, _ in ben.last.buttons], "the current answer is marked"
    await ben.press("7")
    for _ in range(5):
        await ben.press("Skip ▶")
    assert "Pain: 7" in (ben.last.text or "") and "Mood: –" in (ben.last.text or "")
    await ben.press("✏ Edit answers")
    assert "Question 1 of 6" in (ben.last.text or "")
    await ben.press("2")
    assert {a.item: a.value for a in await diary.answers()} == {"pain": "2"}


@SQLITE_ONLY
async def test_same_button_twice_stores_one_answer(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 104, "Ben")
    await diary.enrol(ben)
    await start_checkin(diary, ben)
    message = ben.last
    await ben.press("9", message=message, wait=False)
    await ben.press("9", message=message)
    answers = await diary.answers()
    assert [(a.item, a.value) for a in answers] == [("pain", "9")]
    assert diary.standin.callback_answers, "both presses are answered"


@SQLITE_ONLY
async def test_button_of_closed_checkin_changes_nothing(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 105, "Ben")
    await diary.enrol(ben)
    await start_checkin(diary, ben)
    old = ben.last
    diary.clock.advance(hours=13)  # past the 12 h a check-in stays open
    press = await ben.press("4", message=old)
    assert press.answer == "This check-in is closed."
    assert await diary.answers() == []
    assert diary.standin.messages[ben.id][old.message_id].edits == 0


@SQLITE_ONLY
async def test_new_checkin_closes_the_previous_one(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 106, "Ben")
    await diary.enrol(ben)
    await start_checkin(diary, ben)
    first = ben.last
    await start_checkin(diary, ben)
    press = await ben.press("4", message=first)
    assert press.answer == "This check-in is closed."
    await ben.press("3")
    assert [(a.item, a.value) for a in await diary.answers()] == [("pain", "3")]


@SQLITE_ONLY
async def test_someone_elses_checkin_is_refused(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 107, "Ben")
    eve = SimulatedUser(diary.standin, 108, "Eve")
    await diary.enrol(ben, "P-0001")
    await diary.enrol(eve, "P-0002")
    await start_checkin(diary, ben)
    (checkin,) = await diary.checkins()
    await eve.send("/help")
    press = await eve.press(data=f"ck:a:{checkin.id}:pain:10", message=eve.last)
    assert press.answer == "This check-in is closed."
    assert await diary.answers() == []


@SQLITE_ONLY
async def test_forged_callback_data_is_refused_without_an_error(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 109, "Ben")
    await diary.enrol(ben)
    await start_checkin(diary, ben)
    (checkin,) = await diary.checkins()
    forged = [
        f"ck:a:{checkin.id}:pain:11",  # outside the scale
        f"ck:a:{checkin.id}:pain:-1",
        f"ck:a:{checkin.id}:mood:0",
        f"ck:a:{checkin.id}:skin_color:green",
        f"ck:a:{checkin.id}:dose:5",  # no such item
        f"ck:a:{checkin.id}:note:hello",  # text items take no button value
        "ck:a:99999999:pain:3",
        "ck:x:1:pain:3",
        "ck:a:1:pain:3:extra",
        "\x00\xff' OR 1=1 --",
        "lg:zz",
        "cs:y:short",
        "",
    ]
    for data in forged:
        press = await ben.press(data=data, message=ben.last)
        assert press.answer == "This check-in is closed.", data
    assert await diary.answers() == []
    assert not [m for m in ben.messages if m.text and "went wrong" in m.text]


@SQLITE_ONLY
async def test_info_logs_carry_no_answers_notes_messages_names_or_tokens(
    diary: Diary, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_library_loggers()  # as `python -m bot run` configures logging
    caplog.set_level(logging.INFO)
    ben = SimulatedUser(diary.standin, 110, "Benedikt")
    token = await diary.invite("P-0099")
    await ben.send(f"/start {token}")
    await ben.press("I agree")
    await start_checkin(diary, ben)
    for label in ["9", "Blotchy", "Colder", "Clearly swollen", "1 Very low"]:
        await ben.press(label)
    await ben.send("my secret note about insomnia")
    await ben.wait_for(lambda: ben.last.text == "Thank you, your note is saved.")
    await ben.send("should I take more pregabalin?")
    await ben.send("I want to die")  # a crisis: an urgent alert card for staff
    await diary.wait_until(lambda: any(m.photo for m in diary.standin.chat(-100500)))
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "enrolled" in text and "crisis_text" in text, "the scan saw the bot's INFO records"
    secrets = ["insomnia", "pregabalin", "want to die", "Benedikt", "P-0099", token, "blotchy", "Blotchy"]
    for secret in [*secrets, diary.standin.token]:
        assert secret not in text
