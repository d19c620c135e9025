"""What patients do with their schedule: pause, resume, time zone, skip today, snooze, reminders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.diary.scheduler import FOREVER
from bot.sandbox import SimulatedUser
from storage import checkins
from storage.models import OutboxMessage, Patient
from tests.harness import POSTGRESQL_ONLY, SQLITE_ONLY, Diary

DUE = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 03:00 in Berlin, the harness's default time


async def scheduled_checkin(diary: Diary, user: SimulatedUser, code: str) -> None:
    await diary.enrol(user, code)
    diary.clock.now = DUE
    await diary.dispatch()
    await user.wait_for(lambda: "Question 1 of 6" in (user.last.text or ""))
    await diary.wait_until_async(lambda rows: rows[-1].status == "sent")  # its message id is recorded


async def test_pause_for_days_and_resume(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 601, "Ben")
    await diary.enrol(ben, "P-0601")
    reply = await ben.send("/pause 3")
    assert reply is not None and reply.text == (
        "Check-ins are paused until 2026-11-24 09:00. Send /resume to start again sooner."
    )
    diary.clock.now = DUE
    dispatched = await diary.dispatch()
    assert (dispatched.sent, dispatched.paused) == (0, 1)
    assert await diary.checkins() == []
    diary.clock.advance(minutes=5)
    reply = await ben.send("/resume")
    assert reply is not None and reply.text == "Check-ins are on. The next one comes on 2026-11-23 03:00."
    for bad in ["/pause 0", "/pause 91", "/pause soon", "/pause 1 2"]:
        reply = await ben.send(bad)
        assert reply is not None and (reply.text or "").startswith("Write /pause"), bad
    reply = await ben.send("/pause")
    assert reply is not None and "Send /resume when you want them again" in (reply.text or "")
    assert (await diary.schedule("P-0601")).paused_until == FOREVER


@SQLITE_ONLY
async def test_timezone_by_button_by_city_and_by_name(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 602, "Ben")
    await diary.enrol(ben, "P-0602")
    await ben.send("/timezone")
    assert "Your time zone is Europe/Berlin" in (ben.last.text or "")
    await ben.press("America/Chicago")
    assert ben.last.text == "Your time zone is now America/Chicago. The next check-in comes on 2026-11-21 03:00."
    assert (await diary.schedule("P-0602")).next_due_at == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    reply = await ben.send("/timezone new york")
    assert reply is not None and (reply.text or "").startswith("Your time zone is now America/New_York.")
    reply = await ben.send("/timezone Asia/Kolkata")
    assert reply is not None and (reply.text or "").startswith("Your time zone is now Asia/Kolkata.")
    reply = await ben.send("/timezone Mordor")
    assert reply is not None and reply.text == (
        'I could not find a time zone for "Mordor". Try a large city nearby, or a name such as Europe/Berlin.'
    )
    reply = await ben.send("/timezone Atlantis")  # close to a city: offered, not taken
    assert reply is not None and reply.text == (
        'I could not find a time zone for "Atlantis". Did you mean Atlanta (America/New_York)? '
        "Press it below, or try a large city nearby."
    )
    assert reply.buttons == [("America/New_York", "tz:America/New_York")]
    async with diary.database.session() as session:
        patient = (await session.exec(select(Patient).where(Patient.code == "P-0602"))).one()
    assert patient.timezone == "Asia/Kolkata"


@SQLITE_ONLY
async def test_skip_today_closes_the_checkin(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 603, "Ben")
    await scheduled_checkin(diary, ben, "P-0603")
    message = ben.last
    (skip,) = [data for label, data in message.buttons if label == "Skip today"]
    await ben.press("Skip today")
    assert ben.last.text == "Skipped. The next check-in comes at its usual time."
    (checkin,) = await diary.checkins()
    assert checkin.status == "skipped"
    again = await ben.press(data=skip, message=message)  # a double tap: the client still showed the button
    assert again.answer is None, "no 'This check-in is closed.' under 'Skipped.'"
    assert ben.last.text == "Skipped. The next check-in comes at its usual time."
    press = await ben.press("4", data=f"ck:a:{checkin.id}:pain:4", message=message)
    assert press.answer == "This check-in is closed."


@SQLITE_ONLY
async def test_snooze_sends_the_checkin_again_an_hour_later(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 604, "Ben")
    await scheduled_checkin(diary, ben, "P-0604")
    await ben.press("Snooze 1 h")
    assert ben.last.text == "Snoozed. I will ask again in an hour."
    diary.clock.advance(minutes=59)
    await diary.wait_until_async(lambda rows: [r.status for r in rows] == ["sent", "pending"])
    diary.clock.advance(minutes=1, seconds=1)
    await ben.wait_for(lambda: "Question 1 of 6" in (ben.last.text or ""))
    await ben.press("2")
    assert [(a.item, a.value) for a in await diary.answers()] == [("pain", "2")]
    assert len(await diary.checkins()) == 1


@SQLITE_ONLY
async def test_a_checkin_answered_after_its_snooze_is_not_sent_again(diary: Diary) -> None:
    """Snoozed, then answered anyway (the pain number typed brings the check-in back): the hour's
    re-send has nothing left to ask, and the patient gets no second copy of a finished check-in."""
    ben = SimulatedUser(diary.standin, 607, "Ben")
    await scheduled_checkin(diary, ben, "P-0607")
    message = ben.last
    await ben.press("Snooze 1 h")
    await ben.send("5")
    await ben.wait_for(lambda: "Question 2 of 6" in (diary.standin.messages[ben.id][message.message_id].text or ""))
    for label in ["Redder", "Warmer", "A little", "3 Okay", "Skip ▶"]:
        await ben.press(label, message=diary.standin.messages[ben.id][message.message_id])
    (checkin,) = await diary.checkins()
    assert checkin.completed_at is not None
    seen = len(ben.messages)
    diary.clock.advance(hours=1, seconds=1)
    await diary.wait_until_async(lambda rows: [r.status for r in rows if r.kind == "checkin"] == ["sent", "skipped"])
    assert ben.messages[seen:] == [], "no second copy of the finished check-in"


@SQLITE_ONLY
async def test_one_reminder_after_two_hours_but_not_in_quiet_hours(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 605, "Ben")
    await scheduled_checkin(diary, ben, "P-0605")  # sent at 03:00 Berlin, inside quiet hours 22:00-07:00
    scheduler_reminders = diary.reminders
    diary.clock.advance(hours=2, minutes=1)  # 05:01 Berlin
    assert await scheduler_reminders() == 0, "quiet hours"
    diary.clock.advance(hours=2)  # 07:01 Berlin
    assert await scheduler_reminders() == 1
    assert await scheduler_reminders() == 0, "only one reminder"
    await ben.wait_for(lambda: (ben.last.text or "").startswith("A gentle reminder"))

    ana = SimulatedUser(diary.standin, 606, "Ana")
    await diary.enrol(ana, "P-0606")
    await ana.send("/checkin")
    await ana.press("3")  # started: no reminder for a check-in being answered
    diary.clock.advance(hours=3)
    assert await scheduler_reminders() == 0


@POSTGRESQL_ONLY
async def test_two_processes_ticking_at_once_send_one_reminder(diary: Diary, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes on one database look for check-ins to remind of at the same moment: each found Ben's
    untouched check-in not yet reminded, and each queued a reminder. He is reminded once."""
    ben = SimulatedUser(diary.standin, 612, "Ben")
    await scheduled_checkin(diary, ben, "P-0612")
    diary.clock.advance(hours=4, minutes=1)  # 07:01 Berlin: past the clinic's quiet hours
    real = checkins.needing_reminder
    both_looked = asyncio.Barrier(2)

    async def looked_at_once(**kwargs: Any) -> list[tuple[int, int, str, str | None]]:
        found = await real(**kwargs)
        await both_looked.wait()
        return found

    monkeypatch.setattr(checkins, "needing_reminder", looked_at_once)
    reminded = await asyncio.gather(diary.reminders(), diary.reminders())
    await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
    assert sorted(reminded) == [0, 1]
    assert sum((m.text or "").startswith("A gentle reminder") for m in ben.messages) == 1


