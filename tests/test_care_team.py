"""Every word a patient writes reaches a person, and staff can write back: the real bot over HTTP against
the stand-in (which enforces Telegram's limits), on SQLite and PostgreSQL.

Repeated crises are cards of their own that escalate; a staff reply reaches the patient; voice notes,
edits and 5,000-character messages reach staff whole; typing during a check-in answers it or becomes
its note (words typed while a scheduled one waits untouched reach staff), and a voice message or photo at
the note question answers that; the crisis text follows the patient's country.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlmodel import delete, select

from bot.alerts import escalation
from bot.alerts.desk import AlertDesk
from bot.care_team.text_limits import TEXT_LIMIT, split, units
from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage
from storage import audit, staff
from storage.models import Alert, OutboxMessage, PatientMessage, StaffChatMessage
from tests.harness import SQLITE_ONLY, Diary
from tests.test_alerts import (
    NO_ADVICE,
    STAFF_CHAT,
    a_card,
    register_staff,
    staff_chat,
    up_to_the_note,
    with_history,
)
from tests.test_patient_schedule import scheduled_checkin

BERLIN_CRISIS_LINE = "TelefonSeelsorge"


async def alerts(diary: Diary) -> list[Alert]:
    async with diary.database.session() as session:
        return list((await session.exec(select(Alert).order_by(Alert.id))).all())


async def stored_messages(diary: Diary) -> list[PatientMessage]:
    async with diary.database.session() as session:
        return list((await session.exec(select(PatientMessage).order_by(PatientMessage.id))).all())


def cards(diary: Diary) -> list[ChatMessage]:
    return [m for m in staff_chat(diary) if m.photo]


async def all_sent(diary: Diary) -> None:
    """Until nothing is owed any more (there may be nothing at all)."""
    for _ in range(600):
        async with diary.database.session() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
        if all(r.status in ("sent", "skipped") for r in rows):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("messages still owed")


async def crisis(diary: Diary, user: SimulatedUser, text: str) -> ChatMessage:
    """The patient writes it; returns the new urgent card."""
    before = len(cards(diary))
    reply = await user.send(text)
    assert reply is not None and reply.text is not None and BERLIN_CRISIS_LINE in reply.text
    await diary.wait_until(lambda: len(cards(diary)) > before)
    card = cards(diary)[-1]
    assert card.caption is not None and card.caption.startswith("🔴 URGENT")
    return card


async def an_acknowledged_crisis(diary: Diary) -> SimulatedUser:
    """Ben, enrolled, wrote "I want to overdose"; Sam, staff, acknowledged its card."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    first = await crisis(diary, ben, "I want to overdose")
    await sam.press("Acknowledge", message=first)
    return ben


