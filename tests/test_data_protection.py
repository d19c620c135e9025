"""A patient's own copy (/export), erasure (/delete), retention of operational rows, and what the
INFO log may say while staff work. The real bot over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from bot.alerts import escalation
from bot.alerts.desk import AlertDesk
from bot.diary import cadences
from bot.logs import quiet_library_loggers
from bot.records import erasure as records_erasure
from bot.records import retention
from bot.sandbox import BotApiStandIn, SimulatedUser
from storage import alerts, audit, checkins, inbox, outbox, patient_messages, patients, schedules
from storage import cadences as cadences_store
from storage import staff_chat as staff_chat_store
from storage.models import AuditEvent, CheckIn, InboxUpdate, OutboxMessage
from tests.harness import POSTGRESQL_ONLY, Clock, Diary, running_diary
from tests.postgres import waiting_for_a_lock
from tests.test_alerts import STAFF_CHAT, a_card, complete_checkin, staff_chat, with_history
from tests.test_care_team import a_question_in_the_staff_chat, crisis
from tests.test_delivery_faults import deliveries
from tests.test_patient_schedule import DUE
from tests.test_staff_commands import a_member

NOTE = "my secret note about pregabalin"


async def checkin_with_note(user: SimulatedUser, pain: str) -> None:
    await user.send("/checkin")
    for label in [pain, "Blotchy", "Warmer", "A little", "2 Low"]:
        await user.press(label)
    await user.send(NOTE)
    await user.wait_for(lambda: user.last.text == "Thank you, your note is saved.")


async def test_export_sends_the_patients_own_diary_as_csv(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = await ben.send("/export")
    assert reply is not None and reply.text == "Your diary has no answers yet."
    await checkin_with_note(ben, "6")
    diary.clock.advance(hours=13)  # the first check-in has closed
    await complete_checkin(ben, "3")
    other = SimulatedUser(diary.standin, 302, "Cleo")
    await diary.enrol(other, "P-0002")
    await complete_checkin(other, "9")

    reply = await ben.send("/export")
    assert reply is not None and reply.document is not None and reply.document_name == "diary.csv"
    assert reply.caption is not None and reply.caption.startswith("Your diary")
    rows = list(csv.DictReader(io.StringIO(reply.document.decode("utf-8"))))
    assert [(r["patient"], r["pain"], r["skin_color"], r["mood"], r["note"]) for r in rows] == [
        ("P-0001", "6", "blotchy", "2", NOTE),
        ("P-0001", "3", "same", "4", ""),
    ], "their own answers only, in the diary CSV format"
    async with diary.database.session() as session:
        events = await audit.since(session=session)
    assert [(e.actor_id, e.action, e.patient_code) for e in events if e.action == "export"] == [
        (301, "export", "P-0001"),
        (301, "export", "P-0001"),
    ]


async def rows_mentioning(diary: Diary, *, patient_id: int, values: list[str]) -> list[str]:
    """Every row of every table that refers to the patient by id or contains one of the values."""
    found = []
    references = {"patient_id", "telegram_user_id", "chat_id", "actor_id"}
    async with diary.database.session() as session:
        connection = await session.connection()
        for table in SQLModel.metadata.sorted_tables:
            for row in (await connection.execute(select(table))).mappings():
                for column, value in row.items():
                    if column == "id" and table.name == "patient" and value == patient_id:
                        found.append(f"{table.name}: the patient row")
                    elif column == "patient_id" and value == patient_id:
                        found.append(f"{table.name}.{column}")
                    elif column in references and value == 301:
                        found.append(f"{table.name}.{column} = their Telegram id")
                    elif isinstance(value, str) and any(v in value for v in values):
                        found.append(f"{table.name}.{column}: {value[:60]}")
    return found


async def all_processed(diary: Diary) -> None:
    """Until every update received has been handled (an unhandled one still holds its content)."""
    for _ in range(200):
        async with diary.database.session() as session:
            if not await inbox.unfinished(session=session):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("updates still unprocessed")


async def test_delete_erases_everything_about_the_patient_and_leaves_one_audit_event(diary: Diary) -> None:
    sam = await a_member(diary)
    ben, cleo = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 302, "Cleo")
    await diary.enrol(ben, "P-0007")
    await diary.enrol(cleo, "P-0008")
    await checkin_with_note(ben, "8")
    await complete_checkin(cleo, "5")
    await ben.send("Can I take more pregabalin tonight?")  # forwarded to staff
    await ben.send("I want to die")  # crisis: an urgent alert and its card
    await sam.send("/infusion P-0007 2026-11-02 ketamine")
    await sam.send("/patient P-0007")
    await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
    async with diary.database.session() as session:
        ben_patient = await patients.by_code(session=session, code="P-0007")
    assert ben_patient is not None and ben_patient.id is not None
    async with diary.database.session() as session:  # item 9 pressed on an earlier record's questionnaire
        await checkins.set_crisis_pressed(
            session=session, patient_id=ben_patient.id, checkin_id=99, item="phq9_9", value="1", now=diary.clock()
        )
    secrets = ["P-0007", NOTE, "pregabalin tonight", "want to die"]
    assert len(await rows_mentioning(diary, patient_id=ben_patient.id, values=secrets)) > 5, "the scan sees data"

    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin (ADMIN_TELEGRAM_IDS in the test settings)
    await ada.send("/help")  # a bot can write only to someone who has written to it
    reply = await ben.send("/delete")
    assert reply is not None and reply.text is not None and "cannot be undone" in reply.text
    press = await ben.press("No, keep my diary")
    assert ben.last.text == "Nothing was erased."
    await ben.send("/delete")
    press = await ben.press("Yes, erase everything")
    assert press.answer is None
    assert ben.last.text is not None and ben.last.text.startswith("Your diary has been erased")
    await all_processed(diary)
    # The crisis was still open: erasure takes it with the rest, so staff are told whom to reach.
    await diary.wait_until(lambda: any("erased their diary" in (m.text or "") for m in staff_chat(diary)))
    notice = next(m.text for m in staff_chat(diary) if "erased their diary" in (m.text or ""))
    assert notice is not None and notice.startswith("Patient P-0007 erased their diary while a crisis message")
    assert "want to die" not in notice, "nothing of what they wrote"
    # Nobody had acknowledged it: each admin is told too, as its escalation would have done.
    await diary.wait_until(lambda: any(m.text == notice for m in diary.standin.chat(900)))
    await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
    assert await rows_mentioning(diary, patient_id=ben_patient.id, values=secrets) == []

    async with diary.database.session() as session:
        events = await audit.since(session=session)
        assert await patients.by_code(session=session, code="P-0008") is not None, "others' diaries stay"
        cleo_checkins = (await session.exec(select(func.count()).select_from(CheckIn))).one()  # type: ignore[call-overload]
    assert cleo_checkins[0] == 1
    erasures = [e for e in events if e.action == "erasure"]
    assert len(erasures) == 1 and erasures[0].patient_code is None and erasures[0].actor_id is None
    assert ("view_patient", None) in [(e.action, e.patient_code) for e in events], "the read stays, the name goes"

    reply = await ben.send("/history")
    assert reply is not None and reply.text is not None and "invite" in reply.text, "a stranger now"

    await cleo.send("/delete")
    await cleo.press("Yes, erase everything")
    await all_processed(diary)
    await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
    assert not any("P-0008" in (m.text or "") for m in staff_chat(diary)), "no crisis open: staff are not told"


async def test_retention_deletes_old_operational_rows_and_keeps_recent_ones(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await complete_checkin(ben, "4")
    now = diary.clock()
    async with diary.database.session() as session:
        await outbox.enqueue(session=session, kind="staff", chat_id=-100500, text="sent soon", now=now)
    await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))

    async def counts() -> tuple[int, int]:
        async with diary.database.session() as session:
            inbox_rows = len((await session.exec(select(InboxUpdate))).all())  # type: ignore[call-overload]
            outbox_rows = len((await session.exec(select(OutboxMessage))).all())  # type: ignore[call-overload]
        return inbox_rows, outbox_rows

    kept = await counts()
    assert kept[0] > 0 and kept[1] > 0
    async with diary.database.session() as session:
        later = now + timedelta(days=365)
        await outbox.enqueue(session=session, kind="staff", chat_id=-100500, text="owed", now=now, not_before=later)
    assert await retention.purge(diary.database, now=now + timedelta(days=6), inbox_days=7, outbox_days=30) == (0, 0)
    removed = await retention.purge(diary.database, now=now + timedelta(days=8), inbox_days=7, outbox_days=30)
    assert removed == (kept[0], 0)
    removed = await retention.purge(diary.database, now=now + timedelta(days=31), inbox_days=7, outbox_days=30)
    assert removed == (0, kept[1]), "a message still owed is never purged"
    assert await counts() == (0, 1)
    assert await retention.purge(diary.database, now=now + timedelta(days=999), inbox_days=0, outbox_days=0) == (0, 0)
    assert await diary.answers(), "the diary itself is not touched by retention"
    async with diary.database.session() as session:
        assert not (await session.exec(select(AuditEvent).where(AuditEvent.action == "purge"))).all()  # type: ignore[call-overload]


async def test_info_logs_of_staff_work_carry_no_codes_names_or_answers(
    diary: Diary, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_library_loggers()
    caplog.set_level(logging.INFO)
    sam = await a_member(diary)
    ben = SimulatedUser(diary.standin, 301, "Benedikt")
    reply = await sam.send("/invite P-0099")
    assert reply is not None and reply.text is not None
    token = reply.text.split("=")[-1]
    await ben.send(f"/start {token}")
    await ben.press(data=f"cs:y:{token}")
    await checkin_with_note(ben, "8")
    await sam.send("/patients")
    await sam.send("/patient P-0099")
    await sam.send("/discharge P-0099")
    await ben.send("/export")
    await ben.send("/delete")
    await ben.press("Yes, erase everything")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "created an invite" in text and "erased their diary" in text, "the scan saw the bot's INFO records"
    for secret in ["P-0099", "Benedikt", "Sam", token, NOTE, "blotchy", "Blotchy", diary.standin.token]:
        assert secret not in text, secret


@POSTGRESQL_ONLY
async def test_an_erasure_while_the_crisis_escalates_waits_for_the_escalation_instead_of_deadlocking(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patient presses Yes, erase everything as their crisis escalates. The escalation had counted
    the alert (its row locked) and went on to queue its message, which refers to the patient; the
    erasure had locked the patient and went on to delete their alerts: each waited for the other, and
    PostgreSQL broke the deadlock by failing one of them (the patient's erasure, or the admins'
    escalation). The escalation keeps the patient first, as the erasure does: the erasure waits for it."""
    ben, ada = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 900, "Ada")
    await ada.send("/help")  # the admin's chat takes the escalation (one refused goes to the staff chat)
    await diary.enrol(ben)
    await crisis(diary, ben, "i want to kill myself")
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
    assert patient is not None and patient.id is not None
    diary.clock.advance(minutes=16)
    erasures: list[asyncio.Task[bool]] = []
    enqueue = outbox.enqueue

    async def erased_meanwhile(**kwargs: Any) -> None:
        if not erasures:  # the escalation's first message: its alert counted
            erase = diary.erase(patient.id, ben.id)
            erasures.append(asyncio.create_task(erase))
            assert await waiting_for_a_lock(diary.database, erasures[0]), "erasure and escalation take turns"
        await enqueue(**kwargs)

    monkeypatch.setattr(outbox, "enqueue", erased_meanwhile)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
    assert await erasures[0]
    async with diary.database.session() as session:
        assert await patients.by_code(session=session, code="P-0001") is None