async def test_a_checkin_open_as_the_record_moves_to_a_new_phone_is_asked_and_reminded_there(diary: Diary) -> None:
    """Ben's check-in is in his chat, untouched, as he opens a re-link on his new phone. Its reminder went to the
    old account, which the check-in still named (a phone he may have lost, or someone else's); the new phone had
    neither, and nothing to answer. The check-in comes anew to the new phone, its reminder follows it there, and
    the old account gets nothing more than the word that the diary moved."""
    ben, new_phone, relinked = await a_relink_ready(diary)
    diary.clock.now = DUE
    await diary.dispatch()
    await ben.wait_for(lambda: "Question 1 of 6" in (ben.last.text or ""))
    await diary.wait_until_async(lambda rows: rows[-1].status == "sent")  # its message id is recorded
    await relinked()
    await new_phone.wait_for(lambda: any("Question 1 of 6" in (m.text or "") for m in new_phone.messages))
    await diary.wait_until_async(lambda rows: all(r.status in ("sent", "skipped") for r in rows))
    told = len(diary.standin.sent("sendMessage", ben.id))
    diary.clock.advance(hours=4, minutes=1)  # 07:01 Berlin
    assert await diary.reminders() == 1
    await new_phone.wait_for(lambda: (new_phone.last.text or "").startswith("A gentle reminder"))
    await diary.wait_until_async(lambda rows: all(r.status in ("sent", "skipped") for r in rows))
    assert len(diary.standin.sent("sendMessage", ben.id)) == told, "nothing more to the old account"
    await new_phone.press("4", message=new_phone.last_with_buttons())
    await new_phone.wait_for(lambda: "Question 2 of 6" in (new_phone.last_with_buttons().text or ""))


