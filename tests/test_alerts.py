"""Staff alerts end to end: the real bot over HTTP against the stand-in, on SQLite and PostgreSQL.

A patient's check-ins make a rule fire; a card reaches the staff chat; only registered staff may
press its buttons; an urgent alert goes to the admins until acknowledged; the digest arrives daily.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.alerts import digest, escalation
from bot.alerts.desk import AlertDesk
from bot.alerts.rules import Tier, load_rules
from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage
from storage import alerts as storage_alerts
from storage import audit, checkins, patients, staff
from storage.models import Alert, Infusion, OutboxMessage, PatientMessage
from tests.harness import SQLITE_ONLY, TEST_RULES, Diary, running_diary

STAFF_CHAT = -100500
NO_ADVICE = "I can't give medical advice"


async def with_history(diary: Diary, code: str, pains: list[int]) -> None:
    """Earlier check-ins, twelve hours apart, ending twelve hours before now."""
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        assert patient is not None and patient.id is not None
        now = diary.clock()
        count = len(pains)
        await checkins.import_entries(
            session=session,
            patient_id=patient.id,
            questionnaire="daily",
            entries=[
                (at, at.date(), {"pain": str(p), "mood": "4"})
                for p, at in ((p, now - timedelta(hours=12 * (count - n))) for n, p in enumerate(pains))
            ],
        )


async def complete_checkin(user: SimulatedUser, pain: str) -> None:
    await up_to_the_note(user, pain)
    await user.press("Skip ▶")


async def up_to_the_note(user: SimulatedUser, pain: str) -> None:
    """A check-in started with /checkin, answered with this pain and no changes up to its note question."""
    await user.send("/checkin")
    for label in [pain, "The same", "The same", "Not swollen", "4 Good"]:
        await user.press(label)


async def register_staff(diary: Diary, user: SimulatedUser, role: str = "staff") -> None:
    async with diary.database.session() as session:
        await staff.add(session=session, telegram_user_id=user.id, role=role, now=diary.clock())


def staff_chat(diary: Diary) -> list[ChatMessage]:
    return diary.standin.chat(STAFF_CHAT)


async def a_card(diary: Diary) -> ChatMessage:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
    await complete_checkin(ben, "9")
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows if r.kind == "alert"))
    return next(m for m in staff_chat(diary) if m.photo)


async def alerts(diary: Diary) -> list[Alert]:
    async with diary.database.session() as session:
        return list((await session.exec(select(Alert).order_by(Alert.id))).all())


@SQLITE_ONLY
async def test_a_rule_firing_sends_staff_a_card_and_tells_the_patient_nothing(diary: Diary) -> None:
    card = await a_card(diary)
    assert card.caption is not None
    assert card.caption.startswith("🟠 Amber · P-0001\nPain 9 on 4 check-ins in a row since Thu 19 Nov (alert at 9")
    assert "No infusion recorded." in card.caption
    assert "Ben" not in card.caption, "staff see the clinic code, not the name"
    assert [label for label, _ in card.buttons] == ["Acknowledge", "Snooze 7 days", "Resolve", "History", "Reply"]
    assert card.photo is not None and card.photo.startswith(b"\x89PNG")
    patient_words = " ".join(m.text or m.caption or "" for m in diary.standin.chat(301))
    assert "Severe" not in patient_words and "alert" not in patient_words.lower()
    (alert,) = await alerts(diary)
    assert (alert.rule, alert.status, alert.card_chat_id) == ("severe_pain", "open", STAFF_CHAT)


@SQLITE_ONLY
async def test_only_registered_staff_can_press_and_the_card_shows_who_did_what(diary: Diary) -> None:
    card = await a_card(diary)
    stranger = SimulatedUser(diary.standin, 801, "Guest")
    press = await stranger.press("Acknowledge", message=card)
    assert press.answer == "Only registered clinic staff can act on alerts."
    assert (await alerts(diary))[0].status == "open"

    sam, kim = SimulatedUser(diary.standin, 800, "Sam"), SimulatedUser(diary.standin, 802, "Kim")
    await register_staff(diary, sam)
    await register_staff(diary, kim)
    (acknowledge,) = [data for label, data in card.buttons if label == "Acknowledge"]
    press = await sam.press("Acknowledge", message=card)
    assert press.answer == "Acknowledged."
    press = await kim.press(data=acknowledge, message=card)  # the card as Kim saw it, a moment after Sam
    assert press.answer == "Acknowledged by Sam, 21.11.2026 09:00", "who was quicker, not 'closed'"
    card = diary.standin.messages[STAFF_CHAT][card.message_id]
    assert card.caption is not None and "Acknowledged by Sam, 21.11.2026 09:00" in card.caption
    assert [label for label, _ in card.buttons] == ["Snooze 7 days", "Resolve", "History", "Reply"]

    await sam.press("History", message=card)
    await diary.wait_until(lambda: "P-0001, last 14 days" in (staff_chat(diary)[-1].text or ""))
    assert "9  same  same  none  4" in (staff_chat(diary)[-1].text or "")

    await sam.press("Snooze 7 days", message=card)
    card = diary.standin.messages[STAFF_CHAT][card.message_id]
    assert card.caption is not None and "Snoozed by Sam until 28.11.2026 09:00" in card.caption
    press = await sam.press(data=f"al:a:{(await alerts(diary))[0].id}", message=card)
    assert press.answer == "Snoozed by Sam until 28.11.2026 09:00"
    await sam.press("Resolve", message=card)
    card = diary.standin.messages[STAFF_CHAT][card.message_id]
    assert card.caption is not None and "Resolved by Sam" in card.caption
    assert [label for label, _ in card.buttons] == ["History", "Reply"]
    assert (await alerts(diary))[0].status == "resolved"
    async with diary.database.session() as session:
        events = await audit.since(session=session)
    recorded = [(e.actor_id, e.action, e.patient_code) for e in events if e.action != "invite"]
    assert recorded == [
        (800, "alert_acknowledge", "P-0001"),
        (800, "view_history", "P-0001"),
        (800, "alert_snooze", "P-0001"),
        (800, "alert_resolve", "P-0001"),
    ], "the refused press is not there; every action and the read are"


@SQLITE_ONLY
async def test_a_crisis_message_gets_the_crisis_text_and_an_urgent_alert_that_escalates_to_admins(
    diary: Diary,
) -> None:
    ben = SimulatedUser(diary.standin, 302, "Ben")
    ada = SimulatedUser(diary.standin, 900, "Ada")  # ADMIN_TELEGRAM_IDS in the test settings
    await diary.enrol(ben)
    reply = await ben.send("Honestly I want to die")
    assert reply is not None and reply.text is not None and "call 112 now" in reply.text, "Berlin's numbers"
    assert NO_ADVICE not in reply.text
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    assert card.caption is not None and "🔴 URGENT · P-0001" in card.caption
    assert "Message: Honestly I want to die" in card.caption

    await ben.send("I'm fine now, sorry")  # closes nothing
    (alert,) = await alerts(diary)
    assert alert.status == "open" and alert.rule == "crisis_text"

    desk = AlertDesk.for_settings(diary.database, diary.settings)
    diary.clock.advance(minutes=14)
    assert await escalation.escalate(desk, now=diary.clock()) == 0
    diary.clock.advance(minutes=2)
    assert await escalation.escalate(desk, now=diary.clock()) == 1
    await ada.wait_for(lambda: bool(ada.messages))
    assert (ada.last.text or "").startswith("Not acknowledged for 16 minutes:")
    diary.clock.advance(minutes=15)
    assert await escalation.escalate(desk, now=diary.clock()) == 1
    await ada.wait_for(lambda: len(ada.messages) == 2)

    await ada.press("Acknowledge", message=ada.last)
    diary.clock.advance(minutes=15)
    assert await escalation.escalate(desk, now=diary.clock()) == 0, "acknowledged: no more escalations"
    await diary.wait_until(
        lambda: "Acknowledged by Ada" in (diary.standin.messages[STAFF_CHAT][card.message_id].caption or "")
    )
    (alert,) = await alerts(diary)
    assert alert.status == "acknowledged" and alert.escalations == 2


@SQLITE_ONLY
async def test_a_crisis_nobody_acknowledges_goes_on_escalating_hourly_after_its_four_steps(diary: Diary) -> None:
    """Ben wrote of dying at nine in the evening; nobody answered the four escalations of the first hour. After
    them the crisis went quiet until the morning's digest: a crisis nobody has seen must not. It goes on to the
    admins every hour (`escalation.then_every_minutes`) until someone acknowledges it; a pain alert made urgent
    still stops after its four."""
    ben = SimulatedUser(diary.standin, 302, "Ben")
    ada = SimulatedUser(diary.standin, 900, "Ada")  # ADMIN_TELEGRAM_IDS in the test settings
    await diary.enrol(ben)
    await ben.send("Honestly I want to die")
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    for _ in range(4):
        diary.clock.advance(minutes=16)
        assert await escalation.escalate(desk, now=diary.clock()) == 1
    diary.clock.advance(minutes=30)
    assert await escalation.escalate(desk, now=diary.clock()) == 0, "the next step an hour after the fourth"
    diary.clock.advance(minutes=31)
    assert await escalation.escalate(desk, now=diary.clock()) == 1, "a crisis nobody has seen does not go quiet"
    await ada.wait_for(lambda: len(ada.messages) == 5)
    assert (ada.last.text or "").startswith("Not acknowledged for 125 minutes:")
    diary.clock.advance(minutes=61)
    assert await escalation.escalate(desk, now=diary.clock()) == 1
    await ada.wait_for(lambda: len(ada.messages) == 6)
    await ada.press("Acknowledge", message=ada.last)
    diary.clock.advance(minutes=61)
    assert await escalation.escalate(desk, now=diary.clock()) == 0, "acknowledged: no more escalations"


@SQLITE_ONLY
async def test_escalation_turned_off_sends_no_crisis_escalation(diary: Diary) -> None:
    """A clinic that set `escalation.max_times: 0` turned escalations off (its admins are called another way): the
    hourly steps after the last one sent a crisis to the admins all the same."""
    ben = SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ben)
    await ben.send("Honestly I want to die")
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    off = desk.rules.escalation.model_copy(update={"max_times": 0})
    desk.rules = desk.rules.model_copy(update={"escalation": off})
    for _ in range(4):
        diary.clock.advance(minutes=61)
        assert await escalation.escalate(desk, now=diary.clock()) == 0


@SQLITE_ONLY
async def test_with_no_admin_left_an_unacknowledged_crisis_escalates_to_the_staff_chat(diary: Diary) -> None:
    """The admins removed (or none named): the escalation is not spent on nobody. The staff chat gets
    "Not acknowledged for 16 minutes" with the card's buttons, at each step, until someone acknowledges."""
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    async with diary.database.session() as session:
        assert await staff.remove(session=session, telegram_user_id=900)  # the only admin
    ben = SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ben)
    await ben.send("Honestly I want to die")
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))

    def escalations() -> list[ChatMessage]:
        return [m for m in staff_chat(diary) if (m.text or "").startswith("Not acknowledged for")]

    desk = AlertDesk.for_settings(diary.database, diary.settings)
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(desk, now=diary.clock()) == 1
    await diary.wait_until(lambda: len(escalations()) == 1)
    assert escalations()[0].text.startswith("Not acknowledged for 16 minutes:")  # type: ignore[union-attr]
    await sam.press("Acknowledge", message=escalations()[0])
    diary.clock.advance(minutes=15)
    assert await escalation.escalate(desk, now=diary.clock()) == 0, "acknowledged: no more escalations"
    (alert,) = await alerts(diary)
    assert alert.status == "acknowledged" and alert.acknowledged_by == sam.id