@SQLITE_ONLY
async def test_a_repeated_crisis_after_acknowledge_is_a_new_card_with_its_own_escalation(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin in the test settings
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    first = await crisis(diary, ben, "honestly i dont want to live anymore")
    labels = [label for label, _ in first.buttons]
    assert "Snooze 7 days" not in labels and {"Acknowledge", "Resolve", "Reply", "History"} <= set(labels)
    await sam.press("Acknowledge", message=first)
    await diary.wait_until(lambda: ben.last.text == "Your care team has seen your message.")

    second = await crisis(diary, ben, "quiero morirme")
    assert second.message_id != first.message_id and "quiero morirme" in (second.caption or "")
    first_now = diary.standin.messages[STAFF_CHAT][first.message_id]
    assert first_now.caption is not None and "quiero morirme" not in first_now.caption
    assert "Acknowledged by Sam" in first_now.caption and "Acknowledged" not in (second.caption or "")
    first_alert, second_alert = await alerts(diary)
    assert (first_alert.status, second_alert.status) == ("acknowledged", "open")

    desk = AlertDesk.for_settings(diary.database, diary.settings)
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(desk, now=diary.clock()) == 1, "the new crisis escalates on its own clock"
    await ada.wait_for(lambda: bool(ada.messages))
    assert "quiero morirme" in (ada.last.text or "") and "anymore" not in (ada.last.text or "")


@SQLITE_ONLY
@pytest.mark.parametrize("minutes", [5, 0], ids=["later", "same-second"])
async def test_acknowledging_a_crisis_tells_the_patient_nothing_while_a_later_one_waits_unacknowledged(
    diary: Diary, minutes: int
) -> None:
    """Ben writes "I want to die", then, five minutes on, that he has the pills in his hand. Sam acknowledges the
    first card: "Your care team has seen your message" came right after the second, which nobody had seen, and
    reads as its answer. It waits until the newer crisis is acknowledged too; also when Telegram dated the two
    within one second (its dates have no finer grain: a long text it split, or a quick second message)."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    first = await crisis(diary, ben, "I want to die")
    diary.clock.advance(minutes=minutes)
    second = await crisis(diary, ben, "I have the pills in my hand now, I am going to take them all")
    await sam.press("Acknowledge", message=first)
    await all_sent(diary)
    assert ben.last.text != "Your care team has seen your message."
    assert [m.seen_by for m in await stored_messages(diary)] == [800, None], "seen all the same, for staff"

    await sam.press("Acknowledge", message=second)
    await diary.wait_until(lambda: ben.last.text == "Your care team has seen your message.")


@SQLITE_ONLY
async def test_words_that_follow_up_an_acknowledged_crisis_are_a_crisis_card_of_their_own(diary: Diary) -> None:
    """ "Already took them" or "esta noche" says nothing alone; after "I want to overdose" it is the news."""
    ben = await an_acknowledged_crisis(diary)
    await diary.wait_until(lambda: ben.last.text == "Your care team has seen your message.")

    diary.clock.advance(minutes=10)
    followed = await crisis(diary, ben, "already took them")
    assert "I want to overdose" in (followed.caption or "") and "already took them" in (followed.caption or "")
    assert [a.status for a in await alerts(diary)] == ["acknowledged", "open"]

    reply = await ben.send("ok thanks")  # ordinary, however soon
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    diary.clock.advance(minutes=5)
    await crisis(diary, ben, "esta noche")
    diary.clock.advance(minutes=31)
    reply = await ben.send("tonight")  # half an hour on, a word of no crisis alone
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"] * 3


@SQLITE_ONLY
async def test_a_crisis_while_a_pain_alert_is_snoozed_is_its_own_card_and_escalates(diary: Diary) -> None:
    pain_card = await a_card(diary)
    ben = diary.standin.users[301]
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.press("Snooze 7 days", message=pain_card)
    card = await crisis(diary, ben, "I am going to kill myself tonight")
    assert "kill myself tonight" in (card.caption or "")
    pain, urgent = await alerts(diary)
    assert (pain.rule, pain.status, urgent.rule, urgent.status) == ("severe_pain", "snoozed", "crisis_text", "open")
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock()) == 1
    forged = await sam.press(data=f"al:z:{urgent.id}", message=card)
    assert forged.answer == "This alert is already closed.", "a crisis card cannot be snoozed, even by forged data"
    assert (await alerts(diary))[1].status == "open"


def a_poll(poll_id: str, question: str, answers: list[str]) -> dict[str, object]:
    """A patient's regular poll, as Telegram sends it."""
    return {
        "id": poll_id,
        "question": question,
        "options": [
            {"text": text, "voter_count": 0, "persistent_id": str(number)} for number, text in enumerate(answers, 1)
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": False,
        "members_only": False,
    }


async def a_question_in_the_staff_chat(diary: Diary) -> tuple[SimulatedUser, SimulatedUser, ChatMessage]:
    """Ben, enrolled, asked a question; Sam, staff, sees it forwarded (with Reply and Seen)."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    await ben.send("Can I take another ibuprofen tonight?")
    await diary.wait_until(lambda: any(m.buttons for m in staff_chat(diary)))
    forwarded = next(m for m in staff_chat(diary) if m.buttons)
    return ben, sam, forwarded


async def test_a_staff_reply_reaches_the_patient_and_seen_tells_them(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    reply = await ben.send("Can I take another ibuprofen tonight?")
    assert reply is not None and (reply.text or "").startswith("I can't give medical advice")
    assert [label for label, _ in reply.buttons] == ["Please contact me"]
    await diary.wait_until(lambda: any(m.buttons for m in staff_chat(diary)))
    forwarded = next(m for m in staff_chat(diary) if m.buttons)
    assert forwarded.text == "Message from P-0001:\nCan I take another ibuprofen tonight?"
    assert [label for label, _ in forwarded.buttons] == ["Reply", "Seen"]

    press = await sam.press("Reply", message=forwarded)
    assert press.answer == "Write your reply in the chat."
    prompt = staff_chat(diary)[-1]
    assert prompt.text is not None and "reply to P-0001" in prompt.text
    assert (prompt.reply_markup or {}).get("force_reply") is True
    answer = await sam.send(
        "Yes, one more is fine tonight. We will call tomorrow.", chat_id=STAFF_CHAT, reply_to=prompt
    )
    assert answer is not None and answer.text == "Your reply is on its way to P-0001."
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Your care team:"))
    assert ben.last.text == "Your care team: Yes, one more is fine tonight. We will call tomorrow."
    assert "Sam" not in (ben.last.text or ""), "staff names only if the clinic turns that on"

    # A Telegram reply to the forwarded message itself works too; a second plain message goes nowhere.
    await sam.send("And drink water.", chat_id=STAFF_CHAT, reply_to=forwarded)
    await ben.wait_for(lambda: ben.last.text == "Your care team: And drink water.")
    await sam.send("just chatting with colleagues", chat_id=STAFF_CHAT, wait=False)

    press = await sam.press("Seen", message=forwarded)
    assert press.answer == "Marked as seen."
    await ben.wait_for(lambda: ben.last.text == "Your care team has seen your message.")
    forwarded = diary.standin.messages[STAFF_CHAT][forwarded.message_id]
    assert [label for label, _ in forwarded.buttons] == ["Reply", "✓ Seen · Sam"]
    await all_sent(diary)
    assert not any("chatting" in (m.text or "") for m in diary.standin.chat(ben.id))
    async with diary.database.session() as session:
        events = await audit.since(session=session)
    assert [
        (e.actor_id, e.action, e.patient_code) for e in events if e.action in ("reply_to_patient", "message_seen")
    ] == [
        (800, "reply_to_patient", "P-0001"),
        (800, "reply_to_patient", "P-0001"),
        (800, "message_seen", "P-0001"),
    ]


async def admin_pressed_reply_on_an_escalation(diary: Diary) -> tuple[SimulatedUser, SimulatedUser]:
    """Ben's crisis escalated to Ada, an admin, in her direct chat, and Ada has pressed Reply on it."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    ada = SimulatedUser(diary.standin, 900, "Ada")
    await diary.enrol(ben)
    await crisis(diary, ben, "i wish i was dead")
    diary.clock.advance(minutes=16)
    await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
    await ada.wait_for(lambda: bool(ada.messages))
    await ada.press("Reply", message=ada.last)
    return ben, ada


async def test_after_reply_the_next_message_in_a_direct_chat_goes_to_the_patient(diary: Diary) -> None:
    ben, ada = await admin_pressed_reply_on_an_escalation(diary)
    await ada.send("We are calling you now.")
    await ben.wait_for(lambda: ben.last.text == "Your care team: We are calling you now.")
    reply = await ada.send("a note to myself")
    assert reply is not None and "Clinic staff commands" in (reply.text or ""), "the reply window is used up"


def reply_to(patient: SimulatedUser, *, since: int = 0) -> str:
    """What the care team wrote the patient, put together again from the parts it reached them in."""
    parts = [m.text or "" for m in patient.messages[since:] if (m.text or "").startswith("Your care team")]
    return "".join(re.sub(r"^Your care team( \(\d+/\d+\))?: ", "", part) for part in parts)


async def test_the_rest_of_a_long_staff_reply_sent_in_parts_reaches_the_patient(diary: Diary) -> None:
    """A reply of 5,000 characters (a nurse pastes the leaflet's words): Telegram's app sends it as two messages a
    moment apart, and only the first answers anything. The first went to the patient and used up the Reply pressed;
    the second went to no one (in a direct chat its writer got the staff help), and the patient had half of what
    staff wrote. Right after a part as long as a message may be, the rest goes where it went; a message typed
    seconds later does not. In a group where privacy mode shows the bot only replies to its messages (it is none of
    the group's admins), the rest never reaches the bot: the writer is told to send it as a reply to the confirmation,
    and it goes on from there."""
    ben, ada = await admin_pressed_reply_on_an_escalation(diary)
    leaflet = "Take one tablet with food, and no more than four in a day. " * 85 + "Call us if it gets worse."
    first, second = split(leaflet, TEXT_LIMIT)
    assert units(first) > 4000 and "Call us if it gets worse." in second
    handled = len(await diary.inbox_processed())
    ada.say(first)
    ada.say(second)
    await diary.inbox_processed(at_least=handled + 2)
    await all_sent(diary)
    assert reply_to(ben) == leaflet, "the rest of the reply reaches the patient"
    assert not any("Clinic staff commands" in (m.text or "") for m in ada.messages)
    assert [m.text for m in ada.messages].count("Your reply is on its way to P-0001.") == 2, "one for each part"
    diary.clock.advance(seconds=3)
    reply = await ada.send("a note to myself")
    assert reply is not None and "Clinic staff commands" in (reply.text or ""), "seconds later: not the reply's rest"

    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.press("Reply", message=cards(diary)[-1])
    before = len(ben.messages)
    said = await sam.send(first, chat_id=STAFF_CHAT, reply_to=staff_chat(diary)[-1])
    assert said is not None and said.text == (
        "Your reply is on its way to P-0001. If Telegram sent it in parts, this group shows the bot only the first: "
        "reply to this message with the rest."
    )
    said = await sam.send(second, chat_id=STAFF_CHAT, reply_to=said)
    assert said is not None and said.text == "Your reply is on its way to P-0001."
    await all_sent(diary)
    assert reply_to(ben, since=before) == leaflet

    # The bot made one of the group's admins is given every message: the rest comes on its own, and is not asked for
    # (sent again as asked, it would reach the patient twice).
    diary.standin.set_bot_status(STAFF_CHAT, "administrator")
    await sam.press("Reply", message=cards(diary)[-1])
    before, shown = len(ben.messages), len(staff_chat(diary))
    handled = len(await diary.inbox_processed())
    sam.say(first, chat_id=STAFF_CHAT, reply_to=staff_chat(diary)[-1])
    sam.say(second, chat_id=STAFF_CHAT)
    await diary.inbox_processed(at_least=handled + 2)
    await all_sent(diary)
    assert reply_to(ben, since=before) == leaflet
    said = [m.text for m in staff_chat(diary)[shown:] if (m.text or "").startswith("Your reply")]
    assert said == ["Your reply is on its way to P-0001."] * 2


def formatted(text: str, kind: str, words: str, **extra: object) -> dict[str, object]:
    """An entity of `kind` (bold, strikethrough...) over `words` in `text`, in UTF-16 units as Telegram places it."""
    return {"type": kind, "offset": units(text[: text.index(words)]), "length": units(words), **extra}


def marked(message: ChatMessage, kind: str) -> list[str]:
    """The words of a message its entities of `kind` cover (read in UTF-16 units, as Telegram places them)."""
    encoded = (message.text or "").encode("utf-16-le", "surrogatepass")
    return [
        encoded[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le", "surrogatepass")
        for e in message.entities or []
        if e["type"] == kind
    ]


async def test_the_patients_words_a_staff_reply_quotes_reach_the_patient_above_it(diary: Diary) -> None:
    """Ben asked two things in one message; Sam quoted one ("Can I take another ibuprofen tonight?") and answered
    "Yes, one more.": Telegram showed Sam the quote above the answer, and Ben got a bare "Yes, one more.", not saying
    which question it answered. The patient's own words quoted reach them above the reply, as a quote; words they
    never wrote (a card's reading of their scores) do not, and the reply still goes."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    question = "Can I take another ibuprofen tonight?"
    diary.standin.user_message(sam.json, "Yes, one more.", STAFF_CHAT, reply_to=forwarded, quote=question)
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Your care team:"))
    got = ben.last
    assert got.text == f"Your care team: {question}\nYes, one more.", got.text
    assert marked(got, "blockquote") == [question], got.entities

    diary.standin.user_message(sam.json, "We will call.", STAFF_CHAT, reply_to=forwarded, quote="Pain 9 on 4 check-ins")
    await ben.wait_for(lambda: "We will call." in (ben.last.text or ""))
    assert ben.last.text == "Your care team: We will call." and not ben.last.entities, ben.last


async def relinked(diary: Diary, user_id: int, name: str) -> SimulatedUser:
    """The account a re-link moved the patient's record to (their new phone, or the wrong hands)."""
    token = await diary.invite(relink=True)
    new = SimulatedUser(diary.standin, user_id, name)
    screen = await new.send(f"/start {token}")
    await new.press(data=f"cs:y:{token}", message=screen)
    return new


async def test_a_staff_reply_quoting_words_from_before_a_relink_leaves_them_out_while_the_hold_lasts(
    diary: Diary,
) -> None:
    """Ben asked about ibuprofen; then a re-link moved his diary to another account (a new phone, or the wrong hands:
    for 72 hours it is shown nothing from before the move). Sam answered the old question, quoting it: the quote went
    above the reply to the new account, words from before the move. While the hold lasts the quote is left out and
    the reply goes; words written on the new account are quoted as ever."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    question = "Can I take another ibuprofen tonight?"
    diary.clock.advance(minutes=30)
    new = await relinked(diary, 311, "Ben")
    diary.clock.advance(minutes=5)
    diary.standin.user_message(sam.json, "Yes, one more.", STAFF_CHAT, reply_to=forwarded, quote=question)
    await new.wait_for(lambda: (new.last.text or "").startswith("Your care team:"))
    assert new.last.text == "Your care team: Yes, one more." and not new.last.entities, new.last

    await new.send("Is a warm bath all right?")
    await diary.wait_until(lambda: any("warm bath" in (m.text or "") and m.buttons for m in staff_chat(diary)))
    latest = next(m for m in reversed(staff_chat(diary)) if "warm bath" in (m.text or ""))
    diary.standin.user_message(sam.json, "Yes.", STAFF_CHAT, reply_to=latest, quote="Is a warm bath all right?")
    await new.wait_for(lambda: (new.last.text or "").endswith("Yes."))
    assert new.last.text == "Your care team: Is a warm bath all right?\nYes.", new.last.text

    diary.clock.advance(hours=73)
    diary.standin.user_message(sam.json, "One more, yes.", STAFF_CHAT, reply_to=forwarded, quote=question)
    await new.wait_for(lambda: (new.last.text or "").endswith("One more, yes."))
    assert new.last.text == f"Your care team: {question}\nOne more, yes.", "the hold over, the quote goes"
    assert not any((m.text or "").startswith("Your care team") for m in ben.messages), "the old account gets none"


async def test_seen_on_words_from_before_a_relink_is_not_told_to_the_new_account(diary: Diary) -> None:
    """Ben asked about ibuprofen; then a re-link moved his diary to another account. Sam pressed Seen on the old
    question, and the new account, which never wrote it (perhaps in the wrong hands), was told "Your care team has
    seen your message": that a message existed, read as the answer to whatever it wrote since. It is marked seen and
    nobody is told; Seen on words the new account wrote tells it as ever."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    diary.clock.advance(minutes=30)
    new = await relinked(diary, 311, "Ben")
    diary.clock.advance(minutes=5)
    await sam.press("Seen", message=forwarded)
    await new.send("Is a warm bath all right?")
    await diary.wait_until(lambda: any("warm bath" in (m.text or "") and m.buttons for m in staff_chat(diary)))
    latest = next(m for m in reversed(staff_chat(diary)) if "warm bath" in (m.text or ""))
    await sam.press("Seen", message=latest)
    await new.wait_for(lambda: any(m.text == "Your care team has seen your message." for m in new.messages))
    await all_sent(diary)
    told = [m for m in new.messages + ben.messages if m.text == "Your care team has seen your message."]
    assert len(told) == 1 and told[0].chat_id == new.id, "once, for the words the new account wrote"


async def test_a_staff_replys_formatting_reaches_the_patient_also_in_parts(diary: Diary) -> None:
    """ "Take ~~two~~ one tablet": the strikethrough is what the reply says. Its formatting was dropped on the way, and
    the patient read "Take two one tablet". Each part of a long reply carries its own share of the formatting, placed
    in UTF-16 units after "Your care team: " (an emoji before it counts twice); a colleague named with a
    text_mention is not made a link to their profile."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    words = "Take two one tablet 💊 tonight, see our leaflet, Ada says, and Kim."
    entities = [
        formatted(words, "strikethrough", "two"),
        formatted(words, "bold", "tonight"),
        formatted(words, "text_link", "leaflet", url="https://clinic.example/leaflet"),
        formatted(words, "text_mention", "Ada", user={"id": 900, "is_bot": False, "first_name": "Ada"}),
        formatted(words, "text_link", "Kim", url="tg://user?id=901"),  # a profile's link, typed as an address
    ]
    diary.standin.user_message(sam.json, words, STAFF_CHAT, reply_to=forwarded, entities=entities)
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Your care team: Take"))
    got = ben.last
    assert marked(got, "strikethrough") == ["two"], got.entities
    assert marked(got, "bold") == ["tonight"], got.entities
    assert marked(got, "text_link") == ["leaflet"] and not marked(got, "text_mention"), got.entities
    assert "tg://" not in (got.text or ""), got.text

    # As long as one message may be: with "Your care team (1/2): " above it, it goes in two. The bold sentence that
    # spans the cut is bold in both parts, and the word struck out after the cut is struck out in the second.
    before = len(ben.messages)
    long = "🌙 Rest the hand tonight. " * 155 + "Do not take any more ibuprofen today, take two one tablet."
    assert TEXT_LIMIT - 10 < units(long) <= TEXT_LIMIT
    cut = units(split(long, TEXT_LIMIT - units("Your care team (1/2): "))[0])
    sentence_words = "Do not take any more ibuprofen today, take two one tablet."
    sentence = formatted(long, "bold", sentence_words)
    struck = formatted(long, "strikethrough", "two")
    assert sentence["offset"] < cut <= struck["offset"], "the bold sentence spans the cut, the struck word after it"
    handled = len(await diary.inbox_processed())
    diary.standin.user_message(sam.json, long, STAFF_CHAT, reply_to=forwarded, entities=[sentence, struck])
    await diary.inbox_processed(at_least=handled + 1)
    await all_sent(diary)
    parts = [m for m in ben.messages[before:] if (m.text or "").startswith("Your care team")]
    assert len(parts) == 2 and reply_to(ben, since=before) == long
    assert "".join(marked(parts[0], "bold") + marked(parts[1], "bold")) == sentence_words
    assert marked(parts[1], "strikethrough") == ["two"]
    for part in parts:
        assert all(e["offset"] + e["length"] <= units(part.text or "") for e in part.entities or [])


async def test_a_voice_note_and_an_edited_message_reach_staff(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    answered = ben.expect_reply()
    voice = ben.send_voice(duration=7)
    assert ((await answered).text or "").startswith("Thank you, your care team will see what you sent")
    await diary.wait_until(lambda: any(m.kind == "voice" for m in staff_chat(diary)))
    header, copy = staff_chat(diary)[-2:]
    assert header.text == "P-0001 sent a voice message:"
    assert copy.kind == "voice" and copy.media == voice.media and [b for b, _ in copy.buttons] == ["Reply", "Seen"]

    message = ben.say("My hand is red and hot since tuesday")
    await diary.wait_until(lambda: any("since tuesday" in (m.text or "") for m in staff_chat(diary)))
    await ben.wait_for(lambda: (ben.last.text or "").startswith("I can't give medical advice"))
    reply = await ben.edit(message, "My hand is red and hot since monday")
    assert reply is not None and reply.text == "Your change was passed on to your care team."
    await diary.wait_until(lambda: any("since monday" in (m.text or "") for m in staff_chat(diary)))
    assert staff_chat(diary)[-1].text == "P-0001 edited a message:\nMy hand is red and hot since monday"
    kinds = [(m.kind, m.text) for m in await stored_messages(diary)]
    assert ("voice", "") in kinds and ("edit", "My hand is red and hot since monday") in kinds
    assert ("text", "My hand is red and hot since tuesday") in kinds, "both versions are kept"


@SQLITE_ONLY
async def test_an_invite_link_a_patient_pastes_reaches_staff_without_its_token(diary: Diary) -> None:
    """A patient who pastes a link into the chat (their re-link, sent from the old phone to ask what it
    is) must not hand it to everyone in the staff chat: whoever opened it could take their record."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    token = await diary.invite("P-0001", relink=True)
    ben.say(f"The nurse sent me this, what is it? https://t.me/diary_bot?start={token} thanks")
    await diary.wait_until(lambda: any("what is it?" in (m.text or "") for m in staff_chat(diary)))
    shown = next(m.text or "" for m in staff_chat(diary) if "what is it?" in (m.text or ""))
    assert "https://t.me/diary_bot?start=… thanks" in shown and token not in shown
    ben.say(f"or did she mean me to type {token}?")  # the token alone, copied out of the link
    await diary.wait_until(lambda: any("did she mean" in (m.text or "") for m in staff_chat(diary)))
    shown = next(m.text or "" for m in staff_chat(diary) if "did she mean" in (m.text or ""))
    assert shown.endswith("or did she mean me to type …?")
    assert all(token not in m.text for m in await stored_messages(diary))


@SQLITE_ONLY
async def test_an_invite_link_in_a_caption_reaches_staff_without_its_token(diary: Diary) -> None:
    """A copy keeps the original caption unless the bot gives it another: a photo (and its edited caption)
    with a re-link link on it must reach the staff chat with the token blanked, as typed words do."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    token = await diary.invite("P-0001", relink=True)
    photo = ben.send_photo(f"what is this? https://t.me/diary_bot?start={token}")
    await diary.wait_until(lambda: any(m.kind == "photo" for m in staff_chat(diary)))
    (copy,) = [m for m in staff_chat(diary) if m.kind == "photo"]
    assert copy.caption == "what is this? https://t.me/diary_bot?start=…"
    assert [label for label, _ in copy.buttons] == ["Reply", "Seen"]
    again = await diary.invite("P-0001", relink=True)
    await ben.edit_caption(photo, f"this one: https://t.me/diary_bot?start={again}")
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.kind == "photo"]) == 2)
    edited = [m for m in staff_chat(diary) if m.kind == "photo"][-1]
    assert edited.caption == "this one: https://t.me/diary_bot?start=…"
    shown = " ".join(f"{m.text or ''} {m.caption or ''}" for m in staff_chat(diary))
    assert token not in shown and again not in shown


@SQLITE_ONLY
async def test_an_invite_link_wrapped_in_another_link_reaches_staff_without_its_token(diary: Diary) -> None:
    """A clinic that emails the link may have it wrapped by the mail service's link checker, which escapes
    its "?" and "=" ("%3Fstart%3D"): pasted into the chat, the token must be blanked there too."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    token = await diary.invite("P-0001", relink=True)
    wrapped = (
        "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Ft.me%2Fdiary_bot%3Fstart%3D"
        f"{token}&data=05%7C02"
    )
    again = await diary.invite("P-0001", relink=True)
    twice = f"https://www.google.com/url?q=https://t.me/diary_bot%253Fstart%253D{again}&sa=D"
    ben.say(f"The email link goes here {wrapped} and this one {twice} is it right?")
    await diary.wait_until(lambda: any("is it right?" in (m.text or "") for m in staff_chat(diary)))
    shown = next(m.text or "" for m in staff_chat(diary) if "is it right?" in (m.text or ""))
    assert "%2Fdiary_bot%3Fstart%3D…&data=05%7C02" in shown and "diary_bot%253Fstart%253D…&sa=D" in shown
    assert token not in shown and again not in shown
    assert all(token not in m.text and again not in m.text for m in await stored_messages(diary))


def link(text: str, words: str, url: str) -> dict[str, object]:
    """A text_link entity over `words` in `text`, as formatted text carries it (offsets in UTF-16 units)."""
    return {"type": "text_link", "offset": units(text[: text.index(words)]), "length": units(words), "url": url}


def everything_shown(diary: Diary) -> str:
    """All the staff chat holds: texts, captions, entities' addresses and the items copied there."""
    return " ".join(f"{m.text} {m.caption} {m.entities} {m.media}" for m in staff_chat(diary))


@SQLITE_ONLY
async def test_an_invite_link_behind_formatted_words_reaches_staff_without_its_token(diary: Diary) -> None:
    """Formatted text hides a link's address behind its words ("click here"): a copy keeps it, so a photo
    whose caption hides a re-link link handed its token to the staff chat, and typed words lost the address
    altogether. Staff see the words with the address after them, the token blanked."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    token = await diary.invite("P-0001", relink=True)
    url = f"https://t.me/diary_bot?start={token}"
    text = "The nurse said click here to move my diary, is that right?"
    diary.standin.user_message(ben.json, text, entities=[link(text, "click here", url)])
    await diary.wait_until(lambda: any("move my diary" in (m.text or "") for m in staff_chat(diary)))
    shown = next(m.text or "" for m in staff_chat(diary) if "move my diary" in (m.text or ""))
    assert "click here (https://t.me/diary_bot?start=…) to move my diary" in shown

    caption = "what is this link?"
    photo = diary.standin.user_media(
        ben.json, "photo", diary.standin.new_file("photo", 1000), caption=caption, entities=[link(caption, "link", url)]
    )
    await diary.wait_until(lambda: any(m.kind == "photo" for m in staff_chat(diary)))
    (copy,) = [m for m in staff_chat(diary) if m.kind == "photo"]
    assert copy.caption == "what is this link (https://t.me/diary_bot?start=…)?"
    # An edit that hides another link behind the caption's words.
    again = await diary.invite("P-0001", relink=True)
    caption = "and this one?"
    reply = ben.expect_reply()
    diary.standin.edit_user_message(
        photo, caption=caption, entities=[link(caption, "this one", f"https://t.me/diary_bot?start={again}")]
    )
    await reply
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.kind == "photo"]) == 2)
    assert [m for m in staff_chat(diary) if m.kind == "photo"][-1].caption == (
        "and this one (https://t.me/diary_bot?start=…)?"
    )
    # A link to anything else is copied as sent, its address behind its words.
    caption = "my leaflet"
    leaflet = "https://crps.example.org/leaflet"
    diary.standin.user_media(
        ben.json,
        "photo",
        diary.standin.new_file("photo", 1000),
        caption=caption,
        entities=[link(caption, "leaflet", leaflet)],
    )
    await diary.wait_until(lambda: len([m for m in staff_chat(diary) if m.kind == "photo"]) == 3)
    third = [m for m in staff_chat(diary) if m.kind == "photo"][-1]
    assert third.caption == "my leaflet" and leaflet in str(third.entities)
    await all_sent(diary)
    assert token not in everything_shown(diary) and again not in everything_shown(diary)
    assert all(token not in m.text and again not in m.text for m in await stored_messages(diary))


@SQLITE_ONLY
async def test_an_invite_link_in_a_poll_a_place_or_a_contact_reaches_staff_without_its_token(diary: Diary) -> None:
    """A poll, a checklist, a place or a contact is copied to the staff chat as it is, with no caption to
    replace: one that holds an invite link reaches staff as its words instead, the token blanked."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    token = await diary.invite("P-0001", relink=True)
    url = f"https://t.me/diary_bot?start={token}"
    poll = a_poll("5002", f"Which link do I open, {url} or the old one?", ["the new one", url])
    tasks = [{"id": 1, "text": f"open {url}"}]
    place = {"latitude": 52.52, "longitude": 13.4}
    venue = {"location": place, "title": f"Clinic {url}", "address": "Charitéplatz 1"}
    apple = url.replace(":", "\\:")  # a card from an iPhone escapes the address's colon
    vcard = f"BEGIN:VCARD\nVERSION:3.0\nitem1.URL;type=pref:{apple}\nEND:VCARD"
    contact = {"phone_number": "+49301234", "first_name": "Clinic", "vcard": vcard}
    # Any field may hold it: a social profile, a custom field with the token alone.
    other = f"BEGIN:VCARD\nVERSION:3.0\nX-SOCIALPROFILE;type=telegram:{apple}\nitem2.X-CODE:{token}\nEND:VCARD"
    elsewhere = {"phone_number": "+49301234", "first_name": "Clinic", "vcard": other}
    sent = [
        ("poll", {"poll": poll}, "a poll"),
        ("checklist", {"checklist": {"title": "to do", "tasks": tasks}}, "a checklist"),
        ("venue", {"venue": venue, "location": place}, "a place"),
        ("contact", {"contact": contact}, "a contact"),
        ("contact", {"contact": elsewhere}, "a contact"),
    ]
    for number, (kind, media, what) in enumerate(sent, 1):
        reply = ben.expect_reply()
        diary.standin.user_media(ben.json, kind, media)
        assert ((await reply).text or "").startswith("Thank you, your care team will see what you sent.")
        await diary.wait_until(
            lambda: sum("held an invite link" in (m.text or "") for m in staff_chat(diary)) == number  # noqa: B023
        )
        shown = [m for m in staff_chat(diary) if "held an invite link" in (m.text or "")][-1]
        assert shown.text is not None and shown.text.startswith(f"P-0001 sent {what}"), shown.text
        assert "https://t.me/diary_bot?start=…" in shown.text
        assert [label for label, _ in shown.buttons] == ["Reply", "Seen"]
    await all_sent(diary)
    assert not [m for m in staff_chat(diary) if m.copied_from is not None]
    assert token not in everything_shown(diary)
    assert "Which link do I open" in everything_shown(diary) and "Charitéplatz 1" in everything_shown(diary)

    # Without a link, each is copied as before.
    diary.standin.user_media(ben.json, "venue", {"venue": {**venue, "title": "Clinic"}, "location": place})
    await diary.wait_until(lambda: any(m.copied_from is not None for m in staff_chat(diary)))


@SQLITE_ONLY
async def test_a_5000_character_message_reaches_staff_whole(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    text = ("Night was bad 😣 and the hand burned. " * 140)[:5000]
    assert units(text) > 5000
    await ben.send(text)
    await all_sent(diary)
    parts = [m.text or "" for m in staff_chat(diary) if (m.text or "").startswith("Message from P-0001")]
    assert len(parts) == 2 and parts[0].startswith("Message from P-0001 (1/2):\n")
    assert "".join(part.split(":\n", 1)[1] for part in parts) == text
    assert all(units(part) <= 4096 for part in parts)
    async with diary.database.session() as session:
        failed = (await session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed"))).all()
    assert not failed


@SQLITE_ONLY
async def test_a_long_message_with_crisis_words_in_the_middle_shows_them_on_the_card_and_to_the_admin(
    diary: Diary,
) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin
    await diary.enrol(ben)
    filler = "Pain 7 in the left hand, swelling about the same, the skin is shiny and cold. " * 30
    text = f"{filler}Honestly I’ve decided to end my life this weekend. {filler}"
    card = await crisis(diary, ben, text)
    assert card.caption is not None and "I’ve decided to end my life this weekend." in card.caption
    assert "…" in card.caption and units(card.caption) <= 1024
    await all_sent(diary)
    whole = [m.text or "" for m in staff_chat(diary) if (m.text or "").startswith("Urgent: the whole message")]
    assert "".join(part.split(":\n", 1)[1] for part in whole) == text, "and the whole message after the card"
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock()) == 1
    await ada.wait_for(lambda: bool(ada.messages))
    assert "decided to end my life this weekend" in (ada.last.text or ""), "the admin sees why it is urgent"


@SQLITE_ONLY
async def test_seen_pressed_on_a_long_crisis_messages_whole_words_acknowledges_its_card(diary: Diary) -> None:
    """Ben's long message ended in words of dying: its card showed the passage, and the whole message came under
    it, with Seen. Sam read it there and pressed Seen; Ben was told his care team had seen it, yet the card stayed
    open, and the admins went on being told nobody had acknowledged it. Seen on a crisis message's words is its
    card acknowledged: the card says by whom, and its escalation stops."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    card = await crisis(diary, ben, "The pain has been bad all week and I barely sleep. " * 14 + "I want to die.")
    await all_sent(diary)
    whole = next(m for m in staff_chat(diary) if (m.text or "").startswith("Urgent: the whole message"))
    await sam.press("Seen", message=whole)
    await diary.wait_until(lambda: ben.last.text == "Your care team has seen your message.")
    (alert,) = await alerts(diary)
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", sam.id)
    await diary.wait_until(
        lambda: "Acknowledged by Sam" in (diary.standin.messages[STAFF_CHAT][card.message_id].caption or "")
    )
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock()) == 0
    async with diary.database.session() as session:
        events = [e.action for e in await audit.since(session=session)]
    assert "alert_acknowledge" in events and "message_seen" in events


@SQLITE_ONLY
async def test_a_long_note_is_saved_whole_shown_shortened_and_on_the_card(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
    await up_to_the_note(ben, "9")
    note = "Hand burning since the night. " + "It will not stop. " * 230
    assert 4000 < len(note) < 4400
    await ben.send(note)
    await ben.wait_for(lambda: ben.last.text == "Thank you, your note is saved.")
    summary = ben.last_with_buttons()
    assert summary.text is not None and summary.text.endswith("…") and units(summary.text) <= 4096
    answers = {a.item: a.value for a in await diary.answers()}
    assert answers["note"] == note, "stored whole"
    await diary.wait_until(lambda: bool(cards(diary)))
    card = cards(diary)[0]
    assert card.caption is not None and "Note, 21.11.2026 09:00: Hand burning since the night." in card.caption
    assert units(card.caption) <= 1024
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.send("/patient P-0001")
    await sam.wait_for(lambda: any(m.photo for m in sam.messages))
    days = "".join(m.text or "" for m in sam.messages if m.text)
    assert note.strip() in days, "/patient shows the note whole"


@SQLITE_ONLY
async def test_a_note_longer_than_one_message_is_the_checkins_note_whole(diary: Diary) -> None:
    """A note of 5,000 characters typed at the note question: Telegram's app sends it as two messages, the first as
    long as a message may be, the second a moment later. The first answered the note question and finished the
    check-in; the second went to staff as a message of its own, half a sentence without the rest, and the note, on
    the card and in the diary, stopped in the middle. Both parts are the note; a message after them is a message."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
    await up_to_the_note(ben, "9")
    note = "Hand burning since the night 🔥 and the fingers are stiff. " * 85
    first, second = split(note, TEXT_LIMIT)
    assert units(first) > 4000 and 900 < units(second) < 1100
    handled = len(await diary.inbox_processed())
    ben.say(first)
    ben.say(second)
    await diary.inbox_processed(at_least=handled + 2)
    await all_sent(diary)
    answers = {a.item: a.value for a in await diary.answers()}
    assert answers["note"] == f"{first}\n{second}"
    assert [m.filed_as for m in await stored_messages(diary)] == ["note", "note"]
    assert not [m for m in staff_chat(diary) if "Message from" in (m.text or "")], "no half note as a message for staff"
    assert not [m for m in ben.messages if (m.text or "").startswith(NO_ADVICE)]
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "Hand burning since the night" in (cards(diary)[0].caption or "")

    diary.clock.advance(seconds=30)
    reply = await ben.send("Can I take another ibuprofen tonight?")
    assert reply is not None and (reply.text or "").startswith(NO_ADVICE), "typed after it: a message for staff"
    sent = next(m for m in ben.sent_messages if m.text == first)
    await ben.edit(sent, first.replace("night", "evening", 1))
    await ben.wait_for(lambda: ben.last.text == "Your note is updated.")
    answers = {a.item: a.value for a in await diary.answers()}
    assert answers["note"] == f"{first.replace('night', 'evening', 1)}\n{second}", "either part may be put right"


@SQLITE_ONLY
async def test_the_rest_of_a_long_note_heard_as_crisis_reaches_staff(diary: Diary) -> None:
    """A note that begins "I want to die." and goes on for 4,000 characters, which Telegram's app sends in two parts:
    the first was heard, and carded; the second was taken for the rest of the note, and never reached staff (the
    card shows the first 600 characters, the note is read at the digest). After a part heard as crisis language,
    the rest is a message of its own."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 4, 4, 4])
    await up_to_the_note(ben, "4")
    note = "I want to die. " + "The hand is burning and the fingers are stiff today. " * 80 + "Please ring Paul."
    first, second = split(note, TEXT_LIMIT)
    assert "ring Paul" in second and units(first) > 4000
    handled = len(await diary.inbox_processed())
    ben.say(first)
    ben.say(second)
    await diary.inbox_processed(at_least=handled + 2)
    await all_sent(diary)
    assert [(m.filed_as, m.crisis) for m in await stored_messages(diary)] == [("note", True), ("message", False)]
    assert any("Please ring Paul." in (m.text or "") for m in staff_chat(diary)), "the rest reaches staff"
    assert any((m.caption or "").startswith("🔴 URGENT") for m in cards(diary))


@SQLITE_ONLY
async def test_a_message_typed_seconds_after_a_long_note_is_a_message(diary: Diary) -> None:
    """A note of 2,400 characters, sent as one message, and three seconds later "Separate question: ...": the
    question was taken for the rest of the note, and never reached staff. Telegram's app sends the parts of a
    text it split within a second of each other, and splits only a text longer than a message may be: a message
    after a shorter note, or seconds after a long one, is a message."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 4, 4, 4])
    await up_to_the_note(ben, "4")
    note = "The hand is burning and the fingers are stiff today. " * 45
    assert 2048 < units(note) < 4096
    ben.say(note)
    await ben.wait_for(lambda: ben.last.text == "Thank you, your note is saved.")
    question = "Separate question: can someone call me about the infusion tomorrow?"
    reply = await ben.send(question)  # the same second: the note is too short to have been split
    assert reply is not None and (reply.text or "").startswith(NO_ADVICE)
    await diary.wait_until(lambda: any(question in (m.text or "") for m in staff_chat(diary)))

    await up_to_the_note(ben, "4")
    first, second = split("Hand burning since the night and the fingers are stiff. " * 85, TEXT_LIMIT)
    assert units(first) > 4000
    ben.say(first)
    await ben.wait_for(lambda: ben.last.text == "Thank you, your note is saved.")
    diary.clock.advance(seconds=3)
    reply = await ben.send(second)  # its date three seconds on: not a part of the one before
    assert reply is not None and (reply.text or "").startswith(NO_ADVICE)
    assert {a.item: a.value for a in await diary.answers()}["note"] == first


@SQLITE_ONLY
async def test_typing_during_a_checkin_answers_it_or_becomes_its_note(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    reply = await ben.send("7")
    assert reply is not None
    await ben.wait_for(lambda: ben.last.text == "Saved.")
    assert "Question 2 of 6" in (ben.last_with_buttons().text or "")
    reply = await ben.send("hand is burning a lot today")
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Thank you, your note is saved with this check-in"))
    for label in ["Redder", "Warmer", "A little", "2 Low"]:
        await ben.press(label)
    await ben.send("and I slept badly")
    await ben.wait_for(lambda: ben.last.text == "Thank you, your note is saved.")
    answers = {a.item: a.value for a in await diary.answers()}
    assert answers["pain"] == "7" and answers["note"] == "hand is burning a lot today\nand I slept badly"
    await all_sent(diary)
    assert not staff_chat(diary), "nothing typed during a check-in goes to the staff chat"
    assert [m.filed_as for m in await stored_messages(diary)] == ["answer", "note", "note"]


@SQLITE_ONLY
async def test_words_typed_while_a_checkin_waits_unstarted_reach_staff(diary: Diary) -> None:
    """The 03:00 check-in came and Ben let it be; hours later, still within the hours it stays open, he asks his
    care team a question. It became that untouched check-in's note ("Please go on with the buttons above"),
    which staff read at the next day's digest at best, and a patient who never answers check-ins had every
    message swallowed so. Until a check-in is started, words are a message; a number still starts it."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await scheduled_checkin(diary, ben, "P-0001")
    diary.clock.advance(hours=5)
    reply = await ben.send("The new tablets make me sick, should I stop them?")
    assert reply is not None and (reply.text or "").startswith("I can't give medical advice")
    await diary.wait_until(lambda: any("new tablets" in (m.text or "") for m in staff_chat(diary)))
    assert not await diary.answers(), "not the check-in's note"
    await ben.send("6")
    await ben.wait_for(lambda: ben.last.text == "Saved.")
    assert [(a.item, a.value) for a in await diary.answers()] == [("pain", "6")]


@SQLITE_ONLY
async def test_a_voice_message_or_photo_sent_at_the_note_question_completes_the_checkin(diary: Diary) -> None:
    """The note question asks Ben to type; his hand burns, so he records a voice message instead. It reached
    staff, but the check-in went on asking for a note until it closed, and the rules, which look at a check-in
    when it is complete, did not see his pain of 9 until the daily sweep. What he sends at the note question
    answers it: the check-in reaches its summary, the rules look at once, and a caption is the note."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
    await up_to_the_note(ben, "9")
    checkin = ben.last_with_buttons()
    ben.send_voice(5)
    await diary.wait_until(lambda: bool(cards(diary)))
    await diary.wait_until(lambda: any(m.kind == "voice" for m in staff_chat(diary)))
    summary = diary.standin.messages[ben.id][checkin.message_id]
    assert (summary.text or "").startswith("Check-in") and "Thank you. Your answers:" in (summary.text or "")
    assert [c.step for c in await diary.checkins()][-1] is None

    await up_to_the_note(ben, "8")
    reply = ben.expect_reply()
    ben.send_photo("the fingers are stiff today")
    await reply
    await ben.wait_for(lambda: "Thank you. Your answers:" in (ben.last_with_buttons().text or ""))
    assert {a.item: a.value for a in await diary.answers() if a.checkin_id == (await diary.checkins())[-1].id}[
        "note"
    ] == "the fingers are stiff today"
    await diary.wait_until(lambda: sum(m.copied_from is not None for m in staff_chat(diary)) == 2)


@SQLITE_ONLY
async def test_an_album_sent_at_the_note_question_is_the_note_with_every_caption(diary: Diary) -> None:
    """Three photos sent at once at the note question, two with words under them: Telegram delivers an album as a
    message per photo. The first answered the question and finished the check-in; the second's words were only in
    the staff chat, not in the note staff read on the card and in the diary. Each photo still reaches staff, and
    the patient is told once; a photo sent on its own afterwards is no part of the note."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
    await up_to_the_note(ben, "9")
    checkin = ben.last_with_buttons()
    handled = len(await diary.inbox_processed())
    for caption in ["the left hand this morning", "the right one, for comparison", None]:
        photo = diary.standin.new_file("photo", 180_000) | {"media_group_id": "24680"}
        diary.standin.user_media(ben.json, "photo", photo, caption=caption)
    await diary.inbox_processed(at_least=handled + 3)
    await all_sent(diary)
    answers = {a.item: a.value for a in await diary.answers()}
    assert answers["note"] == "the left hand this morning\nthe right one, for comparison"
    assert sum(m.copied_from is not None for m in staff_chat(diary)) == 3
    assert sum((m.text or "").startswith("Thank you, your care team will see") for m in ben.messages) == 1
    summary = diary.standin.messages[ben.id][checkin.message_id].text or ""
    assert "the right one, for comparison" in summary, "the summary shows the note"

    diary.clock.advance(seconds=5)
    reply = ben.expect_reply()
    ben.send_photo("and my foot")
    assert ((await reply).text or "").startswith("Thank you, your care team will see")
    assert {a.item: a.value for a in await diary.answers()}["note"] == answers["note"]


@SQLITE_ONLY
async def test_an_albums_first_caption_put_right_changes_the_note(diary: Diary) -> None:
    """Two photos sent at once at the note question; the first's words put right ("mornign"). The note kept the
    typo: it was the last photo's, and the first's edit reached staff as an edit only. Any photo's words are put
    right in the note."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
    await up_to_the_note(ben, "9")
    handled = len(await diary.inbox_processed())
    sent = []
    for caption in ["the left hand this mornign", "the right one"]:
        photo = diary.standin.new_file("photo", 180_000) | {"media_group_id": "24680"}
        sent.append(diary.standin.user_media(ben.json, "photo", photo, caption=caption))
    await diary.inbox_processed(at_least=handled + 2)
    await all_sent(diary)
    await ben.edit_caption(sent[0], "the left hand this morning")
    await ben.wait_for(lambda: ben.last.text == "Your note is updated.")
    answers = {a.item: a.value for a in await diary.answers()}
    assert answers["note"] == "the left hand this morning\nthe right one"


@SQLITE_ONLY
async def test_an_album_sent_just_after_a_typed_note_is_no_part_of_it(diary: Diary) -> None:
    """Ben types his note, and a second later sends two photos for his care team: they reach staff, and their words
    are not added to the note (only the rest of an album that answered the note question is)."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
    await up_to_the_note(ben, "9")
    handled = len(await diary.inbox_processed())
    ben.say("hand burning")  # the photos follow it at once, numbered right after it
    for caption in ["the left hand", "the right one"]:
        photo = diary.standin.new_file("photo", 180_000) | {"media_group_id": "13579"}
        diary.standin.user_media(ben.json, "photo", photo, caption=caption)
    await diary.inbox_processed(at_least=handled + 3)
    await all_sent(diary)
    assert {a.item: a.value for a in await diary.answers()}["note"] == "hand burning"
    assert sum(m.copied_from is not None for m in staff_chat(diary)) == 2


@SQLITE_ONLY
async def test_a_caption_given_later_to_a_voice_message_that_answered_the_note_question_adds_to_the_note(
    diary: Diary,
) -> None:
    """Ben typed a note midway, then answered the note question with a voice message, and later gave it a
    caption. The caption is added to his note: it must not take the place of the words he typed."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    await ben.send("Burning at night")
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Thank you, your note is saved"))
    for label in ["4", "The same", "The same", "Not swollen", "4 Good"]:
        await ben.press(label)
    voice = ben.send_voice()
    await ben.wait_for(lambda: "Thank you. Your answers:" in (ben.last_with_buttons().text or ""))
    await diary.inbox_processed()
    diary.standin.edit_user_message(voice, caption="and my fingers are stiff")
    await ben.wait_for(lambda: ben.last.text == "Your note is updated.")
    assert {a.item: a.value for a in await diary.answers()}["note"] == "Burning at night\nand my fingers are stiff"


async def test_an_edit_of_a_notes_message_changes_that_part_of_the_note(diary: Diary) -> None:
    """A note typed in two messages is one note; the patient edits the second, then the first. The words they
    changed must change there, even when the other message holds the same words: the note is their record."""
    ben = await a_note_typed_as(diary, ["no pain in the morning", "pain"])
    assert await note_after_edit(diary, ben, "pain", "pain since lunch, worse than yesterday") == (
        "no pain in the morning\npain since lunch, worse than yesterday"
    )

    # Its first message put right: the note says so too, and staff are not sent the edit out of its context.
    assert await note_after_edit(diary, ben, "no pain in the morning", "no pain until ten") == (
        "no pain until ten\npain since lunch, worse than yesterday"
    )
    await all_sent(diary)
    assert not staff_chat(diary)


async def test_a_note_put_right_after_its_checkin_finished_reaches_staff(diary: Diary) -> None:
    """Ben's check-in, pain 9 again, raised a card showing his note "hand is stiff". Two hours later he puts the note
    right, "hand is stiff, I took 8 of the oxycodone by mistake": the note changed and he was told so, but the card
    still said "hand is stiff" and nothing reached the staff chat, where words typed after the check-in go at once.
    A note changed once its check-in is finished reaches staff as the note now reads."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await with_history(diary, "P-0001", [4, 4, 5, 4, 9, 9, 9])
    await up_to_the_note(ben, "9")
    note = ben.say("hand is stiff")
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Thank you, your note is saved"))
    await diary.wait_until(lambda: any("hand is stiff" in (m.caption or "") for m in staff_chat(diary)))
    await all_sent(diary)
    shown = len(staff_chat(diary))
    diary.clock.advance(hours=2)
    await ben.edit(note, "hand is stiff, I took 8 of the oxycodone by mistake")
    await ben.wait_for(lambda: ben.last.text == "Your note is updated.")
    await diary.wait_until(lambda: len(staff_chat(diary)) > shown)
    await all_sent(diary)
    told = [m.text or "" for m in staff_chat(diary)[shown:]]
    assert told == [
        "P-0001 changed the note of a finished check-in. It now reads:\n"
        "hand is stiff, I took 8 of the oxycodone by mistake"
    ], told
    assert {a.item: a.value for a in await diary.answers()}[
        "note"
    ] == "hand is stiff, I took 8 of the oxycodone by mistake"


@SQLITE_ONLY
async def test_an_edit_of_a_notes_middle_message_changes_that_message_not_words_like_it(diary: Diary) -> None:
    """A note typed as "knee pain", "pain", "ok"; the patient puts the second right. The note must change
    there, not where the first message ends with the same word: it would say what they never wrote."""
    ben = await a_note_typed_as(diary, ["knee pain", "pain", "ok"])
    assert await note_after_edit(diary, ben, "pain", "pain in the wrist") == "knee pain\npain in the wrist\nok"


async def a_note_typed_as(diary: Diary, messages: list[str]) -> SimulatedUser:
    """Ben, enrolled, opens a check-in and types its note in these messages."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    for words in messages:
        await ben.send(words)
        await ben.wait_for(lambda: (ben.last.text or "").startswith("Thank you, your note is saved"))
    return ben


async def note_after_edit(diary: Diary, ben: SimulatedUser, message: str, edited: str) -> str:
    """Ben edits the last message he sent with these words; he is told his note is updated; the note."""
    said = [m for m in diary.standin.chat(ben.id) if m.text == message][-1]
    reply = await ben.edit(said, edited)
    assert reply is not None and (reply.text or "").startswith("Your note is updated")
    return {a.item: a.value for a in await diary.answers()}["note"]


@SQLITE_ONLY
async def test_a_checkin_the_patient_deleted_comes_again_when_they_type_an_answer(diary: Diary) -> None:
    """A patient deleted the check-in from their chat (Telegram lets them delete the bot's messages too),
    then typed the pain score. It is saved, and the check-in comes again with its next question, instead
    of "Something went wrong" for a saved answer and no buttons to go on with."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    ben.delete(ben.last_with_buttons())
    await ben.send("7")
    await ben.wait_for(lambda: ben.last.text == "Saved.")
    assert "Question 2 of 6" in (ben.last_with_buttons().text or "")
    assert not any("went wrong" in (m.text or "") for m in ben.messages)
    await ben.press("Redder")
    await ben.wait_for(lambda: "Question 3 of 6" in (ben.last_with_buttons().text or ""))
    assert {a.item: a.value for a in await diary.answers()} == {"pain": "7", "skin_color": "redder"}


async def test_a_typed_answer_corrected_by_an_edit_changes_the_answer(diary: Diary) -> None:
    """A patient types 7 at the pain question, then edits it to 8 (a slip of the thumb). The check-in holds
    8: they had been told "Your change was passed on" while the diary kept 7, and staff got a bare "8"."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("/checkin")
    typed = ben.say("7")
    await ben.wait_for(lambda: ben.last.text == "Saved.")
    await ben.edit(typed, "8")
    await ben.wait_for(lambda: [m.text for m in ben.messages[-2:]] == ["Saved.", "Saved."])
    assert {a.item: a.value for a in await diary.answers()} == {"pain": "8"}
    assert "Question 2 of 6" in (ben.last_with_buttons().text or "")
    await all_sent(diary)
    assert not staff_chat(diary), "an answer is the diary's, not a message for staff"


async def test_callme_and_the_contact_button_ask_staff_to_call(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = await ben.send("/callme")
    assert reply is not None and (reply.text or "").startswith(
        "Thank you. Your care team has been asked to contact you"
    )
    await diary.wait_until(lambda: bool(cards(diary)))
    card = cards(diary)[0]
    assert card.caption is not None and card.caption.startswith("🟠 Amber · P-0001")
    assert "The patient asks to be contacted" in card.caption
    received = await ben.send("Please call me about the next infusion")
    assert received is not None
    await ben.press("Please contact me", message=received)
    await diary.wait_until(lambda: "2 time(s)" in (diary.standin.messages[STAFF_CHAT][card.message_id].caption or ""))
    assert len(cards(diary)) == 1, "asking again before anyone acknowledged updates the card"
    (alert,) = await alerts(diary)
    assert (alert.rule, alert.tier) == ("contact_request", "amber")


async def ben_asked_to_be_called(diary: Diary) -> tuple[SimulatedUser, SimulatedUser]:
    """Ben has sent /callme, and its card is in the staff chat, where Sam is staff."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    await ben.send("/callme")
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    return ben, sam


@SQLITE_ONLY
async def test_a_request_to_be_contacted_made_again_hours_later_comes_as_a_card_anew(diary: Diary) -> None:
    """Ben asked to be called in the morning; nobody has acknowledged it. In the afternoon he asks again: the
    morning's card, far up the staff chat under the day's messages, was edited to "2 time(s)", which no one
    scrolls back to see and Telegram does not announce. The card comes anew at the foot of the chat; its old
    message, pressed, acts on nothing it did not show."""
    ben, sam = await ben_asked_to_be_called(diary)
    morning = cards(diary)[0]
    diary.clock.advance(hours=6)
    await ben.send("/callme")
    await diary.wait_until(lambda: len(cards(diary)) == 2)
    afternoon = cards(diary)[-1]
    assert "2 time(s)" in (afternoon.caption or "") and "Acknowledge" in [label for label, _ in afternoon.buttons]
    press = await sam.press("Acknowledge", message=morning)
    assert press.answer == "This card has changed since you saw it: read it again, then act."
    (alert,) = await alerts(diary)
    assert alert.status == "open" and alert.card_message_id == afternoon.message_id
    # The morning's card is not made a second live card of the alert: its buttons go, the afternoon's acts.
    morning = diary.standin.messages[STAFF_CHAT][morning.message_id]
    assert [label for label, _ in morning.buttons] == ["History", "Reply"], morning.buttons
    assert "2 time(s)" not in (morning.caption or "")


async def test_a_card_sent_anew_takes_the_buttons_off_its_older_message_at_once(diary: Diary) -> None:
    """The afternoon's card of a request made again comes at the foot of the staff chat; the morning's, up
    the chat, kept its Acknowledge until someone pressed it, two live cards of one alert. It loses its
    buttons as the new one comes, without a press: also when Telegram fails its edit at first (tried
    again), and the new card never waits for that edit."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("/callme")
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    morning = cards(diary)[0]
    diary.clock.advance(hours=6)
    diary.standin.fail_next("editMessageReplyMarkup", 502, "Bad Gateway", chat_id=STAFF_CHAT)
    await ben.send("/callme")
    await diary.wait_until(lambda: len(cards(diary)) == 2)
    afternoon = cards(diary)[-1]
    assert "Acknowledge" in [label for label, _ in afternoon.buttons]

    def morning_stale() -> bool:
        return [label for label, _ in diary.standin.messages[STAFF_CHAT][morning.message_id].buttons] == [
            "History",
            "Reply",
        ]

    for _ in range(40):  # the failed edit is tried again after its backoff, on the test's clock
        if morning_stale():
            break
        diary.clock.advance(seconds=5)
        await asyncio.sleep(0.1)
    assert morning_stale(), diary.standin.messages[STAFF_CHAT][morning.message_id].buttons
    assert "2 time(s)" not in (diary.standin.messages[STAFF_CHAT][morning.message_id].caption or "")
    await all_sent(diary)


@SQLITE_ONLY
async def test_an_older_card_deleted_before_its_card_comes_anew_holds_nothing_up(diary: Diary) -> None:
    """Someone deleted the morning's card; the request made again in the afternoon comes as a card anew. The
    morning's message cannot lose its buttons (it is gone): nothing waits for it, and nobody is told of it."""
    ben, sam = await ben_asked_to_be_called(diary)
    sam.delete(cards(diary)[0])
    diary.clock.advance(hours=6)
    await ben.send("/callme")
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    await ben.send("And please bring the forms")
    await diary.wait_until(lambda: any("bring the forms" in (m.text or "") for m in staff_chat(diary)))
    await all_sent(diary)
    assert not diary.standin.chat(900), "nothing to tell the admins"


@SQLITE_ONLY
async def test_a_card_deleted_in_the_staff_chat_is_sent_anew_when_it_changes(diary: Diary) -> None:
    """Someone tidied the staff chat and deleted an open card; the patient asks again. Telegram refuses to
    edit a message that is gone: the card comes again as a new one, with its buttons, instead of the
    request being marked failed and never shown."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    await ben.send("/callme")
    await diary.wait_until(lambda: bool(cards(diary)))
    sam.delete(cards(diary)[0])
    await ben.send("/callme")
    await diary.wait_until(lambda: bool(cards(diary)))
    (card,) = cards(diary)
    assert "2 time(s)" in (card.caption or "") and "Acknowledge" in [label for label, _ in card.buttons]
    await all_sent(diary)
    await sam.press("Reply", message=card)
    await sam.send("Calling you in five minutes.", chat_id=STAFF_CHAT, reply_to=staff_chat(diary)[-1])
    await ben.wait_for(lambda: ben.last.text == "Your care team: Calling you in five minutes.")


async def a_question_forwarded(diary: Diary, ben: SimulatedUser) -> ChatMessage:
    """Ben, enrolled, asks about his splint: the copy in the staff chat, with Reply and Seen."""
    await diary.enrol(ben)
    await ben.send("Should I keep the splint on at night?")
    await diary.wait_until(lambda: any(m.buttons for m in staff_chat(diary)))
    return next(m for m in staff_chat(diary) if m.buttons)


@SQLITE_ONLY
async def test_a_staff_reply_to_a_bot_message_is_never_dropped_without_a_word(diary: Diary) -> None:
    """In a group Telegram passes the bot replies to its own messages, so a reply to any of them is meant for
    it. A follow-up written as a reply to "Your reply is on its way to P-0001" reaches that patient; a reply
    to a message about no one patient (the help, the digest) is answered with how to reach a patient,
    instead of going nowhere while the nurse believes it was sent."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    forwarded = await a_question_forwarded(diary, ben)
    sent = await sam.send("Yes, at night too.", chat_id=STAFF_CHAT, reply_to=forwarded)
    assert sent is not None and sent.text == "Your reply is on its way to P-0001."
    await ben.wait_for(lambda: ben.last.text == "Your care team: Yes, at night too.")

    again = await sam.send("And loosen it if your fingers tingle.", chat_id=STAFF_CHAT, reply_to=sent)
    assert again is not None and again.text == "Your reply is on its way to P-0001."
    await ben.wait_for(lambda: ben.last.text == "Your care team: And loosen it if your fingers tingle.")

    help_text = await sam.send("/help", chat_id=STAFF_CHAT)
    assert help_text is not None
    hint = await sam.send("Tell Ben his appointment moved", chat_id=STAFF_CHAT, reply_to=help_text)
    assert hint is not None and "press Reply under their message or card" in (hint.text or "")
    await all_sent(diary)
    assert not any("appointment moved" in (m.text or "") for m in diary.standin.chat(ben.id))


@SQLITE_ONLY
async def test_a_reply_an_anonymous_group_admin_sends_is_answered_not_dropped(diary: Diary) -> None:
    """A nurse who is an admin of the staff group with "Remain anonymous" on replies to Ben's message: Telegram
    gives it as sent by the group itself, from GroupAnonymousBot, naming no one. The bot took it for talk of
    someone not on staff and let it go without a word, and the nurse believed Ben had the answer. Who wrote it
    cannot be known, so it is not sent (a patient hears only from staff, and every reply is audited by its
    author); the nurse is told why, and how to send it."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    forwarded = await a_question_forwarded(diary, ben)
    answered = diary.standin.wait_chat(STAFF_CHAT)
    diary.standin.anonymous_admin_message(STAFF_CHAT, "Yes, at night too.", reply_to=forwarded)
    told = await asyncio.wait_for(answered, 30)
    assert told.text is not None and told.text.startswith("This was sent anonymously"), told.text
    await all_sent(diary)
    assert not any("at night too" in (m.text or "") for m in diary.standin.chat(ben.id))


@SQLITE_ONLY
async def test_a_staff_reply_or_reply_button_whose_message_is_deleted_meanwhile_is_still_answered(diary: Diary) -> None:
    """In a group the bot's answer to a staff member quotes their message, and the Reply prompt the message
    pressed on; Telegram refuses a quote of a message deleted meanwhile (400 "message to be replied not
    found"). Sam deletes his reply to Ben as the bot handles it (to type it again): it reached Ben, and Sam,
    told nothing, took it for unsent. Kim tidies Ben's message away as Sam presses Reply on it: no prompt, no
    answer to the press, no way to write to Ben. Both are answered, without the quote."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await all_sent(diary)
    kim = SimulatedUser(diary.standin, 801, "Kim")
    await register_staff(diary, kim)
    written: list[ChatMessage] = []

    async def sam_deletes_it() -> None:
        diary.standin.user_deletes(sam.json, written[0])

    diary.standin.meanwhile(STAFF_CHAT, sam_deletes_it)  # as the bot's answer is on its way
    confirmation = diary.standin.wait_chat(STAFF_CHAT)
    written.append(sam.say("Yes, one more is fine tonight.", chat_id=STAFF_CHAT, reply_to=forwarded))
    await ben.wait_for(lambda: ben.last.text == "Your care team: Yes, one more is fine tonight.")
    assert (await asyncio.wait_for(confirmation, 30)).text == "Your reply is on its way to P-0001."

    async def kim_deletes_it() -> None:
        diary.standin.user_deletes(kim.json, forwarded)

    diary.standin.meanwhile(STAFF_CHAT, kim_deletes_it)  # as the prompt is on its way
    press = await sam.press("Reply", message=forwarded)
    assert press.answer == "Write your reply in the chat."
    prompt = staff_chat(diary)[-1]
    assert (prompt.text or "").startswith("Write your reply to P-0001")
    await sam.send("And drink water.", chat_id=STAFF_CHAT, reply_to=prompt)
    await ben.wait_for(lambda: ben.last.text == "Your care team: And drink water.")


@SQLITE_ONLY
async def test_a_reply_from_a_forum_topic_to_a_patients_message_in_general_reaches_them(diary: Diary) -> None:
    """The staff chat is a forum; the bot posts in its General topic. Sam, in the topic his team keeps about
    Ben, answers Ben's message with Telegram's "reply in another topic": the bot hears it as a reply to a
    message elsewhere, naming the chat and the message, not as a reply to the bot's. It went to no one, and
    Sam was told nothing. It reaches Ben, and Sam is told so."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    diary.standin.add_group(STAFF_CHAT, "Clinic staff", [sam.id], forum=True)
    forwarded = await a_question_forwarded(diary, ben)
    topic = diary.standin.open_topic(STAFF_CHAT, "Ben's infusion", by=sam)
    await all_sent(diary)
    diary.standin.user_message(sam.json, "Yes, at night too.", STAFF_CHAT, topic=topic, across=forwarded)
    await diary.inbox_processed(at_least=diary.standin.last_update_id)
    said = [m for m in staff_chat(diary) if m.from_bot and m.thread == topic.thread]
    assert [m.text for m in said] == ["Your reply is on its way to P-0001."]
    await ben.wait_for(lambda: ben.last.text == "Your care team: Yes, at night too.")


@SQLITE_ONLY
async def test_talk_in_a_forum_topic_after_pressing_reply_in_general_does_not_reach_the_patient(diary: Diary) -> None:
    """The staff chat is a forum. Sam presses Reply under Ben's message (in General, where the bot posts, and
    where its prompt opens his reply field), then turns to the rota topic and writes to his colleagues there.
    That went to Ben as the care team's answer: the Reply pressed takes the next message in the chat, and a
    topic is another conversation. It stays among staff; his answer in General reaches Ben."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    diary.standin.add_group(STAFF_CHAT, "Clinic staff", [sam.id], forum=True)
    forwarded = await a_question_forwarded(diary, ben)
    rota = diary.standin.open_topic(STAFF_CHAT, "Rota", by=sam)
    await sam.press("Reply", message=forwarded)
    diary.standin.user_message(sam.json, "I'll be late tomorrow, can someone cover the 8:00?", STAFF_CHAT, topic=rota)
    await diary.inbox_processed(at_least=diary.standin.last_update_id)
    prompt = next(m for m in staff_chat(diary) if (m.text or "").startswith("Write your reply to P-0001"))
    await sam.send("Yes, at night too.", chat_id=STAFF_CHAT, reply_to=prompt)
    await ben.wait_for(lambda: ben.last.text == "Your care team: Yes, at night too.")
    await all_sent(diary)
    assert not any("late tomorrow" in (m.text or "") for m in ben.messages)


@SQLITE_ONLY
async def test_the_rest_of_a_long_reply_from_a_forum_topic_to_general_reaches_the_patient(diary: Diary) -> None:
    """The staff chat is a forum and the bot one of its admins (it is given every message). Sam, in Ben's topic,
    answers Ben's message in General with a leaflet of 5,000 characters: Telegram's app sends it as two messages
    in the topic, and only the first answers Ben's. The rest, typed in a topic, was taken for talk there (a
    topic is another conversation than the General where a Reply is pressed) and went to no one. The rest of
    a reply goes on in the topic the reply was written in; talk in another does not."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    diary.standin.add_group(STAFF_CHAT, "Clinic staff", [sam.id], forum=True)
    diary.standin.set_bot_status(STAFF_CHAT, "administrator")
    forwarded = await a_question_forwarded(diary, ben)
    topic = diary.standin.open_topic(STAFF_CHAT, "Ben's infusion", by=sam)
    rota = diary.standin.open_topic(STAFF_CHAT, "Rota", by=sam)
    await all_sent(diary)
    leaflet = "Take one tablet with food, and no more than four in a day. " * 85 + "Call us if it gets worse."
    first, second = split(leaflet, TEXT_LIMIT)
    diary.standin.user_message(sam.json, first, STAFF_CHAT, topic=topic, across=forwarded)
    diary.standin.user_message(sam.json, second, STAFF_CHAT, topic=topic)
    await diary.inbox_processed(at_least=diary.standin.last_update_id)
    await all_sent(diary)
    assert reply_to(ben) == leaflet
    said = [m.text for m in staff_chat(diary) if m.from_bot and m.thread == topic.thread]
    assert said == ["Your reply is on its way to P-0001."] * 2

    before = len(ben.messages)
    diary.standin.user_message(sam.json, first, STAFF_CHAT, topic=topic, across=forwarded)
    diary.standin.user_message(sam.json, "Who covers the 8:00 tomorrow?", STAFF_CHAT, topic=rota)
    await diary.inbox_processed(at_least=diary.standin.last_update_id)
    await all_sent(diary)
    assert reply_to(ben, since=before) == first, "talk in another topic is not the rest"


@SQLITE_ONLY
async def test_a_colleagues_reply_to_the_prompt_or_confirmation_of_a_reply_does_not_reach_the_patient(
    diary: Diary,
) -> None:
    """ "Write your reply to P-0001", which pressing Reply posts, and "Your reply is on its way to P-0001" are for
    the staff member who pressed Reply or wrote the reply: a colleague's reply to them ("thanks Sam, I'll call
    him later"; Telegram opens a group's reply field on the prompt for everyone in it) is talk among staff. It
    is not sent, and the colleague is told how to write to the patient; the author's replies still go."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    kim = SimulatedUser(diary.standin, 801, "Kim")
    await register_staff(diary, sam)
    await register_staff(diary, kim)
    forwarded = await a_question_forwarded(diary, ben)
    sent = await sam.send("Yes, at night too.", chat_id=STAFF_CHAT, reply_to=forwarded)
    assert sent is not None and sent.text == "Your reply is on its way to P-0001."
    hint = await kim.send("Thanks Sam, I'll ring him later too.", chat_id=STAFF_CHAT, reply_to=sent)
    assert hint is not None and (hint.text or "").startswith("This message is for a colleague"), hint.text
    assert "P-0001" in (hint.text or "")
    again = await sam.send("And loosen it if your fingers tingle.", chat_id=STAFF_CHAT, reply_to=sent)
    assert again is not None and again.text == "Your reply is on its way to P-0001."
    await ben.wait_for(lambda: ben.last.text == "Your care team: And loosen it if your fingers tingle.")

    await sam.press("Reply", message=forwarded)
    prompt = staff_chat(diary)[-1]
    assert (prompt.text or "").startswith("Write your reply to P-0001")
    hint = await kim.send("Lunch at one?", chat_id=STAFF_CHAT, reply_to=prompt)
    assert hint is not None and (hint.text or "").startswith("This message is for a colleague"), hint.text
    sent = await sam.send("See you on Tuesday.", chat_id=STAFF_CHAT, reply_to=prompt)
    assert sent is not None and sent.text == "Your reply is on its way to P-0001."
    await ben.wait_for(lambda: ben.last.text == "Your care team: See you on Tuesday.")
    await all_sent(diary)
    # Kim's talk put right (or a first reaction to it, which Telegram sends as an edit) is not taken for a reply that
    # Telegram delivered after its edit, nor answered again.
    lunch = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == "Lunch at one?")
    shown, processed = len(staff_chat(diary)), len(await diary.inbox_processed())
    diary.standin.edit_user_message(lunch, text="Lunch at two?")
    await diary.inbox_processed(at_least=processed + 1)
    await all_sent(diary)
    assert len(staff_chat(diary)) == shown
    assert not any("ring him" in (m.text or "") or "Lunch" in (m.text or "") for m in diary.standin.chat(ben.id))
    async with diary.database.session() as session:
        replies = [e for e in await audit.since(session=session) if e.action == "reply_to_patient"]
    assert len(replies) == 3, "Sam's replies, not Kim's"


@SQLITE_ONLY
async def test_a_reply_to_a_patients_message_the_diary_did_not_note_reaches_them_or_says_they_are_gone(
    diary: Diary,
) -> None:
    """The Reply button under a patient's message names them: a reply to a message whose sending the diary did not
    get to note (the bot stopped between the two) still reaches the patient, and a reply to the message of a
    patient who has since erased their diary says so, not that the message is about no one patient."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    forwarded = await a_question_forwarded(diary, ben)
    await all_sent(diary)
    async with diary.database.session() as session:  # as if the bot had stopped before noting what it sent
        await session.exec(delete(StaffChatMessage))  # type: ignore[call-overload]
        await session.commit()
    sent = await sam.send("Yes, at night too.", chat_id=STAFF_CHAT, reply_to=forwarded)
    assert sent is not None and sent.text == "Your reply is on its way to P-0001.", sent.text
    await ben.wait_for(lambda: ben.last.text == "Your care team: Yes, at night too.")

    await ben.send("/delete")
    await ben.press("Yes, erase everything")
    assert (ben.last.text or "").startswith("Your diary has been erased")
    gone = await sam.send("And loosen it if your fingers tingle.", chat_id=STAFF_CHAT, reply_to=forwarded)
    assert gone is not None and gone.text == "That patient's record is no longer in the diary.", gone.text


@SQLITE_ONLY
async def test_help_in_the_staff_group_answers_staff(diary: Diary) -> None:
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    reply = await sam.send("/help", chat_id=STAFF_CHAT)
    assert reply is not None and (reply.text or "").startswith("Clinic staff commands")


@SQLITE_ONLY
async def test_the_crisis_text_follows_the_patients_country(diary: Diary) -> None:
    sam = SimulatedUser(diary.standin, 800, "Sam")
    async with diary.database.session() as session:
        await staff.add(session=session, telegram_user_id=800, role="staff", now=diary.clock())
    links = {}
    for code, words in [
        ("P-0101", "America/New_York en"),
        ("P-0102", "Europe/Berlin en US"),
        ("P-0103", "Europe/Madrid es"),
    ]:
        reply = await sam.send(f"/invite {code} {words}")
        assert reply is not None and reply.text is not None and "start=" in reply.text
        links[code] = reply.text.split("start=")[1].strip()
    expected = {"P-0101": "988", "P-0102": "988", "P-0103": "024"}
    for n, (code, token) in enumerate(links.items()):
        patient = SimulatedUser(diary.standin, 500 + n, f"P{n}", "es" if code == "P-0103" else "en")
        await patient.send(f"/start {token}")
        await patient.press(data=f"cs:y:{token}")
        reply = await patient.send("no quiero vivir mas" if code == "P-0103" else "I want to end it all")
        assert reply is not None and reply.text is not None and expected[code] in reply.text, code
        assert BERLIN_CRISIS_LINE not in reply.text


@SQLITE_ONLY
async def test_a_redelivered_message_takes_effect_once(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("When is my next appointment?")
    update = diary.standin.last_update_id
    diary.standin.redeliver(update)
    await ben.send("/help")
    await all_sent(diary)
    assert len([m for m in await stored_messages(diary)]) == 1
    forwarded = [m for m in staff_chat(diary) if "next appointment" in (m.text or "")]
    assert len(forwarded) == 1
    assert len([m for m in ben.messages if (m.text or "").startswith("I can't give medical advice")]) == 1


@SQLITE_ONLY
async def test_notes_show_in_the_alert_history(diary: Diary) -> None:
    card = await a_card(diary)
    ben = diary.standin.users[301]
    diary.clock.advance(hours=13)
    await up_to_the_note(ben, "9")
    await ben.send("fingers stiff this morning")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.press("History", message=card)
    await diary.wait_until(lambda: "fingers stiff" in (staff_chat(diary)[-1].text or ""))


@SQLITE_ONLY
async def test_photos_stickers_locations_documents_and_video_notes_are_copied_to_staff(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    sends = [
        ("photo", "a photo", lambda: ben.send_photo("my foot this morning, purple again")),
        ("sticker", "a sticker", lambda: ben.send_sticker("😣")),
        ("location", "a location", lambda: ben.send_location(52.52, 13.405)),
        ("document", "a document", lambda: ben.send_document("discharge_letter.pdf")),
        ("video_note", "a video message", lambda: ben.send_video_note(4)),
    ]
    for kind, what, send in sends:
        answered = ben.expect_reply()
        original = send()
        assert ((await answered).text or "").startswith("Thank you, your care team will see what you sent"), kind
        await diary.wait_until(lambda: staff_chat(diary)[-1:] != [] and staff_chat(diary)[-1].kind == kind)  # noqa: B023
        header, copy = staff_chat(diary)[-2:]
        assert header.text == f"P-0001 sent {what}:", kind
        assert copy.kind == kind and copy.media == original.media, kind
        assert copy.copied_from == (ben.id, original.message_id), kind
        assert [label for label, _ in copy.buttons] == ["Reply", "Seen"], kind
    photo = next(m for m in staff_chat(diary) if m.kind == "photo")
    assert photo.caption == "my foot this morning, purple again"
    assert [m.kind for m in await stored_messages(diary)] == [kind for kind, _, _ in sends]
    assert not await alerts(diary)


@SQLITE_ONLY
async def test_crisis_words_in_an_edit_a_caption_a_checkin_or_another_language_each_make_a_card(
    diary: Diary,
) -> None:
    """Wherever the words are, the patient gets the crisis text in their own language and staff get a new urgent
    card with the words on it, each escalating on its own clock."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin
    await diary.enrol(ben)

    def crisis_texts() -> int:
        return sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages)

    async def heard(words: str) -> None:
        """The crisis text reaches the patient and a new urgent card, showing the words, the staff chat."""
        count = len(cards(diary)) + 1
        await ben.wait_for(lambda: crisis_texts() == count)
        await diary.wait_until(lambda: len(cards(diary)) == count)
        card = cards(diary)[-1]
        assert card.caption is not None and card.caption.startswith("🔴 URGENT") and words in card.caption, words
        assert "Snooze 7 days" not in [label for label, _ in card.buttons]

    # An edit: the first version was ordinary and went to staff as a message.
    message = ben.say("rough night, hand burning")
    await diary.wait_until(lambda: any("rough night" in (m.text or "") for m in staff_chat(diary)))
    await ben.edit(message, "rough night, hand burning. honestly i want to end my life", wait=False)
    await heard("i want to end my life")

    # A caption, on the photo itself and in an edit of that caption.
    photo = ben.send_photo("the bridge near my house. im going to jump tonight")
    await heard("im going to jump tonight")
    await diary.wait_until(lambda: any(m.kind == "photo" for m in staff_chat(diary)))
    await ben.edit_caption(photo, "the bridge near my house. ive got the rope ready too", wait=False)
    await heard("rope ready")

    # Spanish from a patient whose diary is in English: the crisis text stays in English.
    await ben.send("ya no aguanto mas este dolor, me quiero matar", wait=False)
    await heard("me quiero matar")
    assert (ben.last.text or "").startswith("Thank you for telling us."), "in English, the patient's language"

    # Typed at a question of an open check-in (the pain question): the check-in's note, and a crisis.
    await ben.send("/checkin")
    await ben.send("cant do this anymore, thinking about taking all my pills", wait=False)
    await heard("taking all my pills")
    # Typed as the check-in's note.
    for label in ["6", "The same", "The same", "Not swollen", "2 Low"]:
        await ben.press(label)
    await ben.send("I have written letters to my kids for when im gone", wait=False)
    await heard("letters to my kids")
    answers = {a.item: a.value for a in await diary.answers() if a.item == "note"}
    assert "taking all my pills" in answers["note"] and "letters to my kids" in answers["note"]

    await all_sent(diary)
    crises = [a for a in await alerts(diary) if a.rule == "crisis_text"]
    assert len(crises) == len(cards(diary)) == crisis_texts() == 6 and all(a.status == "open" for a in crises)
    forwarded = [m.text or "" for m in staff_chat(diary) if (m.text or "").startswith("Message from P-0001")]
    assert forwarded == ["Message from P-0001:\nrough night, hand burning"], "crisis words are on cards, not forwards"
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock()) == 6
    await ada.wait_for(lambda: len(ada.messages) >= 6)


@SQLITE_ONLY
async def test_a_repeated_crisis_while_a_pain_alert_is_snoozed_is_a_new_card_each_time(diary: Diary) -> None:
    pain_card = await a_card(diary)
    ben = diary.standin.users[301]
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await sam.press("Snooze 7 days", message=pain_card)
    first = await crisis(diary, ben, "i keep thinking about overdosing")
    await sam.press("Acknowledge", message=first)
    await diary.wait_until(lambda: ben.last.text == "Your care team has seen your message.")
    diary.clock.advance(hours=2)
    second = await crisis(diary, ben, "tonight im going to take everything in the cupboard")
    assert second.message_id != first.message_id and "everything in the cupboard" in (second.caption or "")
    assert "everything in the cupboard" not in (diary.standin.messages[STAFF_CHAT][first.message_id].caption or "")
    pain, one, two = await alerts(diary)
    assert (pain.status, one.status, two.status) == ("snoozed", "acknowledged", "open")
    diary.clock.advance(minutes=16)
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock()) == 1


@SQLITE_ONLY
@pytest.mark.parametrize("hours", [48, 1])
async def test_after_a_relink_the_new_accounts_messages_reach_staff_though_telegram_numbers_them_again(
    diary: Diary, hours: int
) -> None:
    """Telegram numbers messages per chat: the new account's first messages carry the numbers of the old
    account's, some of them edited. None of them may be taken for a late copy of an edited message, also
    when the re-link comes the same day (a link opened on a relative's phone, moved to the patient's own)."""
    old = SimulatedUser(diary.standin, 301, "Ana")
    await diary.enrol(old)
    for n in range(4):
        said = old.say(f"old phone message {n}")
        await old.wait_for(lambda: (old.last.text or "").startswith("I can't give medical advice"))
        await old.edit(said, f"old phone message {n}, edited")
    diary.clock.advance(hours=hours)
    new = await relinked(diary, 311, "Ana")
    for n in range(8):
        await new.send(f"new phone message {n}")
    await diary.wait_until(lambda: sum("new phone" in (m.text or "") for m in staff_chat(diary)) == 8)
    numbers = {m.message_id for m in diary.standin.chat(311) if m.text and m.text.startswith("new phone")}
    assert numbers & {m.message_id for m in diary.standin.chat(301) if m.text and m.text.startswith("old phone")}