async def test_a_checkin_delivered_to_the_old_account_as_the_record_moved_is_not_reminded_there(diary: Diary) -> None:
    """Ben's check-in reaches his old phone as the re-link on his new one commits; it is owed to the new phone, but
    Telegram answers 502 there for a while. The sender wrote the old account into the check-in as it found the
    row moved, and the reminder went there. It waits for the check-in to reach the new phone, and goes there."""
    ben, new_phone, relinked = await a_relink_ready(diary)

    async def relinked_then_502() -> None:
        await relinked()
        diary.standin.fail_chat(new_phone.id, 502, "Bad Gateway")

    diary.standin.meanwhile(ben.id, relinked_then_502)
    diary.clock.now = DUE
    await diary.dispatch()
    await diary.wait_until_async(
        lambda rows: any(r.kind == "checkin" and r.chat_id == new_phone.id and r.error for r in rows)
    )
    diary.clock.advance(hours=4, minutes=1)  # 07:01 Berlin
    assert await diary.reminders() == 0, "the check-in is on no account yet"
    diary.standin.heal_chat(new_phone.id)
    await new_phone.wait_for(lambda: any("Question 1 of 6" in (m.text or "") for m in new_phone.messages))
    await diary.wait_until_async(lambda rows: all(r.status in ("sent", "skipped") for r in rows))
    assert await diary.reminders() == 1
    await new_phone.wait_for(lambda: (new_phone.last.text or "").startswith("A gentle reminder"))
    await diary.wait_until(lambda: not any("Question 1 of 6" in (m.text or "") for m in ben.messages))
    assert not any((m.text or "").startswith("A gentle reminder") for m in ben.messages)


async def a_relink_ready(diary: Diary) -> tuple[SimulatedUser, SimulatedUser, Callable[[], Awaitable[None]]]:
    """Ben, enrolled on his phone; his new phone; and his opening there of a re-link staff made for him."""
    ben = SimulatedUser(diary.standin, 612, "Ben")
    new_phone = SimulatedUser(diary.standin, 613, "Ben on a new phone")
    await diary.enrol(ben, "P-0612")
    token = await diary.invite("P-0612", relink=True)

    async def relinked() -> None:
        screen = await new_phone.send(f"/start {token}")
        await new_phone.press(data=f"cs:y:{token}", message=screen)

    return ben, new_phone, relinked


async def test_a_patients_own_quiet_hours_rule_their_reminders(diary: Diary) -> None:
    admin = SimulatedUser(diary.standin, 900, "Admin")
    ben = SimulatedUser(diary.standin, 608, "Ben")
    await scheduled_checkin(diary, ben, "P-0608")
    await admin.send("/schedule P-0608 03:00 mon-sun Europe/Berlin 00:00-04:00")
    diary.clock.advance(hours=2, minutes=1)  # 05:01 Berlin: inside the clinic's quiet hours, not Ben's
    assert await diary.reminders() == 1