async def test_an_urgent_alert_asked_again_escalates_again_after_its_escalations_ran_out(
    database_url: str, tmp_path: Path
) -> None:
    """A clinic made requests to be contacted urgent. Ben asked at nine and again five minutes on, and nobody
    answered the four escalations. Asking once more at half past ten brought the card anew, but the admins heard
    nothing of it: the alert's escalations were spent. What is new on an unacknowledged urgent alert escalates on
    a clock of its own, never later than one already running would."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(TEST_RULES.read_text() + "contact_request:\n  tier: urgent\n")
    async with running_diary(database_url, tmp_path / "files", rules_file=rules) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin in the test settings
        await diary.enrol(ben)
        await ben.send("/callme")
        await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
        desk = AlertDesk.for_settings(diary.database, diary.settings)
        diary.clock.advance(minutes=5)
        await ben.send("/callme")
        diary.clock.advance(minutes=11)
        assert await escalation.escalate(desk, now=diary.clock()) == 1, "not put off by the request made again"
        for _ in range(3):
            diary.clock.advance(minutes=15)
            assert await escalation.escalate(desk, now=diary.clock()) == 1
        diary.clock.advance(minutes=30)
        assert await escalation.escalate(desk, now=diary.clock()) == 0, "four escalations, then no more"
        await ada.wait_for(lambda: len(ada.messages) == 4)

        await ben.send("/callme")
        await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.photo]) == 2)
        diary.clock.advance(minutes=16)
        assert await escalation.escalate(desk, now=diary.clock()) == 1
        await ada.wait_for(lambda: len(ada.messages) == 5)
        assert "Asked 3 time(s)" in (ada.last.text or "")


@SQLITE_ONLY
async def test_a_question_gets_the_fixed_reply_and_reaches_staff(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 303, "Ben")
    await diary.enrol(ben)
    reply = await ben.send("Should I take more pregabalin?")
    assert reply is not None and (reply.text or "").startswith(NO_ADVICE)
    await diary.wait_until(lambda: any("Message from P-0001" in (m.text or "") for m in staff_chat(diary)))
    async with diary.database.session() as session:
        (stored,) = (await session.exec(select(PatientMessage))).all()
    assert not stored.crisis and stored.text == "Should I take more pregabalin?"


async def test_staff_record_infusions_and_the_digest_lists_what_needs_a_look(diary: Diary) -> None:
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    ben, eve = SimulatedUser(diary.standin, 304, "Ben"), SimulatedUser(diary.standin, 305, "Eve")
    await diary.enrol(ben, "P-0001")
    await diary.enrol(eve, "P-0002")
    reply = await sam.send("/infusion P-0001 2026-11-03 ketamine", chat_id=STAFF_CHAT)
    assert reply is not None and reply.text == "Infusion recorded for P-0001 on 2026-11-03."
    reply = await sam.send("/infusion P-0001 2026-11-03", chat_id=STAFF_CHAT)
    assert reply is not None and reply.text == "P-0001 already has an infusion recorded on 2026-11-03."
    reply = await sam.send("/infusion P-0009 2026-11-03", chat_id=STAFF_CHAT)
    assert reply is not None and reply.text == "There is no patient with the code P-0009."
    async with diary.database.session() as session:
        events = [(e.actor_id, e.action, e.patient_code) for e in await audit.since(session=session)]
    assert [e for e in events if e[1] == "infusion"] == [(800, "infusion", "P-0001")], "the infusion recorded, once"
    reply = await sam.send("/infusion P-0001 3 Nov", chat_id=STAFF_CHAT)
    assert reply is not None and (reply.text or "").startswith("'3' is not a date")
    assert "Write /infusion P-0012 2026-11-03" in (reply.text or "")
    guest = SimulatedUser(diary.standin, 801, "Guest")
    reply = await guest.send("/infusion P-0001 2026-11-04", chat_id=STAFF_CHAT)
    assert reply is not None and reply.text == "Only registered clinic staff can act on alerts."

    # Eve missed her last three check-ins; Ben wrote to the care team.
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code="P-0002")
        assert patient is not None and patient.id is not None
        now = diary.clock()
        await checkins.import_entries(
            session=session,
            patient_id=patient.id,
            questionnaire="daily",
            entries=[(now - timedelta(hours=h), (now - timedelta(hours=h)).date(), {}) for h in (30, 18, 6)],
        )
    await ben.send("When is my next appointment?")
    await up_to_the_note(ben, "4")
    await ben.send("Hand burning since the night.")  # the check-in's note
    await ben.wait_for(lambda: "Hand burning" in (ben.last_with_buttons().text or ""))
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    diary.clock.advance(hours=14)  # 23:00 in Berlin: before the digest time (23:30)
    assert not await digest.daily(desk, now=diary.clock())
    diary.clock.advance(minutes=31)
    assert await digest.daily(desk, now=diary.clock())
    assert not await digest.daily(desk, now=diary.clock()), "once a day"
    await diary.wait_until(lambda: any("Daily digest" in (m.text or "") for m in staff_chat(diary)))
    text = next(m.text for m in staff_chat(diary) if "Daily digest" in (m.text or ""))
    assert text is not None
    assert text.splitlines() == [
        "Daily digest, 2026-11-21",
        "Missed check-ins:",
        "P-0002: 3 check-ins missed in a row since Fri 20 Nov",
        "Patient messages:",
        "P-0001: “When is my next appointment?”",
        "Check-in notes:",
        "P-0001: “Hand burning since the night.”",
    ], "what there is to say, with the words themselves; nothing about what is not there"
    (missed,) = await alerts(diary)
    assert missed.rule == "missed_checkins" and missed.status == "resolved", "a digest line is delivered once"
    async with diary.database.session() as session:
        cards = (await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "alert"))).all()
    assert not cards, "digest-tier findings send no card"


async def test_an_infusion_is_audited_with_it_and_one_not_recorded_leaves_no_audit_row(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit row is written in the transaction that records the infusion: a failure after it (here
    in the panel's summary) takes both back."""
    await diary.enrol(SimulatedUser(diary.standin, 306, "Ben"), "P-0001")
    desk = AlertDesk.for_settings(diary.database, diary.settings)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the summary cannot be written")

    monkeypatch.setattr("bot.alerts.desk.summary.refresh", broken)
    with pytest.raises(RuntimeError):
        await desk.record_infusion(code="P-0001", on=diary.clock().date(), kind="ketamine", by=800, now=diary.clock())
    async with diary.database.session() as session:
        events = [e.action for e in await audit.since(session=session)]
        given = (await session.exec(select(Infusion))).all()
    assert (events, given) == (["invite"], []), "neither the infusion nor its audit row"
    monkeypatch.undo()
    assert await desk.record_infusion(code="P-0001", on=diary.clock().date(), kind="", by=800, now=diary.clock())
    async with diary.database.session() as session:
        events = [e.action for e in await audit.since(session=session)]
    assert events == ["invite", "infusion"], "recorded by the desk itself, whoever asks for it"


