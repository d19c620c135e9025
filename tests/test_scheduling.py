"""Scheduled check-ins end to end: dispatch, exactly once, restart grace, blocked patients, /schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.alerts.desk import AlertDesk
from bot.sandbox import SimulatedUser
from storage import checkins, patients, schedules
from storage.models import Alert, OutboxMessage, Patient
from tests.cli import Completed, run_cli
from tests.harness import SQLITE_ONLY, Diary

ROOT = Path(__file__).resolve().parent.parent


async def outbox_rows(diary: Diary) -> list[OutboxMessage]:
    async with diary.database.session() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_due_slot_is_sent_once_in_the_patients_zone(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 501, "Ben")
    await diary.enrol(ben, "P-0501")
    schedule = await diary.schedule("P-0501")
    assert (schedule.times, schedule.days, schedule.timezone) == ("03:00", "mon-sun", "Europe/Berlin")
    assert schedule.next_due_at == datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 03:00 in Berlin

    diary.clock.now = datetime(2026, 11, 22, 2, 0, 20, tzinfo=UTC)
    assert (await diary.dispatch()).sent == 1
    assert (await diary.dispatch()).sent == 0, "a replayed tick sends nothing"
    await ben.wait_for(lambda: "Question 1 of 6" in (ben.last.text or ""))
    assert "Check-in · 2026-11-22 03:00" in (ben.last.text or "")
    await ben.press("5")
    (checkin,) = await diary.checkins()
    assert (str(checkin.local_date), checkin.slot) == ("2026-11-22", "03:00")
    assert checkin.closes_at == datetime(2026, 11, 22, 14, 0, 20, tzinfo=UTC)
    schedule = await diary.schedule("P-0501")
    assert schedule.next_due_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert [r.status for r in await outbox_rows(diary)] == ["sent"]
    assert len(diary.standin.sent("sendMessage", ben.id)) == 2  # the consent screen and the check-in


async def test_after_downtime_recent_slots_are_sent_and_old_ones_marked_missed(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 502, "Ben")
    await diary.enrol(ben, "P-0502")
    # The bot was down from before 03:00 on the 22nd until 04:30 on the 23rd.
    diary.clock.now = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
    dispatched = await diary.dispatch()
    assert (dispatched.sent, dispatched.missed) == (1, 1)
    statuses = {str(c.local_date): c.status for c in await diary.checkins()}
    assert statuses == {"2026-11-22": "missed", "2026-11-23": "open"}
    await ben.wait_for(lambda: "Check-in · 2026-11-23 04:30" in (ben.last.text or ""))
    assert not [m for m in ben.messages if "2026-11-22" in (m.text or "")]


async def nine_oclock(diary: Diary, code: str) -> None:
    """Check-ins at 09:00 in Berlin from Sunday the 22nd (08:00 UTC)."""
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        assert patient is not None and patient.id is not None
        await schedules.put(
            session=session,
            patient_id=patient.id,
            times="09:00",
            days="mon-sun",
            timezone="Europe/Berlin",
            next_local_date=date(2026, 11, 22),
            next_slot="09:00",
            next_due_at=datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
        )


@SQLITE_ONLY
async def test_after_downtime_past_the_grace_the_newest_checkin_still_open_is_sent_once(diary: Diary) -> None:
    """The bot down across 09:00 for longer than the grace: the patient still gets that day's check-in
    when it is back (one, not none), as long as it would still be open and it is not their night. After
    days down, only the newest: the ones before it are stored as missed, never sent."""
    ben, eve, lou = (SimulatedUser(diary.standin, n, name) for n, name in ((506, "Ben"), (507, "Eve"), (508, "Lou")))
    for user, code in ((ben, "P-0506"), (eve, "P-0507"), (lou, "P-0508")):
        await diary.enrol(user, code)
        await nine_oclock(diary, code)
    async with diary.database.session() as session:  # Lou sleeps until noon
        lou_id = (await patients.by_code(session=session, code="P-0508")).id  # type: ignore[union-attr]
        await schedules.set_quiet_hours(session=session, patient_id=lou_id, quiet_hours="23:00-12:00")
    diary.clock.now = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # back on Tuesday at 11:30 in Berlin
    dispatched = await diary.dispatch()
    assert (dispatched.sent, dispatched.missed) == (2, 7), "Ben's and Eve's Tuesday check-in; the rest missed"
    sent = [(c.patient_id, str(c.local_date)) for c in await diary.checkins() if c.status == "open"]
    assert [day for _, day in sent] == ["2026-11-24", "2026-11-24"]
    await ben.wait_for(lambda: "Check-in · 2026-11-24 11:30" in (ben.last.text or ""))
    assert not [m for m in ben.messages if "2026-11-22" in (m.text or "") or "2026-11-23" in (m.text or "")]
    assert (await diary.dispatch()).sent == 0, "once"
    assert not [m for m in lou.messages if "Check-in ·" in (m.text or "")], "not in the patient's quiet hours"

    diary.clock.now = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # down again: back at 22:00, past 21:00
    dispatched = await diary.dispatch()
    assert (dispatched.sent, dispatched.missed) == (0, 3), "09:00 is 13 hours ago: it would have closed"


async def test_blocked_patient_becomes_unreachable_and_staff_learn_of_it(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 503, "Ben")
    await diary.enrol(ben, "P-0503")
    diary.standin.block(ben.id)
    diary.clock.now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    await diary.dispatch()
    staff_chat = diary.settings.staff_chat_id
    assert staff_chat is not None
    await diary.wait_until(lambda: bool(diary.standin.sent("sendMessage", staff_chat)))
    assert "P-0503" in diary.standin.sent("sendMessage", staff_chat)[0].params["text"]
    async with diary.database.session() as session:
        patient = (await session.exec(select(Patient).where(Patient.code == "P-0503"))).one()
    assert patient.status == "unreachable"
    assert (await diary.schedule("P-0503")).next_due_at is None
    # The staff message is marked sent a moment after Telegram has it.
    await diary.wait_until_async(lambda rows: {r.status for r in rows} == {"blocked", "sent"})


async def test_429_waits_and_sends_once(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 504, "Ben")
    await diary.enrol(ben, "P-0504")
    diary.standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    diary.clock.now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    await diary.dispatch()
    # The row waits out retry_after in the outbox, not marked as being sent, and is not counted as a failure.
    await diary.wait_until_async(lambda rows: rows[0].status == "pending" and rows[0].error == "429")
    assert [r.attempts for r in await outbox_rows(diary)] == [0]
    diary.clock.advance(seconds=2)
    await ben.wait_for(lambda: "Question 1 of 6" in (ben.last.text or ""))
    await diary.wait_until_async(lambda rows: [r.status for r in rows] == ["sent"])
    assert len([m for m in ben.messages if "Question 1 of 6" in (m.text or "")]) == 1


async def test_server_errors_are_retried_later(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 505, "Ben")
    await diary.enrol(ben, "P-0505")
    diary.standin.fail_next("sendMessage", 502, "Bad Gateway")
    diary.clock.now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    await diary.dispatch()
    await diary.wait_until_async(lambda rows: rows[0].status == "pending" and rows[0].attempts == 1)
    diary.clock.advance(seconds=5)  # past the backoff
    await ben.wait_for(lambda: "Question 1 of 6" in (ben.last.text or ""))
    await diary.wait_until_async(lambda rows: [r.status for r in rows] == ["sent"])


async def test_admin_sets_and_shows_a_schedule(diary: Diary) -> None:
    admin = SimulatedUser(diary.standin, 900, "Admin")
    ben = SimulatedUser(diary.standin, 506, "Ben")
    await diary.enrol(ben, "P-0012")
    reply = await admin.send("/schedule P-0012 09:00,20:00 mon-fri America/New_York")
    assert reply is not None and reply.text is not None
    assert reply.text.startswith(
        "P-0012: 09:00,20:00 mon,tue,wed,thu,fri America/New_York\n"
        "Quiet hours: 22:00-07:00 (the clinic's)\nNext check-ins:\n"
    )
    assert "Mon 2026-11-23 09:00 America/New_York = 14:00 UTC" in reply.text
    assert len(reply.text.splitlines()) == 8
    shown = await admin.send("/schedule P-0012")
    assert shown is not None and shown.text == reply.text
    own = await admin.send("/schedule P-0012 09:00,20:00 mon-fri America/New_York 23:30-06:00")
    assert own is not None and "Quiet hours: 23:30-06:00\n" in (own.text or "")
    bad = await admin.send("/schedule P-0012 09:00 mon-sun Europe/Berlin 11pm")
    assert bad is not None and "'11pm' is not a span of hours" in (bad.text or "")
    bad = await admin.send("/schedule P-0012 9am mon-sun Europe/Berlin")
    assert bad is not None and "'9am' is not a time" in (bad.text or "") and "/schedule P-0012" in (bad.text or "")
    unknown = await admin.send("/schedule P-9999")
    assert unknown is not None and unknown.text == "There is no patient with the code P-9999."
    for command in ("/schedule", "/questionnaires"):  # a code too long to repeat whole is shortened, not a crash
        unknown = await admin.send(f"{command} {'x' * 4100}")
        assert unknown is not None and (unknown.text or "").startswith("There is no patient with the code xxx"), unknown
    refused = await ben.send("/schedule P-0012 10:00 mon-sun Europe/Berlin")
    assert refused is not None and "did not understand" in (refused.text or "")
    assert (await diary.schedule("P-0012")).times == "09:00,20:00"


def test_command_line_schedule(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'diary.db'}", "TELEGRAM_BOT_USERNAME": "diary_bot"}

    def bot(*args: str) -> Completed:
        return run_cli(*args, **env)

    assert bot("invite", "--code", "P-0012").returncode == 0
    shown = bot("schedule", "P-0012")
    assert shown.returncode == 0 and shown.stdout.strip() == "P-0012 has no schedule yet."
    set_ = bot("schedule", "P-0012", "09:00,20:00", "mon-sun", "Europe/Berlin")
    assert set_.returncode == 0, set_.stderr
    lines = set_.stdout.strip().splitlines()
    assert lines[:2] == ["P-0012: 09:00,20:00 mon-sun Europe/Berlin", "Quiet hours: 22:00-07:00 (the clinic's)"]
    assert len(lines) == 8
    bad = bot("schedule", "P-0012", "09:00", "someday", "Europe/Berlin")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: 'someday' is not a day or range")
    missing = bot("schedule", "P-7777")
    assert missing.returncode == 2 and "no patient with the code P-7777" in missing.stderr


async def answered_history(diary: Diary, code: str, days: int) -> None:
    """A check-in answered every day at 03:00 Berlin for `days` days before the harness's start."""
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        assert patient is not None and patient.id is not None
        start = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
        entries = [
            (start - timedelta(days=n), (start - timedelta(days=n)).date(), {"pain": "3", "mood": "4"})
            for n in range(days, 0, -1)
        ]
        await checkins.import_entries(session=session, patient_id=patient.id, questionnaire="daily", entries=entries)