@SQLITE_ONLY
async def test_checkin_closed_without_an_answer_is_missed(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 609, "Ben")
    await scheduled_checkin(diary, ben, "P-0609")
    diary.clock.advance(hours=12, seconds=1)
    await diary.dispatch()
    (checkin,) = await diary.checkins()
    assert checkin.status == "missed"


@SQLITE_ONLY
async def test_unreachable_patient_who_starts_again_gets_checkins_again(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 607, "Ben")
    await diary.enrol(ben, "P-0607")
    diary.standin.block(ben.id)
    diary.clock.now = DUE
    await diary.dispatch()
    await diary.wait_until_async(lambda rows: rows[0].status == "blocked")
    diary.standin.blocked.clear()
    await ben.send("/start")
    schedule = await diary.schedule("P-0607")
    assert schedule.next_due_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    async with diary.database.session() as session:
        patient = (await session.exec(select(Patient).where(Patient.code == "P-0607"))).one()
        rows = (await session.exec(select(OutboxMessage))).all()
    assert patient.status == "active"
    assert [r.status for r in rows if r.kind == "checkin"] == ["blocked"], "nothing is sent again"


@SQLITE_ONLY
async def test_a_paused_patient_gets_no_reminder_nor_the_snoozed_checkin_again(diary: Diary) -> None:
    """/pause means no check-ins from now: the one already sent may still be answered, but no reminder
    and no snoozed copy comes after the pause."""
    ben = SimulatedUser(diary.standin, 610, "Ben")
    await scheduled_checkin(diary, ben, "P-0610")
    diary.clock.advance(hours=4, minutes=1)  # 07:01 Berlin: past the clinic's quiet hours
    await ben.send("/pause 3")
    assert await diary.reminders() == 0, "paused: no reminder"

    ana = SimulatedUser(diary.standin, 611, "Ana")
    await diary.enrol(ana, "P-0611")
    diary.clock.now = DUE + timedelta(days=1)
    await diary.dispatch()
    await ana.wait_for(lambda: "Question 1 of 6" in (ana.last.text or ""))
    await ana.press("Snooze 1 h")
    reply = await ana.send("/pause")
    assert reply is not None and "Send /resume when you want them again" in (reply.text or "")
    seen = len(ana.messages)
    diary.clock.advance(hours=1, seconds=1)
    await diary.wait_until_async(lambda rows: [r.status for r in rows if r.kind == "checkin"][-1] == "skipped")
    assert ana.messages[seen:] == [], "no snoozed copy after /pause"
    (checkin,) = [c for c in await diary.checkins() if c.chat_id == ana.id]
    assert checkin.status == "open", "still there to answer if she wants to"


@SQLITE_ONLY
async def test_a_new_time_zone_keeps_the_patients_pause(diary: Diary) -> None:
    """A patient who paused for a trip and sets their new time zone on arrival stays paused: the zone
    moves their check-ins, it does not start them again."""
    ben = SimulatedUser(diary.standin, 612, "Ben")
    await diary.enrol(ben, "P-0612")
    await ben.send("/pause 3")
    reply = await ben.send("/timezone America/Chicago")
    assert reply is not None and reply.text == (
        "Your time zone is now America/Chicago. The next check-in comes on 2026-11-24 03:00."
    )
    schedule = await diary.schedule("P-0612")
    assert schedule.paused_until == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    diary.clock.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # 03:00 in Chicago, inside the pause
    dispatched = await diary.dispatch()
    assert (dispatched.sent, dispatched.paused) == (0, 0)
    assert await diary.checkins() == []

    ana = SimulatedUser(diary.standin, 613, "Ana")
    await diary.enrol(ana, "P-0613")
    await ana.send("/pause")
    reply = await ana.send("/timezone Europe/London")
    assert reply is not None and reply.text == (
        "Your time zone is now Europe/London. Check-ins stay paused: send /resume when you want them again."
    )
    assert (await diary.schedule("P-0613")).paused_until == FOREVER
    diary.clock.now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 03:00 in London
    assert (await diary.dispatch()).sent == 0