@SQLITE_ONLY
async def test_a_new_finding_updates_the_open_alert_and_a_snooze_keeps_the_rule_quiet(diary: Diary) -> None:
    card = await a_card(diary)
    ben = diary.standin.users[301]
    # The run of 9s ends, then starts again: a new finding for the same rule.
    await complete_checkin(ben, "5")
    await with_history(diary, "P-0001", [])
    for _ in range(4):
        diary.clock.advance(hours=12)
        await complete_checkin(ben, "10")
    # Two days on, the card is far up the staff chat: the alert updated comes as its card anew, at the foot.
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.photo]) == 2)
    new = [m for m in staff_chat(diary) if m.photo][-1]
    assert "\nPain 10 on 4 check-ins in a row since Sat 21 Nov" in (new.caption or "")
    assert len(await alerts(diary)) == 1, "updated, not duplicated"
    assert "Pain 9 on 4" in (diary.standin.messages[STAFF_CHAT][card.message_id].caption or "")

    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.press("Snooze 7 days", message=new)
    await complete_checkin(ben, "5")
    for _ in range(4):
        diary.clock.advance(hours=12)
        await complete_checkin(ben, "9")
    (alert,) = await alerts(diary)
    assert alert.status == "snoozed" and "10, 10, 10, 10" in alert.details.replace('"recent": "', "")