@SQLITE_ONLY
async def test_checkins_never_sent_while_the_bot_was_down_are_not_the_patients_silence(diary: Diary) -> None:
    """Three days down: the check-ins the bot never sent are stored as missed, but the patient missed
    nothing, and staff get no 'check-ins missed in a row' for them. Three sent and left unanswered are."""
    ben, eve = SimulatedUser(diary.standin, 504, "Ben"), SimulatedUser(diary.standin, 505, "Eve")
    await diary.enrol(ben, "P-0504")
    await diary.enrol(eve, "P-0505")
    for code in ("P-0504", "P-0505"):
        await answered_history(diary, code, 30)
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    # Eve's three check-ins are sent and she leaves them unanswered.
    async with diary.database.session() as session:
        ben_id = (await patients.by_code(session=session, code="P-0504")).id  # type: ignore[union-attr]
        await schedules.set_paused_until(session=session, patient_id=ben_id, until=datetime(2026, 11, 26, tzinfo=UTC))
    for day in (22, 23, 24):
        diary.clock.now = datetime(2026, 11, day, 2, 0, 30, tzinfo=UTC)
        assert (await diary.dispatch()).sent == 1
        await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
    # Ben's three were due while the bot was down (his pause stands in for a bot that did not tick).
    async with diary.database.session() as session:
        await schedules.set_paused_until(session=session, patient_id=ben_id, until=None)
        await schedules.put(
            session=session,
            patient_id=ben_id,
            times="03:00",
            days="mon-sun",
            timezone="Europe/Berlin",
            next_local_date=date(2026, 11, 22),
            next_slot="03:00",
            next_due_at=datetime(2026, 11, 22, 2, 0, tzinfo=UTC),
        )
    diary.clock.now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    dispatched = await diary.dispatch()
    assert (dispatched.sent, dispatched.missed) == (0, 3), "Ben's three, stored as missed, not sent"
    await desk.sweep(now=diary.clock())
    async with diary.database.session() as session:
        found = [(a.patient_id, a.rule) for a in (await session.exec(select(Alert))).all()]
    assert found == [(ben_id + 1, "missed_checkins")], "Eve's silence is reported, Ben's outage is not"