@POSTGRESQL_ONLY
async def test_an_erasure_while_a_refused_escalation_moves_to_the_staff_chat_waits_for_it(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Ada's chat refuses the escalation of Ben's crisis, and the sender moves it to the staff chat (marking
    Ada's row, then queueing one for the staff chat) as Ben erases his diary. The sender had changed Ada's
    row before keeping Ben, the order opposite to the erasure's: each waited for the other and PostgreSQL
    failed one of them. It keeps Ben first: the erasure waits, then erases all."""
    ben, ada = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 900, "Ada")
    await diary.enrol(ben)
    diary.standin.fail_chat(ada.id, 403, "Forbidden: bot was blocked by the user")
    await crisis(diary, ben, "i want to kill myself")
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
    assert patient is not None and patient.id is not None
    erasures: list[asyncio.Task[bool]] = []
    finish = outbox.finish

    async def erased_meanwhile(**kwargs: Any) -> None:
        await finish(**kwargs)
        if kwargs["status"] == "blocked" and not erasures:  # Ada's row, in the sender's move of it
            erasures.append(asyncio.create_task(diary.erase(patient.id, ben.id)))
            assert await waiting_for_a_lock(diary.database, erasures[0]), "erasure and the move take turns"

    monkeypatch.setattr(outbox, "finish", erased_meanwhile)
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
    await diary.wait_until(lambda: bool(erasures))
    assert await erasures[0]
    async with diary.database.session() as session:
        assert await patients.by_code(session=session, code="P-0001") is None
    await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and "deadlock" in r.getMessage().lower()]


class ErasedMeanwhile:
    """The patient's erasure, begun at a step of another transaction (`begin`, once): the step goes on once
    the erasure waits for a lock that transaction holds (they take turns)."""

    def __init__(self, diary: Diary, patient_id: int, telegram_user_id: int) -> None:
        self.diary, self.patient_id, self.telegram_user_id = diary, patient_id, telegram_user_id
        self.erasure: asyncio.Task[bool] | None = None

    @classmethod
    async def of(cls, diary: Diary, telegram_user_id: int, code: str = "P-0001") -> ErasedMeanwhile:
        async with diary.database.session() as session:
            patient = await patients.by_code(session=session, code=code)
        assert patient is not None and patient.id is not None
        return cls(diary, patient.id, telegram_user_id)

    async def begin(self) -> None:
        if self.erasure is None:
            self.erasure = asyncio.create_task(self.diary.erase(self.patient_id, self.telegram_user_id))
            assert await waiting_for_a_lock(self.diary.database, self.erasure), "the erasure and the other take turns"

    async def erased(self) -> bool:
        """Once begun: whether the erasure erased the patient (it fails if PostgreSQL broke a deadlock with it)."""
        await self.diary.wait_until(lambda: self.erasure is not None)
        assert self.erasure is not None
        if not await self.erasure:
            return False
        async with self.diary.database.session() as session:
            return await patients.by_id(session=session, patient_id=self.patient_id) is None


def deadlocks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "deadlock" in f"{r.getMessage()} {r.exc_text}".lower()]


@POSTGRESQL_ONLY
async def test_an_erasure_while_a_staff_reply_is_queued_waits_for_it_instead_of_deadlocking(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Sam pressed Reply under Ben's question and writes his answer as Ben erases his diary. The reply had used
    up the Reply pressed (a row about Ben, deleted) and went on to note Sam's message as one about Ben (a row
    referring to him); the erasure had locked Ben and went on to delete his rows: each waited for the other,
    and PostgreSQL failed one of them (Ben's erasure, or Sam's reply, then lost). The reply keeps Ben
    first, in the order an erasure takes him: the erasure waits for it, then erases all."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await sam.press("Reply", message=forwarded)
    prompt = staff_chat(diary)[-1]
    erasure = await ErasedMeanwhile.of(diary, ben.id)
    take_pending = staff_chat_store.take_pending

    async def erased_meanwhile(**kwargs: Any) -> int | None:
        taken = await take_pending(**kwargs)
        if not kwargs.get("keep"):  # in the transaction that queues the reply
            await erasure.begin()
        return taken

    monkeypatch.setattr(staff_chat_store, "take_pending", erased_meanwhile)
    await sam.send("Take one tablet tonight.", chat_id=STAFF_CHAT, reply_to=prompt)
    assert await erasure.erased()
    await diary.inbox_processed()
    assert not deadlocks(caplog)


@POSTGRESQL_ONLY
@pytest.mark.parametrize("pressed", ["Seen", "Acknowledge"])
async def test_an_erasure_while_staff_mark_a_message_seen_waits_instead_of_deadlocking(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, pressed: str
) -> None:
    """Sam presses Seen under Ben's message, or Acknowledge on the card of his crisis message, as Ben erases
    his diary. The press had marked Ben's message seen (or his alert acknowledged: rows about him) and went
    on to queue "Your care team has seen your message" for him (a row referring to him); the erasure had
    locked Ben and went on to delete his rows: each waited for the other, and PostgreSQL failed one of
    them. The press keeps Ben first, in the order an erasure takes him: the erasure waits, then erases all."""
    if pressed == "Seen":
        ben, sam, shown = await a_question_in_the_staff_chat(diary)
    else:
        ben, sam = SimulatedUser(diary.standin, 301, "Ben"), await a_member(diary)
        await diary.enrol(ben)
        shown = await crisis(diary, ben, "i want to kill myself")
    erasure = await ErasedMeanwhile.of(diary, ben.id)
    mark_seen = patient_messages.mark_seen

    async def erased_meanwhile(**kwargs: Any) -> bool:
        marked = await mark_seen(**kwargs)
        await erasure.begin()
        return marked

    monkeypatch.setattr(patient_messages, "mark_seen", erased_meanwhile)
    await sam.press(pressed, message=shown)
    assert await erasure.erased()
    await diary.inbox_processed()
    assert not deadlocks(caplog)


@POSTGRESQL_ONLY
async def test_an_erasure_while_the_rules_update_a_card_waits_instead_of_deadlocking(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The rules look at Ben's diary (after a check-in, or in the daily pass) and find his pain card's finding
    again, newer, as Ben erases his diary. They had updated his alert (a row about him) and went on to queue
    the card's update (a row referring to him); the erasure had locked Ben and went on to delete his rows:
    each waited for the other, and PostgreSQL failed one of them. The rules keep Ben first, in the order an
    erasure takes him: the erasure waits, then erases all."""
    await a_card(diary)
    diary.clock.advance(days=3)
    await with_history(diary, "P-0001", [3, 9, 9, 9, 9, 9])  # a new run of severe pain: the card's finding again
    erasure = await ErasedMeanwhile.of(diary, 301)
    refresh = alerts.refresh

    async def erased_meanwhile(**kwargs: Any) -> bool:
        written = await refresh(**kwargs)
        await erasure.begin()
        return written

    monkeypatch.setattr(alerts, "refresh", erased_meanwhile)
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    assert await desk.evaluate(patient_id=erasure.patient_id, now=diary.clock()) == 1
    assert await erasure.erased()
    assert not deadlocks(caplog)


@POSTGRESQL_ONLY
async def test_an_erasure_while_a_message_to_the_patient_finds_them_blocking_the_bot_waits_instead_of_deadlocking(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Ben erases his diary and blocks the bot as a message to him is on its way. The sender had marked the
    message blocked (a row about him) and went on to mark Ben unreachable (his row); the erasure had locked
    Ben and went on to delete his rows: each waited for the other, and PostgreSQL failed one of them (the
    erasure, or the sender's task, its message left for its lease to run out). The sender keeps Ben first,
    in the order an erasure takes him: the erasure waits, then erases all."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    erasure = await ErasedMeanwhile.of(diary, ben.id)
    finish = outbox.finish

    async def erased_meanwhile(**kwargs: Any) -> bool:
        finished = await finish(**kwargs)
        if kwargs["status"] == "blocked":
            await erasure.begin()
        return finished

    monkeypatch.setattr(outbox, "finish", erased_meanwhile)
    ended = deliveries(monkeypatch)
    diary.standin.block(ben.id)
    async with diary.database.session() as session:
        await outbox.enqueue(
            session=session,
            kind="patient",
            chat_id=ben.id,
            text="Your care team: hello",
            patient_id=erasure.patient_id,
            now=diary.clock(),
        )
    await diary.wait_until(lambda: bool(ended))
    assert await erasure.erased()
    gc.collect()  # a task that died of an error says so when it is collected
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@POSTGRESQL_ONLY
async def test_an_erasure_while_the_check_ins_go_out_waits_instead_of_deadlocking(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Ben erases his diary as the scheduler's tick makes the check-ins that are due, his among them. The tick
    had taken his schedule (a row of his) and went on to write his check-in (a row referring to him); the
    erasure had locked Ben and went on to delete his rows: each waited for the other, and PostgreSQL failed
    one of them (his erasure, or the tick, with every check-in of its batch). The tick takes the patients
    with their schedules, skipping one an erasure holds: the erasure waits for it, then erases all."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    erasure = await ErasedMeanwhile.of(diary, ben.id)
    advance_many = schedules.advance_many

    async def erased_meanwhile(**kwargs: Any) -> None:
        await advance_many(**kwargs)
        await erasure.begin()

    monkeypatch.setattr(schedules, "advance_many", erased_meanwhile)
    diary.clock.now = DUE
    assert (await diary.dispatch()).sent == 1
    assert await erasure.erased()
    assert not deadlocks(caplog)


@POSTGRESQL_ONLY
async def test_an_erasure_while_an_admin_sets_the_patients_questionnaires_waits_instead_of_deadlocking(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Ada sets Ben's own questionnaire cadences (/questionnaires, the console, the command line) as Ben erases
    his diary. It had deleted his cadence for the PHQ-2 (a row of his) and went on to write the new one (a
    row referring to him); the erasure had locked Ben and went on to delete his rows: each waited for the
    other, and PostgreSQL failed one of them. It keeps Ben first: they take turns."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await cadences.set_cadences(diary.database, code="P-0001", chosen={"phq2": 14}, actor_id=900, now=diary.clock())
    erasure = await ErasedMeanwhile.of(diary, ben.id)
    execute = cadences_store.execute

    async def erased_meanwhile(session: Any, statement: Any, *args: Any) -> Any:
        result = await execute(session, statement, *args)
        if statement.is_delete:  # the cadence that is replaced
            await erasure.begin()
        return result

    monkeypatch.setattr(cadences_store, "execute", erased_meanwhile)
    await cadences.set_cadences(diary.database, code="P-0001", chosen={"phq2": 28}, actor_id=900, now=diary.clock())
    assert await erasure.erased()
    assert not deadlocks(caplog)


async def test_an_erasure_whose_process_stopped_before_saying_so_still_tells_the_patient_it_is_done(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben pressed Yes, erase everything; his diary was erased, and the process stopped before it said so.
    Handled again after the restart, the press came from a stranger (nothing about Ben is left): he got the
    line for strangers, and his question stayed on the screen as if nothing had been erased. He is told it
    was done; nothing about him is kept but that the press was handled."""
    clock = Clock()
    standin = BotApiStandIn(files_dir=tmp_path / "files", clock=clock)
    await standin.start()
    erase = records_erasure.erase

    async def stopped_after(*args: Any, **kwargs: Any) -> bool:
        await erase(*args, **kwargs)
        raise asyncio.CancelledError  # the process stops here: nothing after the erasure's commit happens

    try:
        monkeypatch.setattr(records_erasure, "erase", stopped_after)
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ben = SimulatedUser(standin, 301, "Ben")
            await diary.enrol(ben)
            await ben.send("/delete")
            question = ben.last
            await ben.press("Yes, erase everything", wait=False)
            await eventually_none(diary, "P-0001")
        monkeypatch.undo()
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            await diary.inbox_processed()
            shown = standin.messages[ben.chat_id][question.message_id]
            assert (shown.text or "").startswith("Your diary has been erased"), shown.text
            assert not shown.buttons
            assert not [m for m in ben.messages if "invite" in (m.text or "")], "not told to ask for an invite"
    finally:
        await standin.stop()


async def eventually_none(diary: Diary, code: str) -> None:
    for _ in range(600):
        async with diary.database.session() as session:
            if await patients.by_code(session=session, code=code) is None:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{code} was never erased")