@SQLITE_ONLY
async def test_a_new_episode_that_began_during_a_snooze_comes_as_a_card_when_the_snooze_ends(diary: Diary) -> None:
    """Sam snoozed Ben's severe pain card for 7 days. That day the 9s ended, and a run of 10s began that still goes
    on when the snooze ends. The rule stayed quiet through the snooze, as it should; but once it ended, the new episode
    was older than a day and a half, taken for history, and never came: the digest went on listing the snoozed card's
    old words. A finding a snooze held back is news when the snooze ends."""
    card = await a_card(diary)
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.press("Snooze 7 days", message=card)
    diary.clock.advance(days=8)  # the diary of those days, a check-in every twelve hours: 5, then 10s
    await with_history(diary, "P-0001", [5] + [10] * 15)
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    assert await desk.sweep(now=diary.clock()) == 1
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.photo]) == 2)
    new = [m for m in staff_chat(diary) if m.photo][-1]
    assert new.caption is not None and "Pain 10 on 4 check-ins in a row since Sat 21 Nov" in new.caption
    assert "Snoozed" not in new.caption
    (alert,) = await alerts(diary)
    assert alert.status == "open"


@SQLITE_ONLY
async def test_a_new_episode_that_began_during_a_snooze_comes_as_a_card_after_the_snoozed_card_is_resolved(
    diary: Diary,
) -> None:
    """As above, but the snooze over, the digest listed the snoozed card in its old words, and Sam resolved it before
    the diary looked again: the run of 10s begun in the snooze is news all the same."""
    card = await a_card(diary)
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.press("Snooze 7 days", message=card)
    diary.clock.advance(days=8)
    await with_history(diary, "P-0001", [5] + [10] * 15)
    await sam.press("Resolve", message=diary.standin.messages[STAFF_CHAT][card.message_id])
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    assert await desk.sweep(now=diary.clock()) == 1
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.photo]) == 2)
    new = [m for m in staff_chat(diary) if m.photo][-1]
    assert new.caption is not None and "Pain 10 on 4 check-ins in a row since Sat 21 Nov" in new.caption
    assert [a.status for a in await alerts(diary)] == ["resolved", "open"]


@SQLITE_ONLY
async def test_a_new_finding_after_acknowledge_is_a_new_card_and_the_old_cards_buttons_are_stale(
    diary: Diary,
) -> None:
    """Acknowledge covers what the card showed: a new episode of the same rule afterwards is a new card,
    open, with its own Acknowledge; the old card's buttons no longer act on the alert."""
    old = await a_card(diary)
    ben = diary.standin.users[301]
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.press("Acknowledge", message=old)
    old = diary.standin.messages[STAFF_CHAT][old.message_id]
    resolve = dict(old.buttons)["Resolve"]  # as a phone that has not yet shown the card's edit still offers it
    # The run of 9s ends, then a new one starts: a new episode nobody has seen.
    await complete_checkin(ben, "5")
    await with_history(diary, "P-0001", [])
    for _ in range(4):
        diary.clock.advance(hours=12)
        await complete_checkin(ben, "10")
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.photo]) == 2)
    new = [m for m in staff_chat(diary) if m.photo][-1]
    assert new.caption is not None and "Pain 10 on 4 check-ins in a row since Sat 21 Nov" in new.caption
    assert "Acknowledged by" not in new.caption, "Sam acknowledged the earlier episode, not this one"
    assert [label for label, _ in new.buttons][:3] == ["Acknowledge", "Snooze 7 days", "Resolve"]
    (alert,) = await alerts(diary)
    assert alert.status == "open"
    assert "Acknowledged by Sam" in (diary.standin.messages[STAFF_CHAT][old.message_id].caption or "")
    # Its buttons go as the new card comes, not at the first press on them: up the chat, it read as live still.
    await diary.wait_until(
        lambda: (
            [label for label, _ in diary.standin.messages[STAFF_CHAT][old.message_id].buttons] == ["History", "Reply"]
        ),
        timeout=5,
    )

    press = await sam.press(data=resolve, message=old)
    assert press.answer == "This card has a newer one for the same alert: act on the newest card."
    assert (await alerts(diary))[0].status == "open", "the stale button resolved nothing"
    assert [label for label, _ in diary.standin.messages[STAFF_CHAT][old.message_id].buttons] == ["History", "Reply"]
    press = await sam.press("Acknowledge", message=new)
    assert press.answer == "Acknowledged."
    assert (await alerts(diary))[0].status == "acknowledged"


@SQLITE_ONLY
async def test_a_press_on_a_card_as_it_read_before_it_was_updated_acknowledges_nothing(diary: Diary) -> None:
    """Ben asks to be contacted, and again a minute later: the open card is updated in place to "2 time(s)". Sam
    presses Acknowledge on it as it read a moment before (the update on its way to his phone, or the console's queue
    loaded earlier): the press acknowledged the second request, which he never saw. It acts on nothing, tells him
    the card changed, and shows it; pressed again on the card as it now reads, it acknowledges."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    await ben.send("/callme")
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    (as_it_read,) = [data for label, data in card.buttons if label == "Acknowledge"]
    diary.clock.advance(minutes=1)
    await ben.send("/callme")
    await diary.wait_until(lambda: "2 time(s)" in (diary.standin.messages[STAFF_CHAT][card.message_id].caption or ""))
    press = await sam.press(data=as_it_read, message=card)
    assert press.answer == "This card has changed since you saw it: read it again, then act."
    (alert,) = await alerts(diary)
    assert alert.status == "open"
    now = diary.standin.messages[STAFF_CHAT][card.message_id]
    assert "2 time(s)" in (now.caption or "") and "Acknowledged" not in (now.caption or "")
    press = await sam.press("Acknowledge", message=now)
    assert press.answer == "Acknowledged."
    assert (await alerts(diary))[0].status == "acknowledged"


@SQLITE_ONLY
async def test_the_digest_hides_no_alert_that_waits_for_staff(diary: Diary) -> None:
    """A rule the clinic set to the digest tier is listed (any rule, not only missed check-ins), a crisis
    is never closed by being listed, an urgent card nobody acknowledged is named however young, and a
    snooze that is over is listed until someone resolves the alert."""
    for user_id, code in ((311, "P-0001"), (312, "P-0002"), (313, "P-0003")):
        await diary.enrol(SimulatedUser(diary.standin, user_id, "Pat"), code)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9, 9, 9])  # five nines over three days
    rules = load_rules(diary.settings.rules_file)
    rules = rules.model_copy(update={"severe_pain": rules.severe_pain.model_copy(update={"tier": Tier.DIGEST})})
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    desk.rules = rules
    now = diary.clock()
    async with diary.database.session() as session:
        ids = {}
        for code in ("P-0001", "P-0002", "P-0003"):
            patient = await patients.by_code(session=session, code=code)
            assert patient is not None and patient.id is not None
            ids[code] = patient.id

        async def opened(code: str, rule: str, tier: str, details: str = "{}") -> int:
            return await storage_alerts.open_alert(
                session=session,
                patient_id=ids[code],
                rule=rule,
                tier=tier,
                details=details,
                event_at=now,
                now=now,
                next_escalation_at=None,
            )

        await opened("P-0002", "crisis_text", "digest", '{"message": "x"}')
        await opened("P-0002", "swelling_new", "urgent")
        snoozed = await opened("P-0003", "pain_worsening", "amber")
        await storage_alerts.snooze(session=session, alert_id=snoozed, by=800, until=now + timedelta(hours=10), now=now)
    assert await desk.evaluate(patient_id=ids["P-0001"], now=now) == 1
    diary.clock.advance(hours=14, minutes=31)  # 23:31 in Berlin, past the snooze
    assert await digest.daily(desk, now=diary.clock())
    await diary.wait_until(lambda: any("Daily digest" in (m.text or "") for m in staff_chat(diary)))
    text = next(m.text for m in staff_chat(diary) if "Daily digest" in (m.text or ""))
    assert text is not None
    assert text.splitlines() == [
        "Daily digest, 2026-11-21",
        "Crisis messages not yet resolved: P-0002 (21.11 09:00)",
        "Urgent alerts nobody has acknowledged yet:",
        "P-0002: New swelling",
        "Other alerts:",
        "P-0001: Pain 9 on 4 check-ins in a row since Wed 18 Nov (alert at 9 or more)",
        "Snoozed alerts whose snooze is over (listed until someone resolves them):",
        "P-0003: Pain has risen above this patient's usual level and stayed there",
    ]
    statuses = {a.rule: a.status for a in await alerts(diary)}
    assert statuses == {
        "severe_pain": "resolved",
        "crisis_text": "open",
        "swelling_new": "open",
        "pain_worsening": "snoozed",
    }, "a digest line is delivered once; a crisis is closed by staff only"


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_a_request_to_be_contacted_while_staff_acknowledge_the_last_one_is_a_new_card(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patient asks again in the moment a nurse acknowledges their first request (two transactions
    at once, as PostgreSQL runs them): the second request is a card of its own, open, not a count on the
    card the nurse just acknowledged. (SQLite runs one writer at a time: the moment cannot happen there.)"""
    ben = SimulatedUser(diary.standin, 320, "Ben")
    await diary.enrol(ben)
    await ben.send("/callme")
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    (first,) = await alerts(diary)
    read = storage_alerts.unacknowledged

    async def acknowledged_meanwhile(**kwargs: object) -> Alert | None:
        found = await read(**kwargs)  # type: ignore[arg-type]
        async with diary.database.session() as session:  # the nurse's press commits in between
            assert first.id is not None
            await storage_alerts.acknowledge(session=session, alert_id=first.id, by=800, now=diary.clock())
        return found

    monkeypatch.setattr(storage_alerts, "unacknowledged", acknowledged_meanwhile)
    await ben.send("/callme")
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.photo]) == 2)
    earlier, later = await alerts(diary)
    assert (earlier.status, json.loads(earlier.details)["times"]) == ("acknowledged", 1)
    assert (later.status, later.rule) == ("open", "contact_request")


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_a_new_finding_while_staff_acknowledge_the_card_is_a_new_card(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check-in brings a new episode in the moment a nurse acknowledges the open card (two transactions
    at once): the new episode is not written onto the card she acknowledged, it opens a new one."""
    card = await a_card(diary)
    ben = diary.standin.users[301]
    await complete_checkin(ben, "5")
    await with_history(diary, "P-0001", [])
    for _ in range(3):
        diary.clock.advance(hours=12)
        await complete_checkin(ben, "10")
    (alert,) = await alerts(diary)
    read = storage_alerts.active

    async def acknowledged_meanwhile(**kwargs: object) -> Alert | None:
        found = await read(**kwargs)  # type: ignore[arg-type]
        if found is not None and found.status == "open":
            async with diary.database.session() as session:  # the nurse's press commits in between
                assert alert.id is not None
                await storage_alerts.acknowledge(session=session, alert_id=alert.id, by=800, now=diary.clock())
        return found

    monkeypatch.setattr(storage_alerts, "active", acknowledged_meanwhile)
    diary.clock.advance(hours=12)
    await complete_checkin(ben, "10")  # the fourth 10: a new episode of severe pain
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.photo]) == 2)
    new = [m for m in staff_chat(diary) if m.photo][-1]
    assert new.caption is not None and "Pain 10 on 4 check-ins" in new.caption
    assert "Acknowledged by" not in new.caption
    assert "Pain 9 on 4" in (diary.standin.messages[STAFF_CHAT][card.message_id].caption or "")
    (alert,) = await alerts(diary)
    assert alert.status == "open"


@SQLITE_ONLY
async def test_a_press_in_the_moment_a_new_episode_opens_the_alert_again_leaves_one_live_card(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sam presses Acknowledge on the card, and in that moment a check-in brings a new episode: the alert opens again
    under a new card. The press then made the message it was pressed on show the alert as it now was, open, with its
    Acknowledge: after the new card had taken that message's buttons away, two live cards of one alert, the older
    showing the new episode and no longer what Sam acknowledged. It shows what the press acted on, and only History
    and Reply."""
    card = await a_card(diary)
    ben = diary.standin.users[301]
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await complete_checkin(ben, "5")
    await with_history(diary, "P-0001", [])
    for _ in range(3):
        diary.clock.advance(hours=12)
        await complete_checkin(ben, "10")
    diary.clock.advance(hours=12)
    async with diary.database.session() as session:  # the fourth 10, read by the rules as the press is made
        patient = await patients.by_code(session=session, code="P-0001")
        assert patient is not None and patient.id is not None
        await checkins.import_entries(
            session=session,
            patient_id=patient.id,
            questionnaire="daily",
            entries=[(diary.clock(), diary.clock().date(), {"pain": "10", "mood": "4"})],
        )
    act = AlertDesk.act

    async def a_new_episode_meanwhile(desk: AlertDesk, **kwargs: object) -> Alert | None:
        changed = await act(desk, **kwargs)  # type: ignore[arg-type]
        assert patient.id is not None
        await desk.evaluate(patient_id=patient.id, now=diary.clock())  # the new episode, the new card queued
        # ... and sent, its older message's buttons taken, before the press shows its message.
        await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
        return changed

    monkeypatch.setattr(AlertDesk, "act", a_new_episode_meanwhile)
    press = await sam.press("Acknowledge", message=diary.standin.messages[STAFF_CHAT][card.message_id])
    assert press.answer == "Acknowledged."
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.photo]) == 2)
    old, new = [diary.standin.messages[STAFF_CHAT][m.message_id] for m in staff_chat(diary) if m.photo]
    assert [label for label, _ in old.buttons] == ["History", "Reply"], "one live card"
    assert old.caption is not None and "Pain 9 on 4" in old.caption and "Acknowledged by Sam" in old.caption
    assert new.caption is not None and "Pain 10 on 4" in new.caption and "Acknowledged" not in new.caption
    assert [label for label, _ in new.buttons][:3] == ["Acknowledge", "Snooze 7 days", "Resolve"]
    (alert,) = await alerts(diary)
    assert alert.status == "open"


@SQLITE_ONLY
async def test_a_note_put_right_after_its_card_was_acknowledged_reaches_staff(diary: Diary) -> None:
    """Ben's check-in raised a card showing his note, "hand is swollen"; Sam acknowledged it. Ben then edits the note:
    "and black now, I cannot feel my fingers". The note changed, and staff heard nothing: the card they acknowledged
    would show the new words only if someone redrew it. The words reach the staff chat as they now read, with Reply
    and Seen, and so after Sam resolved the card."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
    await up_to_the_note(ben, "9")
    note = ben.say("hand is swollen")
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    assert "Note, 21.11.2026 09:00: hand is swollen" in (card.caption or "")
    await sam.press("Acknowledge", message=card)
    diary.clock.advance(minutes=10)
    await ben.edit(note, "hand is swollen and black now, I cannot feel my fingers")
    await diary.wait_until(lambda: any("cannot feel my fingers" in (m.text or "") for m in staff_chat(diary)))
    told = next(m for m in staff_chat(diary) if "cannot feel my fingers" in (m.text or ""))
    header = "P-0001 changed the note of a finished check-in. It now reads:"
    assert told.text == f"{header}\nhand is swollen and black now, I cannot feel my fingers"
    assert [label for label, _ in told.buttons] == ["Reply", "Seen"]
    assert {a.item: a.value for a in await diary.answers()}["note"] == (
        "hand is swollen and black now, I cannot feel my fingers"
    )

    await sam.press("Resolve", message=diary.standin.messages[STAFF_CHAT][card.message_id])  # the card as resolved
    await ben.edit(note, "hand is swollen and black now, I cannot feel my fingers or move them")
    await diary.wait_until(lambda: any("or move them" in (m.text or "") for m in staff_chat(diary)))


@SQLITE_ONLY
async def test_a_crisis_card_resolved_without_acknowledge_tells_the_patient_it_was_seen(diary: Diary) -> None:
    """A nurse who calls the patient and then presses Resolve, without Acknowledge first, has seen the
    message: the patient is told so, as after Acknowledge, and the message is marked seen."""
    ben = SimulatedUser(diary.standin, 330, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    await ben.send("i dont want to live anymore")
    await diary.wait_until(lambda: any("URGENT" in (m.caption or "") for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if "URGENT" in (m.caption or ""))
    press = await sam.press("Resolve", message=card)
    assert press.answer == "Resolved."
    await ben.wait_for(lambda: ben.last.text == "Your care team has seen your message.")
    async with diary.database.session() as session:
        (message,) = (await session.exec(select(PatientMessage))).all()
    assert message.seen_by == 800


@SQLITE_ONLY
async def test_a_digest_that_fails_to_be_queued_is_composed_again_at_the_next_tick(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest's day is not taken, nor its messages marked listed, until the digest is queued: a
    failure (or a crash) before that leaves everything for the next tick instead of losing the day."""
    ben = SimulatedUser(diary.standin, 340, "Ben")
    await diary.enrol(ben)
    await ben.send("When is my next appointment?")
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    diary.clock.advance(hours=14, minutes=31)  # 23:31 in Berlin
    enqueue = digest.outbox.enqueue

    async def broken(**kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(digest.outbox, "enqueue", broken)
    with pytest.raises(RuntimeError):
        await digest.daily(desk, now=diary.clock())
    monkeypatch.setattr(digest.outbox, "enqueue", enqueue)
    sweeps = 0
    sweep = desk.sweep

    async def counted(*, now: datetime) -> int:
        nonlocal sweeps
        sweeps += 1
        return await sweep(now=now)

    monkeypatch.setattr(desk, "sweep", counted)
    diary.clock.advance(minutes=1)
    assert not await digest.daily(desk, now=diary.clock()) and sweeps == 0, "not a sweep at every tick"
    diary.clock.advance(minutes=4)
    assert await digest.daily(desk, now=diary.clock()), "a tick a few minutes later sends the day's digest"
    await diary.wait_until(lambda: any("Daily digest" in (m.text or "") for m in staff_chat(diary)))
    text = next(m.text for m in staff_chat(diary) if "Daily digest" in (m.text or ""))
    assert text is not None and "P-0001: “When is my next appointment?”" in text
    assert not await digest.daily(desk, now=diary.clock()), "once a day"


def with_digest_time(desk: AlertDesk, at: str) -> None:
    desk.rules = desk.rules.model_copy(update={"digest": desk.rules.digest.model_copy(update={"time": at})})


async def a_digest_at_8_then_a_questionnaire_at_noon(diary: Diary, user_id: int) -> AlertDesk:
    """Saturday's digest at 08:00 (sent at 09:00 in Berlin), then a PEG answered at 12:00."""
    await diary.enrol(SimulatedUser(diary.standin, user_id, "Ben"))
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    with_digest_time(desk, "08:00")
    assert await digest.daily(desk, now=diary.clock()), "Saturday 09:00 in Berlin: Saturday's digest"
    answered = diary.clock() + timedelta(hours=3)  # Saturday 12:00 in Berlin
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
        assert patient is not None and patient.id is not None
        scores = {"peg_pain": "6", "peg_enjoyment": "6", "peg_activity": "6"}
        entries = [(answered, answered.date(), scores)]
        await checkins.import_entries(
            session=session, patient_id=patient.id, questionnaire="interference", entries=entries
        )
    return desk


async def sundays_digest(diary: Diary) -> str:
    await diary.wait_until(lambda: any("Daily digest, 2026-11-22" in (m.text or "") for m in staff_chat(diary)))
    return next(m.text or "" for m in staff_chat(diary) if "Daily digest, 2026-11-22" in (m.text or ""))


@SQLITE_ONLY
async def test_a_digest_sent_late_lists_the_questionnaires_since_the_last_digest(diary: Diary) -> None:
    """The bot down across the digest time: the digest sent when it is back (one, not none) lists every
    questionnaire answered since the last digest, not only those of the last 24 hours."""
    desk = await a_digest_at_8_then_a_questionnaire_at_noon(diary, 341)
    diary.clock.advance(days=1, hours=6)  # down from Sunday 07:00 until 15:00, across the digest time
    assert await digest.daily(desk, now=diary.clock())
    text = await sundays_digest(diary)
    assert "Questionnaires answered: P-0001 PEG (pain interference) 6 (the first)" in text, text
    assert not await digest.daily(desk, now=diary.clock()), "one digest, not a burst"


@SQLITE_ONLY
async def test_a_digest_time_moved_later_still_lists_what_came_after_the_last_digest(diary: Diary) -> None:
    """Saturday's digest at 08:00, a questionnaire at 12:00, then the digest time moved to 16:00: Sunday's
    digest lists the questionnaire (it came after Saturday's digest, not after Saturday 16:00)."""
    desk = await a_digest_at_8_then_a_questionnaire_at_noon(diary, 342)
    with_digest_time(desk, "16:00")
    diary.clock.advance(days=1, hours=7, minutes=5)  # Sunday 16:05 in Berlin
    assert await digest.daily(desk, now=diary.clock())
    text = await sundays_digest(diary)
    assert "Questionnaires answered: P-0001 PEG (pain interference) 6 (the first)" in text, text


@SQLITE_ONLY
async def test_the_days_a_run_covers_are_the_patients_own_days(diary: Diary) -> None:
    """Severe pain must last 4 check-ins over 3 days. For a patient in Los Angeles who checks in at 08:00
    and 20:00, the evening's check-in is already the next day in UTC: their Monday and Tuesday are not
    three days, their Wednesday morning makes three."""
    await diary.enrol(SimulatedUser(diary.standin, 350, "Lou"))
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    severe = desk.rules.severe_pain.model_copy(update={"days": 3})  # as prompts/rules.yaml ships it
    desk.rules = desk.rules.model_copy(update={"severe_pain": severe})
    zone = ZoneInfo("America/Los_Angeles")
    monday = datetime(2026, 11, 16, 8, 0, tzinfo=zone)
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code="P-0001")
        assert patient is not None and patient.id is not None
        patient_id = patient.id
        patient.timezone = "America/Los_Angeles"
        session.add(patient)
        usual = [monday - timedelta(hours=12 * n) for n in range(20, 0, -1)]
        nines = [monday + timedelta(hours=12 * n) for n in range(4)]  # Mon 08:00 to Tue 20:00 in Los Angeles
        await checkins.import_entries(
            session=session,
            patient_id=patient_id,
            questionnaire="daily",
            entries=[(at.astimezone(UTC), at.date(), {"pain": "4"}) for at in usual]
            + [(at.astimezone(UTC), at.date(), {"pain": "9"}) for at in nines],
        )
    await desk.evaluate(patient_id=patient_id, now=nines[-1] + timedelta(minutes=5))
    assert [a.rule for a in await alerts(diary)] == []
    wednesday = monday + timedelta(days=2)
    async with diary.database.session() as session:
        await checkins.import_entries(
            session=session,
            patient_id=patient_id,
            questionnaire="daily",
            entries=[(wednesday.astimezone(UTC), wednesday.date(), {"pain": "9"})],
        )
    assert await desk.evaluate(patient_id=patient_id, now=wednesday + timedelta(minutes=5)) == 1
    assert [a.rule for a in await alerts(diary)] == ["severe_pain"]


async def with_moods(diary: Diary, code: str, moods: list[tuple[datetime, int]]) -> None:
    """Check-ins at these times with these moods (pain 4, skin the same)."""
    async with diary.database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        assert patient is not None and patient.id is not None
        entries = [(at, at.date(), {"pain": "4", "mood": str(mood)}) for at, mood in moods]
        await checkins.import_entries(session=session, patient_id=patient.id, questionnaire="daily", entries=entries)


def every_12_hours(start: datetime, moods: list[int]) -> list[tuple[datetime, int]]:
    return [(start + timedelta(hours=12 * n), mood) for n, mood in enumerate(moods)]


@SQLITE_ONLY
async def test_a_low_mood_held_back_after_a_resolve_does_not_hold_back_the_next_episode(diary: Diary) -> None:
    """Ben's low mood was a card, and Sam resolved it at once. Four weeks on his mood fell again, a few hours before
    the 28 quiet days after the resolve ended: held back, as it should be. A week later it fell once more, after
    those days, and no card came: the episode held back, though staff never saw it, had started the rule's own 28
    quiet days. What the quiet after a resolve held back starts no quiet of its own."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    start = diary.clock()
    await with_moods(diary, "P-0001", every_12_hours(start - timedelta(hours=12 * 43), [4] * 40 + [1, 1, 1]))
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    assert await desk.sweep(now=diary.clock()) == 1
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.press("Resolve", message=card)

    # Mood 4 again, then 1s ending 27 days 20 hours after the resolve: in its quiet, and 28 days after the first.
    await with_moods(diary, "P-0001", every_12_hours(start + timedelta(hours=4), [4] * 53 + [1, 1, 1]))
    diary.clock.advance(days=27, hours=21)
    assert await desk.sweep(now=diary.clock()) == 0, "in the 28 days after the resolve"
    # Back to 4 for a week, then 1s again: 35 days after the resolve.
    await with_moods(diary, "P-0001", every_12_hours(start + timedelta(days=28, hours=4), [4] * 11 + [1, 1, 1]))
    diary.clock.advance(days=7, hours=8)
    assert await desk.sweep(now=diary.clock()) == 1, "after the quiet, a new episode is news"
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.photo]) == 2)
    new = [m for m in staff_chat(diary) if m.photo][-1]
    assert new.caption is not None and "Mood 1 of 5 on 3 check-ins in a row" in new.caption


@SQLITE_ONLY
async def test_a_low_mood_a_snooze_held_back_comes_after_staff_resolve_the_snoozed_card(diary: Diary) -> None:
    """Ben's low mood card stayed open for weeks; Sam snoozed it on day 25. On day 28 his mood fell again, a new
    episode the snooze held back, and on day 30 Sam resolved the snoozed card, never having seen it. The 28 quiet
    days after a resolve held that episode back too, though it began before the resolve: it comes as a card."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    start = diary.clock()
    await with_moods(diary, "P-0001", every_12_hours(start - timedelta(hours=12 * 43), [4] * 40 + [1, 1, 1]))
    desk = AlertDesk.for_settings(diary.database, diary.settings)
    assert await desk.sweep(now=diary.clock()) == 1
    await diary.wait_until(lambda: any(m.photo for m in staff_chat(diary)))
    card = next(m for m in staff_chat(diary) if m.photo)
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    diary.clock.advance(days=25)
    await sam.press("Snooze 7 days", message=card)
    await with_moods(diary, "P-0001", every_12_hours(start + timedelta(hours=4), [4] * 54 + [1, 1, 1]))
    diary.clock.advance(days=4)
    await desk.sweep(now=diary.clock())
    assert [a.status for a in await alerts(diary)] == ["snoozed"], "held back by the snooze"
    diary.clock.advance(days=1)
    await sam.press("Resolve", message=diary.standin.messages[STAFF_CHAT][card.message_id])
    diary.clock.advance(hours=12)
    assert await desk.sweep(now=diary.clock()) == 1, "begun before the resolve, never seen"
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.photo]) == 2)
    assert [a.status for a in await alerts(diary)] == ["resolved", "open"]
