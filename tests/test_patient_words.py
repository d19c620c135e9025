"""Words a patient sends in unusual shapes still reach a person, and staff replies reach patients or
say why not: the real bot over HTTP against the stand-in (on PostgreSQL too where a test's statements
run nowhere else there).

A command is typed words too: "/help I want to die" or "/suicide" speak of crisis as plainly as the same
words without the slash. A staff member told that only text reaches a patient still has their Reply; one
replying to a patient who blocked the bot is told that it may not reach them, and one editing a reply
that the patient keeps it as first sent. Crisis words typed without their spaces ("iwanttodie"),
or in a poll or a checklist, or in disguise ("k1ll mys3lf", "d i e", a Cyrillic letter, a "fancy font" app's
capitals, in a caption or an edit too), are heard;
the words after /callme, or after a slash no command takes or a command that reads none, reach staff,
and so does a caption longer than a bot may send, and a photo replaced in an edit (an edit that changes
no words is not passed on again); an album is acknowledged once. A sentence sent in two or more messages
is read as one, also when one of its messages is put right in an edit (and after a re-link, whose
messages Telegram numbers again).
A long reply or message given up after an hour of Telegram refusing its chat still reaches staff (or the
admins) whole, in parts. Staff replies that begin with a patient's command reach the patient; one edited by
a staff member who keeps a diary too is a staff edit; a reply or a press in a group that is no longer the
staff chat is answered that it reached no one.
Words quoted from another chat are the patient's (kept, read for crisis language, on the card); a forward
reaches staff marked with whose it was (the diary's own, forwarded back, is no crisis of theirs); a reply
reaches staff with what it answers; words typed in a topic of the patient's chat (threaded mode) are typed words,
not a reply to the topic's first message, and a name the patient gives such a topic reaches staff and is read. A
worrying answer typed in reply to a questionnaire's self-harm question is a crisis, as one pressed is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.alerts import escalation
from bot.alerts.desk import AlertDesk
from bot.care_team.text_limits import TEXT_LIMIT, split, units
from bot.diary import roster
from bot.prompts import Catalog
from bot.records import retention
from bot.sandbox import SimulatedUser
from storage import audit, patient_messages
from storage.models import OutboxMessage, PatientMessage
from tests.harness import SQLITE_ONLY, TEST_RULES, Diary, running_diary
from tests.test_alerts import STAFF_CHAT, register_staff, staff_chat, up_to_the_note
from tests.test_care_team import (
    BERLIN_CRISIS_LINE,
    a_poll,
    a_question_in_the_staff_chat,
    admin_pressed_reply_on_an_escalation,
    alerts,
    all_sent,
    cards,
    crisis,
    formatted,
    link,
    stored_messages,
)
from tests.test_delivery_faults import every_five_minutes_until
from tests.test_instruments import answer_with_item_9_several_days, offered, up_to_the_self_harm_question
from tests.test_webhook import behind_a_webhook


@SQLITE_ONLY
async def test_crisis_words_in_a_command_get_the_crisis_text_and_an_urgent_card(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    for number, words in enumerate(
        ["/help I want to kill myself", "/callme quiero morirme", "/I want to die tonight", "/suicide"], 1
    ):
        reply = await ben.send(words)
        assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or ""), words
        await diary.wait_until(lambda: len(cards(diary)) == number)  # noqa: B023 - waited for at once
        card = cards(diary)[-1]
        assert card.caption is not None and card.caption.startswith("🔴 URGENT"), words
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"] * 4
    assert all(m.crisis for m in await stored_messages(diary))

    # Edited into such a command: the same, as an edit.
    said = ben.say("thanks")
    await ben.wait_for(lambda: (ben.last.text or "").startswith("I can't give medical advice"))
    reply = await ben.edit(said, "/help I want to die")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 5)


@SQLITE_ONLY
async def test_words_after_a_command_the_diary_does_not_have_reach_staff(diary: Diary) -> None:
    """A patient who starts a message with a slash ("/my hand ...") wrote to their care team."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = await ben.send("/my hand is purple and swollen since lunch")
    assert reply is not None and (reply.text or "").startswith("I can't give medical advice; your care team will")
    await diary.wait_until(lambda: any("purple and swollen" in (m.text or "") for m in staff_chat(diary)))
    assert [m.text for m in await stored_messages(diary)] == ["/my hand is purple and swollen since lunch"]
    reply = await ben.send("/whatever")
    assert reply is not None and "did not understand" in (reply.text or ""), "a command alone is still a command"


@SQLITE_ONLY
async def test_a_patients_words_after_a_staff_command_reach_staff_and_run_nothing(diary: Diary) -> None:
    """ "/infusion yesterday went badly": a patient who read of the clinic's commands, or typed a slash, wrote to
    their care team. The command is staff's and never runs for them; the words were answered "did not understand"
    and lost, where after a command the diary does not have they reach staff."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await diary.invite("P-0002")
    for text in ("/infusion yesterday went badly, pain 9 since", "/report my hand is purple since lunch"):
        reply = await ben.send(text)
        assert reply is not None and (reply.text or "").startswith("I can't give medical advice"), (text, reply)
    await diary.wait_until(lambda: any("purple since lunch" in (m.text or "") for m in staff_chat(diary)))
    assert any("went badly, pain 9 since" in (m.text or "") for m in staff_chat(diary))
    for text in ("/relink P-0002", "/schedule P-0001 10:00 mon-sun Europe/Berlin"):  # its arguments: still refused
        reply = await ben.send(text)
        assert reply is not None and "did not understand" in (reply.text or ""), text
    assert len(await stored_messages(diary)) == 2
    async with diary.database.session() as session:
        actions = {e.action for e in await audit.since(session=session)}
    assert not {"relink_invite", "infusion", "report"} & actions, actions


@SQLITE_ONLY
async def test_words_after_a_command_that_takes_none_reach_staff_and_the_command_still_runs(diary: Diary) -> None:
    """ "/help my hand is purple and ice cold": the patient asked for the list of commands and told their care
    team something. Both happen; before, the words were lost unless they spoke of crisis."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    ben.say("/help my hand is purple and ice cold")
    await ben.wait_for(lambda: any("/checkin – start an extra check-in" in (m.text or "") for m in ben.messages))
    await ben.wait_for(lambda: any((m.text or "").startswith("I can't give medical advice") for m in ben.messages))
    await diary.wait_until(lambda: any("purple and ice cold" in (m.text or "") for m in staff_chat(diary)))
    ben.say("/history it has been worse since the infusion")
    await ben.wait_for(lambda: any("no check-ins from the last 30 days" in (m.text or "") for m in ben.messages))
    await diary.wait_until(lambda: any("worse since the infusion" in (m.text or "") for m in staff_chat(diary)))
    await ben.wait_for(lambda: sum((m.text or "").startswith("I can't give medical advice") for m in ben.messages) == 2)
    assert [m.text for m in await stored_messages(diary)] == [
        "/help my hand is purple and ice cold",
        "/history it has been worse since the infusion",
    ]
    # A command's own words are its own ("/pause 3"), and one word after a command that reads none is taken
    # for an argument it does not read ("/history 30"): the command answers, and staff are told nothing.
    reply = await ben.send("/pause 3")
    assert reply is not None and "paused" in (reply.text or "").lower()
    reply = await ben.send("/history 30")
    assert reply is not None and "no check-ins from the last 30 days" in (reply.text or "")
    assert len(await stored_messages(diary)) == 2


@SQLITE_ONLY
async def test_words_after_start_from_a_patient_reach_staff_and_are_not_taken_for_an_invite_token(diary: Diary) -> None:
    """ "/start my hand is purple since last night": an enrolled patient who begins again with /start (the menu's
    button, or the diary's first word they remember) and goes on writing was told they were enrolled already, their
    first word was counted as a wrong invite token, and staff heard nothing. The words reach staff, /start answers as
    alone; their own link opened again (its token after /start) is still a link."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    token = await diary.invite("P-0001")
    await ben.send(f"/start {token}")
    await ben.press("I agree")
    ben.say("/start my hand is purple since last night")
    await ben.wait_for(lambda: any("/checkin – start an extra check-in" in (m.text or "") for m in ben.messages))
    await ben.wait_for(lambda: any((m.text or "").startswith("I can't give medical advice") for m in ben.messages))
    await diary.wait_until(lambda: any("purple since last night" in (m.text or "") for m in staff_chat(diary)))
    assert not [m for m in ben.messages if "already enrolled" in (m.text or "")]
    assert [m.text for m in await stored_messages(diary)] == ["/start my hand is purple since last night"]
    reply = await ben.send(f"/start https://t.me/crps_diary_bot?start={token} thanks")
    assert reply is not None and "already enrolled" in (reply.text or ""), reply
    assert len(await stored_messages(diary)) == 1, "a link is no message for staff"


async def test_after_a_refused_photo_the_reply_typed_next_still_reaches_the_patient(diary: Diary) -> None:
    """Told that only text reaches a patient, a staff member types their reply: it must still go."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin: the crisis escalates to her direct chat
    await diary.enrol(ben)
    await ben.send("i wish i was dead")
    await diary.wait_until(lambda: bool(cards(diary)))
    diary.clock.advance(minutes=16)
    await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
    await ada.wait_for(lambda: bool(ada.messages))
    await ada.press("Reply", message=ada.last)
    ada.send_photo("our leaflet")
    await ada.wait_for(lambda: ada.last.text == "Only text can be sent to a patient.")
    reply = await ada.send("We are calling you now.")
    assert reply is not None and reply.text == "Your reply is on its way to P-0001."
    await ben.wait_for(lambda: ben.last.text == "Your care team: We are calling you now.")


@SQLITE_ONLY
async def test_a_staff_reply_with_a_link_behind_its_words_reaches_the_patient_with_the_link(diary: Diary) -> None:
    """A nurse who formats a link onto words ("our leaflet", Ctrl+K on a desktop) sends its address hidden
    behind them: the patient, who gets the reply as plain text, must still get the address."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    text = "Please read our leaflet before Tuesday."
    leaflet = "https://clinic.example.org/crps/desensitisation.pdf"
    diary.standin.user_message(
        sam.json, text, STAFF_CHAT, reply_to=forwarded, entities=[link(text, "our leaflet", leaflet)]
    )
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Your care team:"))
    assert ben.last.text == f"Your care team: Please read our leaflet ({leaflet}) before Tuesday."


@SQLITE_ONLY
async def test_words_with_a_link_behind_them_and_half_an_emoji_reach_staff_and_the_patient(diary: Diary) -> None:
    """A link formatted onto words is written out after them, where Telegram places it in UTF-16 units. Words that
    also held half of an emoji (a lone surrogate, which storage keeps as U+FFFD) could not be measured so: the
    patient's message and a staff reply were lost, their senders told only that something went wrong."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    text = "I read the leaflet and my thumb \ud83d is purple"
    reply = ben.expect_reply()
    diary.standin.user_message(ben.json, text, entities=[link(text, "leaflet", "https://example.org/crps")])
    assert "care team will see" in ((await reply).text or "")
    shown = "I read the leaflet (https://example.org/crps) and my thumb \ufffd is purple"
    await diary.wait_until(lambda: any(shown in (m.text or "") for m in staff_chat(diary)))

    text = "Please read our leaflet \ud83d again."
    leaflet = "https://clinic.example.org/crps/desensitisation.pdf"
    said = sam.expect_reply(chat_id=STAFF_CHAT)
    diary.standin.user_message(
        sam.json, text, STAFF_CHAT, reply_to=forwarded, entities=[link(text, "our leaflet", leaflet)]
    )
    assert (await said).text == "Your reply is on its way to P-0001."
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Your care team:"))
    assert ben.last.text == f"Your care team: Please read our leaflet ({leaflet}) \ufffd again."


@SQLITE_ONLY
async def test_a_reply_to_a_patient_who_blocked_the_bot_tells_staff_it_may_not_reach_them(diary: Diary) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    ben.block_bot()
    await diary.wait_until(lambda: any("blocked the diary bot" in (m.text or "") for m in staff_chat(diary)))
    answer = await sam.send("Yes, one more is fine.", chat_id=STAFF_CHAT, reply_to=forwarded)
    assert answer is not None and answer.text is not None
    assert answer.text.startswith("P-0001 has blocked the diary bot"), answer.text


def said_to(user: SimulatedUser, words: str) -> list[int]:
    """Where in the patient's chat the bot's messages with these words are (oldest first)."""
    return [n for n, m in enumerate(user.messages) if words in (m.text or "")]


async def test_a_reply_and_the_crisis_text_refused_while_the_patient_blocked_the_bot_go_once_they_unblock_it(
    diary: Diary,
) -> None:
    """Ben wrote words of crisis and blocked the bot before its answer came; Sam replied to the card and was
    told it might not reach him. Both were refused (403), and when Ben unblocked the bot they were never sent:
    the crisis text and the reply stayed `blocked`. Back, he gets them, in the order they were written and
    once (his /start after it sends nothing again); staff are told that they went after all."""
    ben, sam = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    ben.say("I want to die")
    ben.block_bot()  # before the bot could answer
    await diary.wait_until(lambda: bool(cards(diary)))
    # The crisis text's refusal, which comes last (its notice may follow that of the block, told by Telegram
    # apart): Sam's confirmation is then the next thing said in the staff chat.
    await diary.wait_until(lambda: any("did not arrive" in (m.text or "") for m in staff_chat(diary)))
    answer = await sam.send("We will call you in five minutes.", chat_id=STAFF_CHAT, reply_to=cards(diary)[-1])
    assert answer is not None and (answer.text or "").startswith("P-0001 has blocked the diary bot"), answer
    refused = "Your care team: We will call you in five minutes."
    await diary.wait_until_async(
        lambda rows: (
            all(r.status not in ("pending", "sending") for r in rows)
            and sum(r.kind == "patient" and r.status == "blocked" for r in rows) == 2
        )
    )
    assert not said_to(ben, BERLIN_CRISIS_LINE) and not said_to(ben, refused)

    ben.unblock_bot()  # from the bot's profile: Telegram says only that he is a member of the chat again
    await ben.wait_for(lambda: bool(said_to(ben, refused)))

    def back() -> list[str]:
        return [m.text or "" for m in staff_chat(diary) if "can be reached in the diary bot again" in (m.text or "")]

    await diary.wait_until(lambda: bool(back()))
    assert back()[0].startswith("Patient P-0001 can be reached") and "(2)" in back()[0], back()
    reply = await ben.send("/start")  # opened the chat again as well
    assert reply is not None
    await all_sent(diary)
    assert [len(said_to(ben, BERLIN_CRISIS_LINE)), len(said_to(ben, refused))] == [1, 1], "each once"
    assert said_to(ben, BERLIN_CRISIS_LINE) < said_to(ben, refused), "in the order they were written"
    assert len(back()) == 1


@SQLITE_ONLY
async def test_a_reply_refused_before_the_bot_heard_of_the_block_reaches_staff_and_goes_when_the_patient_writes(
    diary: Diary,
) -> None:
    """Ben blocked the bot and Telegram's word of it had not come when Sam replied: Sam was told his reply was
    on its way, and after the refusal only that Ben blocked the bot, not which reply did not reach him (a
    reply Telegram refuses for another reason shows its words). Staff get its words; and when Ben writes again
    (having unblocked the bot, with no word of that either) it goes to him."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    diary.standin.block(ben.id)  # blocked, and the bot not told
    answer = await sam.send("Yes, one more is fine.", chat_id=STAFF_CHAT, reply_to=forwarded)
    assert answer is not None and answer.text == "Your reply is on its way to P-0001."
    refused = "Your care team: Yes, one more is fine."

    def told() -> list[str]:
        return [m.text or "" for m in staff_chat(diary) if m.from_bot and "blocked the diary bot" in (m.text or "")]

    await diary.wait_until(lambda: bool(told()))
    await all_sent_or_blocked(diary)
    assert len(told()) == 1 and refused in told()[0], told()
    diary.standin.unblock(ben.id)
    ben.say("Are you still there?")
    await ben.wait_for(lambda: bool(said_to(ben, refused)))
    await all_sent(diary)
    assert len(said_to(ben, refused)) == 1


async def test_a_reply_refused_while_the_patient_blocked_the_bot_outlives_the_outbox_retention(diary: Diary) -> None:
    """Ben blocked the bot, and Sam's reply was refused; staff were told it is sent if he unblocks it. Ben came
    back five weeks later (a hospital stay): the daily purge of finished outbox rows (OUTBOX_RETENTION_DAYS, 30)
    had deleted the refused reply with what was sent, and it never went. Owed again on his return, it is kept
    until then (his erasure takes it with the rest)."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    diary.standin.block(ben.id)
    await sam.send("Yes, one more is fine.", chat_id=STAFF_CHAT, reply_to=forwarded)
    await all_sent_or_blocked(diary)
    diary.clock.advance(days=35)
    await purge(diary)
    diary.standin.unblock(ben.id)
    ben.say("Sorry, I was in hospital.")
    await diary.wait_until(
        lambda: any("can be reached in the diary bot again" in (m.text or "") for m in staff_chat(diary))
    )
    await all_sent(diary)
    assert len(said_to(ben, "Your care team: Yes, one more is fine.")) == 1


@SQLITE_ONLY
async def test_a_reply_refused_before_the_patient_was_discharged_goes_with_the_retention(diary: Diary) -> None:
    """Kept for the patient's return only while they are unreachable: discharged, they are not coming back to it
    (a later admission would otherwise be sent a dosing answer months old), and it goes as any row does."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    diary.standin.block(ben.id)
    await sam.send("Yes, one more is fine.", chat_id=STAFF_CHAT, reply_to=forwarded)
    await all_sent_or_blocked(diary)
    assert await roster.discharge(diary.database, code="P-0001", actor_id=None, now=diary.clock())
    diary.clock.advance(days=35)
    await purge(diary)
    async with diary.database.session() as session:
        kept = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.status) == "blocked"))).all()
    assert not kept, [(row.kind, row.text) for row in kept]


@SQLITE_ONLY
async def test_a_refused_reply_goes_when_the_patient_writes_even_after_a_later_reply_reached_him(
    diary: Diary,
) -> None:
    """Ben blocked the bot (no word of it), Sam's first reply was refused and staff were told it is sent if he
    unblocks. Ben unblocked it (no word of that either), Sam's second reply reached him, then Ben wrote: the
    first reply was never sent, as only what was refused after the last delivery to his chat was owed again.
    It goes, once, saying when it was written, as it comes hours late."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    diary.standin.block(ben.id)
    await sam.send("Yes, one more is fine.", chat_id=STAFF_CHAT, reply_to=forwarded)
    first = "Your care team: Yes, one more is fine."
    await all_sent_or_blocked(diary)
    diary.clock.advance(minutes=10)
    diary.standin.unblock(ben.id)  # Telegram's notice late or missed
    await sam.send("And drink some water.", chat_id=STAFF_CHAT, reply_to=forwarded)
    await ben.wait_for(lambda: bool(said_to(ben, "And drink some water.")))
    diary.clock.advance(hours=3)
    ben.say("Thanks, got it.")
    await diary.wait_until(
        lambda: any("can be reached in the diary bot again" in (m.text or "") for m in staff_chat(diary))
    )
    await all_sent_or_blocked(diary)
    assert len(said_to(ben, first)) == 1, [m.text for m in ben.messages]
    late = ben.messages[said_to(ben, first)[0]].text or ""
    assert late.startswith("Sent on ") and "when the diary could not reach you" in late, late
    assert not (ben.messages[said_to(ben, "And drink some water.")[0]].text or "").startswith("Sent on")


def test_words_refused_again_after_a_comeback_are_dated_once() -> None:
    """A reply dated when it was owed again, then refused again (the patient blocked the bot before it went): at the
    next comeback it keeps the one line saying when it was written."""
    at = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)

    def line(when: datetime) -> str:
        return f"Sent on {when:%Y-%m-%d %H:%M}, when the diary could not reach you:"

    once = roster._dated("Your care team: hello", at, now=at + timedelta(hours=2), sent_late=line)
    twice = roster._dated(once, at, now=at + timedelta(hours=5), sent_late=line)
    assert once == twice == f"{line(at)}\nYour care team: hello"


@SQLITE_ONLY
async def test_a_reply_refused_on_the_old_account_goes_to_the_new_one_once_the_relinks_hold_is_over(
    diary: Diary,
) -> None:
    """Ben blocked the bot on his old phone; Sam's reply was refused and staff were told it goes if he
    unblocks it. Ben then got a re-link and accepted it on a new phone: the reply stayed `blocked` on the old
    account for good. It is the patient's: it goes to the new account, once, and not to the old one. Not at
    once: the new account may be in the wrong hands, and what staff wrote about Ben before the move waits for
    the re-link's hold to end, as his /history does."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    ben.block_bot()
    await diary.wait_until(lambda: any("blocked the diary bot" in (m.text or "") for m in staff_chat(diary)))
    await sam.send("Yes, one more is fine.", chat_id=STAFF_CHAT, reply_to=forwarded)
    first = "Your care team: Yes, one more is fine."
    await all_sent_or_blocked(diary)
    diary.clock.advance(minutes=10)
    token = await diary.invite("P-0001", relink=True)
    new_phone = SimulatedUser(diary.standin, 311, "Ben on a new phone")
    await new_phone.send(f"/start {token}")
    await new_phone.press("I agree")
    await diary.wait_until_async(lambda rows: any(r.status == "pending" and first in (r.text or "") for r in rows))
    await new_phone.send("/help")
    assert not said_to(new_phone, first), "held"
    diary.clock.advance(hours=diary.settings.relink_hold_hours)
    await new_phone.send("/help")
    await all_sent_or_blocked(diary)
    assert len(said_to(new_phone, first)) == 1, [m.text for m in new_phone.messages]
    ben.unblock_bot()  # the old phone: nobody's in the diary now
    await ben.send("/start")
    await all_sent_or_blocked(diary)
    assert not said_to(ben, first)
    assert len(said_to(new_phone, first)) == 1


async def purge(diary: Diary) -> None:
    """The outbox's and inbox's retention, as the scheduler's tick runs it."""
    settings = diary.settings
    await retention.purge(
        diary.database,
        now=diary.clock(),
        inbox_days=settings.inbox_retention_days,
        outbox_days=settings.outbox_retention_days,
    )


async def all_sent_or_blocked(diary: Diary) -> None:
    await diary.wait_until_async(lambda rows: all(r.status in ("sent", "blocked", "skipped") for r in rows))


@SQLITE_ONLY
async def test_crisis_words_typed_without_spaces_get_the_crisis_text_and_an_urgent_card(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    for number, words in enumerate(["iwanttodie", "ya no puedo más, mequieromorir"], 1):
        reply = await ben.send(words)
        assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or ""), words
        await diary.wait_until(lambda: len(cards(diary)) == number)  # noqa: B023 - waited for at once
        assert words in (cards(diary)[-1].caption or ""), words


@SQLITE_ONLY
async def test_crisis_words_written_upside_down_or_backwards_get_the_crisis_text_and_a_card(diary: Diary) -> None:
    """A "flip text" app's words, words written backwards behind an override mark that shows them the right way, and
    regional-indicator letters are read; the card of a long note shows the words turned over, not its start."""
    ben = SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ben)
    flipped = "ɟlǝsʎɯ llᴉʞ oʇ ʇuɐʍ ᴉ"  # "i want to kill myself"
    note = "Pain 6 today, the physiotherapy appointment was moved again and the swelling is worse. " * 45 + flipped
    regional = "\U0001f1ee \U0001f1fc\U0001f1e6\U0001f1f3\U0001f1f9 \U0001f1f9\U0001f1f4 \U0001f1e9\U0001f1ee\U0001f1ea"
    for number, words in enumerate([flipped, "\u202eeid ot tnaw i", regional, note], 1):
        reply = await ben.send(words)
        assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or ""), words
        await diary.wait_until(lambda: len(cards(diary)) == number)  # noqa: B023 - waited for at once
    assert "ɟlǝsʎɯ llᴉʞ" in (cards(diary)[-1].caption or "")


async def test_words_a_patient_strikes_out_reach_staff_struck_out_and_are_read_without(diary: Diary) -> None:
    """Telegram's strikethrough is part of what a patient says: "I took ~~3~~ 2 tablets" reached staff as "I took 3 2
    tablets", and "I ~~don't~~ want to die" (the "don't" struck out, at once or in an edit: "I will ~~not~~ hurt
    myself") was read as "I don't want to die": no crisis text, no card. Staff read struck words between "~~"; crisis
    language reads them struck out too."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    words = "I took 3 2 tablets 💊 and slept."
    answered = ben.expect_reply()
    diary.standin.user_message(ben.json, words, entities=[formatted(words, "strikethrough", "3")])
    await answered
    await diary.wait_until(lambda: any("I took" in (m.text or "") for m in staff_chat(diary)))
    assert any(m.text == "Message from P-0001:\nI took ~~3~~ 2 tablets 💊 and slept." for m in staff_chat(diary))

    words = "honestly 😔 I don't want to die"
    reply = ben.expect_reply()
    diary.standin.user_message(ben.json, words, entities=[formatted(words, "strikethrough", "don't")])
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    assert "I ~~don't~~ want to die" in (cards(diary)[-1].caption or "")

    diary.clock.advance(hours=2)  # not read as following up the crisis before
    words = "I will not hurt myself"
    mine = await ben.send(words)
    assert mine is not None and BERLIN_CRISIS_LINE not in (mine.text or "")
    sent = next(m for m in diary.standin.chat(ben.id) if m.text == words)
    reply = ben.expect_reply()
    diary.standin.edit_user_message(sent, text=words, entities=[formatted(words, "strikethrough", "not")])
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 2)


async def test_words_struck_out_in_a_quote_from_another_chat_reach_staff_struck_out_and_are_read_without(
    diary: Diary,
) -> None:
    """Telegram keeps the formatting of words quoted from another chat ("Reply in another chat"). Ben quotes what he
    wrote his sister, "I don't want to die anymore", its "don't" struck out: staff read "> I don't want to die anymore",
    the opposite of what he wrote, and crisis language read it so too: no crisis text, no card."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    quoted = "I don't want to die anymore"
    his_own = {"type": "user", "sender_user": ben.json, "date": diary.standin.now() - 60}
    reply = ben.expect_reply()
    diary.standin.user_message(
        ben.json,
        "this is what I wrote to my sister",
        quote=quoted,
        quote_entities=[formatted(quoted, "strikethrough", "don't")],
        elsewhere=his_own,
    )
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    assert "> I ~~don't~~ want to die anymore" in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_a_staff_member_who_edits_a_reply_is_told_the_patient_has_it_as_first_sent(diary: Diary) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await sam.send("Yes, two more is fine.", chat_id=STAFF_CHAT, reply_to=forwarded)
    await ben.wait_for(lambda: ben.last.text == "Your care team: Yes, two more is fine.")
    mine = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == "Yes, two more is fine.")
    answer = await sam.edit(mine, "Yes, one more is fine.")
    assert answer is not None and answer.text is not None
    assert answer.text.startswith("Edits do not reach P-0001"), answer.text
    assert ben.last.text == "Your care team: Yes, two more is fine."


async def test_an_edit_of_a_staff_reply_that_changes_no_words_says_nothing(diary: Diary) -> None:
    """Telegram sends an edit for a change no one made (a link's preview made later, a colleague's first reaction):
    the staff member was told "Edits do not reach P-0001 ... send a correction as a new reply" for a reply they never
    touched, and might send it again. A change of its words is still answered so, also in a long reply's part."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    words = "Please read our leaflet https://clinic.example/crps-leaflet and rest the hand 😌 tonight."
    leaflet = [{"type": "text_link", "offset": 0, "length": 6, "url": "https://clinic.example/please"}]
    diary.standin.user_message(sam.json, words, STAFF_CHAT, reply_to=forwarded, entities=leaflet)
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Your care team: Please (https://clinic.example"))
    await diary.wait_until(lambda: staff_chat(diary)[-1].text == "Your reply is on its way to P-0001.")
    await all_sent(diary)
    shown = len(staff_chat(diary))
    mine = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == words)
    processed = len(await diary.inbox_processed())
    diary.standin.edit_user_message(mine, text=words, entities=leaflet)
    await diary.inbox_processed(at_least=processed + 1)
    await all_sent(diary)
    assert len(staff_chat(diary)) == shown, "nothing was changed: nothing to say"

    answer = await sam.edit(mine, words.replace("tonight", "today"))
    assert answer is not None and (answer.text or "").startswith("Edits do not reach P-0001"), answer

    long = "Take one tablet with food, and no more than four in a day. " * 85
    await sam.send(long, chat_id=STAFF_CHAT, reply_to=forwarded)
    await all_sent(diary)
    shown = len(staff_chat(diary))
    mine = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == long)
    processed = len(await diary.inbox_processed())
    diary.standin.edit_user_message(mine, text=long)
    await diary.inbox_processed(at_least=processed + 1)
    await all_sent(diary)
    assert len(staff_chat(diary)) == shown, "nor for a reply sent in parts"


async def test_a_staff_member_who_strikes_out_words_of_a_reply_is_told_the_patient_has_it_as_first_sent(
    diary: Diary,
) -> None:
    """An edit that strikes out "two" in "Take two one tablet" changes no letter, yet what the reply says: it was taken
    for an edit no one made (a link's preview), and the nurse was left to think the patient had the correction."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    words = "Take two one tablet tonight."
    await sam.send(words, chat_id=STAFF_CHAT, reply_to=forwarded)
    await ben.wait_for(lambda: ben.last.text == f"Your care team: {words}")
    await diary.wait_until(lambda: staff_chat(diary)[-1].text == "Your reply is on its way to P-0001.")
    mine = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == words)
    answer = sam.expect_reply(chat_id=STAFF_CHAT)
    diary.standin.edit_user_message(mine, text=words, entities=[formatted(words, "strikethrough", "two")])
    assert ((await answer).text or "").startswith("Edits do not reach P-0001")


CRISIS_POLL = a_poll("5001", "Should I just end my life?", ["yes", "no"])


@SQLITE_ONLY
async def test_crisis_words_in_a_poll_a_patient_sends_get_the_crisis_text_and_an_urgent_card(diary: Diary) -> None:
    """A poll's words are its question and its answers: read like a caption."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = ben.expect_reply()
    diary.standin.user_media(ben.json, "poll", {"poll": CRISIS_POLL})
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "Should I just end my life?" in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_crisis_words_in_a_checklist_a_patient_sends_get_the_crisis_text(diary: Diary) -> None:
    """A checklist's words are its title and its tasks."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = ben.expect_reply()
    tasks = [{"id": 1, "text": "write letters to the kids"}, {"id": 2, "text": "end my life on sunday"}]
    diary.standin.user_media(ben.json, "checklist", {"checklist": {"title": "before I go", "tasks": tasks}})
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "end my life on sunday" in (cards(diary)[-1].caption or "")
    assert any(m.text == "P-0001 sent a checklist:" for m in staff_chat(diary))


@SQLITE_ONLY
async def test_crisis_words_in_a_polls_description_or_a_quizs_explanation_get_the_crisis_text(diary: Diary) -> None:
    """A poll's words are also its description, and a quiz's its explanation (shown to whoever answers wrongly):
    Ben wrote them as he wrote the question. Only the question and the answers were read, and passed on."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    quiz = a_poll("5002", "guess what I did today", ["a walk", "nothing"]) | {
        "type": "quiz",
        "correct_option_ids": [1],
        "explanation": "I am going to end my life tonight",
    }
    reply = ben.expect_reply()
    diary.standin.user_media(ben.json, "poll", {"poll": quiz})
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "I am going to end my life tonight" in (cards(diary)[-1].caption or "")

    described = a_poll("5003", "which is worse?", ["the burning", "the cold"]) | {"description": "i want to die"}
    reply = ben.expect_reply()
    diary.standin.user_media(ben.json, "poll", {"poll": described})
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 2)
    assert "i want to die" in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_an_answer_added_to_a_poll_or_tasks_added_to_a_checklist_reach_staff_and_are_read(diary: Diary) -> None:
    """Ben adds an answer to the poll he sent, and tasks to his checklist: Telegram gives each as a service message
    holding the words he added. They were dropped with the chat's service messages: staff never read them, and
    no one heard the crisis in them. Telegram will not copy a service message: staff read the words."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    poll = diary.standin.user_media(ben.json, "poll", {"poll": a_poll("5004", "what helps?", ["heat", "cold"])})
    await diary.wait_until(lambda: any(m.kind == "poll" for m in staff_chat(diary)))
    reply = ben.expect_reply()
    where = {"message_id": poll.message_id, "date": poll.date, "chat": {"id": ben.id, "type": "private"}}
    added = {"option_persistent_id": "3", "option_text": "warm baths at night", "poll_message": where}
    diary.standin.user_media(ben.json, "poll_option_added", {"poll_option_added": added})
    assert ((await reply).text or "").startswith("Thank you, your care team will see what you sent")
    await diary.wait_until(lambda: any("warm baths at night" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "warm baths") == "P-0001 sent an answer added to their poll:\nwarm baths at night"

    tasks = [{"id": 1, "text": "buy milk"}]
    diary.standin.user_media(ben.json, "checklist", {"checklist": {"title": "today", "tasks": tasks}})
    await diary.wait_until(lambda: any(m.kind == "checklist" for m in staff_chat(diary)))
    reply = ben.expect_reply()
    more = {"tasks": [{"id": 2, "text": "give the dog to my sister"}, {"id": 3, "text": "kill myself"}]}
    diary.standin.user_media(ben.json, "checklist_tasks_added", {"checklist_tasks_added": more})
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "give the dog to my sister\nkill myself" in (cards(diary)[-1].caption or "")
    await all_sent(diary)
    assert [m.kind for m in await stored_messages(diary)] == [
        "poll",
        "poll_option_added",
        "checklist",
        "checklist_tasks_added",
    ]


@SQLITE_ONLY
async def test_words_after_callme_reach_staff_with_the_request(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = await ben.send("/callme about moving my infusion, I can't make Tuesday")
    assert reply is not None and (reply.text or "").startswith("Thank you. Your care team has been asked")
    await diary.wait_until(lambda: bool(cards(diary)))
    await diary.wait_until(
        lambda: any("about moving my infusion, I can't make Tuesday" in (m.text or "") for m in staff_chat(diary))
    )
    (stored,) = await stored_messages(diary)
    assert stored.text == "about moving my infusion, I can't make Tuesday"


@SQLITE_ONLY
async def test_a_callme_put_right_in_an_edit_is_an_edit_not_a_second_request(diary: Diary) -> None:
    """Ben corrects a typo in "/callme about my infusion on Tusday". The command ran again on the edit: staff read
    that he had asked twice ("Asked 2 time(s)", or a new card once the first was acknowledged), got his words again
    as a new message, and he was told again that his care team had been asked. His change reaches staff as an
    edit, as any message's does; a message edited into /callme is still a request."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = await ben.send("/callme about my infusion on Tusday")
    assert reply is not None and (reply.text or "").startswith("Thank you. Your care team has been asked")
    await diary.wait_until(lambda: bool(cards(diary)))
    asked = next(m for m in ben.sent_messages if (m.text or "").startswith("/callme"))
    reply = await ben.edit(asked, "/callme about my infusion on Tuesday")
    assert reply is not None and reply.text == "Your change was passed on to your care team."
    await diary.wait_until(lambda: any("edited a message" in (m.text or "") for m in staff_chat(diary)))
    assert any("on Tuesday" in (m.text or "") for m in staff_chat(diary) if "edited a message" in (m.text or ""))
    await all_sent(diary)
    (request,) = await alerts(diary)
    assert request.details == '{"times": 1}'
    assert "1 time(s)" in (cards(diary)[0].caption or "")

    said = ben.say("could someone ring me")
    await ben.wait_for(lambda: (ben.last.text or "").startswith("I can't give medical advice"))
    reply = await ben.edit(said, "/callme could someone ring me")
    assert reply is not None and (reply.text or "").startswith("Thank you. Your care team has been asked")
    await diary.wait_until(
        lambda: "2 time(s)" in (diary.standin.messages[STAFF_CHAT][cards(diary)[0].message_id].caption or "")
    )


@SQLITE_ONLY
async def test_a_callme_edit_that_changes_no_words_is_not_passed_on(diary: Diary) -> None:
    """Telegram sends an edit when a link's preview is made: the /callme's words were passed on with the request, and
    staff got them again as an edit, the patient told of a change they never made."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = await ben.send("/callme about my infusion https://example.org/x")
    assert reply is not None
    await diary.wait_until(lambda: bool(cards(diary)))
    await all_sent(diary)
    asked = next(m for m in diary.standin.chat(ben.id) if (m.text or "").startswith("/callme"))
    before = len(diary.standin.chat(ben.id))
    handled = len(await diary.inbox_processed())
    diary.standin.edit_user_message(asked, text=asked.text)
    await diary.inbox_processed(at_least=handled + 1)
    await all_sent(diary)
    assert not any("edited a message" in (m.text or "") for m in staff_chat(diary))
    assert len(diary.standin.chat(ben.id)) == before


@SQLITE_ONLY
async def test_a_command_without_words_reads_no_messages(diary: Diary) -> None:
    """A command alone ("/history", "/help") has no words to read with the messages around it: it costs no look at
    them (two queries for every command, on the hot path of a patient's day)."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("my hand hurts")
    statements: list[str] = []

    def counted(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", counted)
    try:
        for command in ("/history", "/help"):
            await ben.send(command)
    finally:
        event.remove(Engine, "before_cursor_execute", counted)
    assert statements, "the statements are counted"
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM patientmessage" in s]


@SQLITE_ONLY
async def test_an_album_is_acknowledged_once_and_each_photo_reaches_staff(diary: Diary) -> None:
    """Telegram sends an album of photos as one message each, sharing a media_group_id."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    told = "Thank you, your care team will see what you sent."
    for n in range(3):
        photo = diary.standin.new_file("photo", 180_000) | {"media_group_id": "13579"}
        diary.standin.user_media(ben.json, "photo", photo, caption="my hand today" if n == 0 else None)
    ben.send_photo()  # another photo on its own: acknowledged again
    await diary.wait_until(lambda: sum(m.copied_from is not None for m in staff_chat(diary)) == 4)
    await diary.wait_until_async(lambda rows: all(r.status == "sent" for r in rows))
    acknowledged = [m for m in diary.standin.chat(ben.id) if m.from_bot and (m.text or "").startswith(told)]
    assert len(acknowledged) == 2
    assert sum(m.text == "P-0001 sent a photo:" for m in staff_chat(diary)) == 4, "each under the patient's code"


@SQLITE_ONLY
async def test_crisis_words_in_disguise_get_the_crisis_text_and_an_urgent_card(diary: Diary) -> None:
    """Letters of another script that look Latin, letters typed as digits, words spelt out letter by letter."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    disguised = ["i want to k\u0456ll mys\u0435lf", "gonna k1ll mys3lf tonight", "quiero m.o.r.i.r"]
    for number, words in enumerate(disguised, 1):
        reply = await ben.send(words)
        assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or ""), words
        await diary.wait_until(lambda: len(cards(diary)) == number)  # noqa: B023 - waited for at once
        assert words in (cards(diary)[-1].caption or ""), words
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"] * 3


@SQLITE_ONLY
async def test_crisis_words_in_fancy_letters_in_a_caption_or_an_edit_get_the_crisis_text_and_an_urgent_card(
    diary: Diary,
) -> None:
    """A "fancy font" app's capitals, a small-caps app's letters in a photo's caption, digits for letters beside an
    accented one in an edit."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    bold = "".join(chr(0x1D400 + ord(c) - ord("A")) if c.isupper() else c for c in "I WANT TO KILL MYSELF")
    reply = await ben.send(bold)
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    assert bold in (cards(diary)[-1].caption or "")

    small_capitals = "\u026a \u1d00\u1d0d \ua731\u1d1c\u026a\u1d04\u026a\u1d05\u1d00\u029f"  # "i am suicidal"
    reply = ben.expect_reply()
    ben.send_photo(small_capitals)
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 2)
    assert small_capitals in (cards(diary)[-1].caption or "")

    said = ben.say("gracias")
    await ben.wait_for(lambda: (ben.last.text or "").startswith("I can't give medical advice"))
    reply = await ben.edit(said, "quier0 hacerme da\u00f10")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 3)
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"] * 3


@SQLITE_ONLY
async def test_a_caption_longer_than_a_bots_reaches_staff_whole(diary: Diary) -> None:
    """A Telegram Premium user may write a caption of 2,048 characters; a bot may send 1,024."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    caption = ("The swelling went up to the elbow overnight and the skin is shiny. " * 30)[:2000]
    reply = ben.expect_reply()
    ben.send_photo(caption)
    assert ((await reply).text or "").startswith("Thank you, your care team will see what you sent.")
    await diary.wait_until_async(lambda rows: all(r.status in ("sent", "skipped", "failed") for r in rows))
    shown = [m.text or "" for m in staff_chat(diary) if (m.text or "").startswith("The whole caption from P-0001")]
    assert "".join(part.split(":\n", 1)[1] for part in shown) == caption
    assert any(m.copied_from is not None for m in staff_chat(diary)), "the photo itself"
    assert any(m.buttons for m in staff_chat(diary)), "Reply and Seen under what staff see"
    async with diary.database.session() as session:
        failed = (await session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed"))).all()
    assert not failed


@SQLITE_ONLY
async def test_an_edit_that_changes_no_words_is_not_passed_on_again(diary: Diary) -> None:
    """Telegram may send an edited_message for a change the patient cannot see (a link's preview made
    later): staff do not get the same words again as an edit, nor the patient a reply to an edit they
    never made. A real change still goes."""
    ben, _, _ = await a_question_in_the_staff_chat(diary)
    said = next(m for m in diary.standin.chat(ben.id) if m.text == "Can I take another ibuprofen tonight?")
    await all_sent(diary)
    before, updates = len(diary.standin.chat(ben.id)), len(await diary.inbox_processed())
    # Counted before the edit: counted after, the edit could be in the count already, and waited for again.
    diary.standin.edit_user_message(said, text="Can I take another ibuprofen tonight?")
    await diary.inbox_processed(at_least=updates + 1)
    await all_sent(diary)
    assert not any("edited a message" in (m.text or "") for m in staff_chat(diary))
    assert len(diary.standin.chat(ben.id)) == before, "no reply to an edit the patient did not make"
    reply = await ben.edit(said, "Can I take another ibuprofen tonight? Or paracetamol?")
    assert reply is not None and reply.text == "Your change was passed on to your care team."
    await diary.wait_until(lambda: any("edited a message" in (m.text or "") for m in staff_chat(diary)))


@SQLITE_ONLY
async def test_a_photo_replaced_or_a_caption_removed_in_an_edit_reaches_staff(diary: Diary) -> None:
    """Telegram lets a patient replace the photo of a message they sent, keeping its caption, or remove the
    caption: staff get the message as it now is, under the patient's code."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = ben.expect_reply()
    photo = ben.send_photo("my hand this morning")
    await reply
    await diary.wait_until(lambda: sum(m.copied_from is not None for m in staff_chat(diary)) == 1)
    first = next(m for m in staff_chat(diary) if m.copied_from is not None).media

    reply = await ben.replace_media(photo, "photo")
    assert reply is not None and reply.text == "Your change was passed on to your care team."
    await diary.wait_until(lambda: sum(m.copied_from is not None for m in staff_chat(diary)) == 2)
    copied = [m for m in staff_chat(diary) if m.copied_from is not None][-1]
    assert copied.media == photo.media != first and copied.caption == "my hand this morning"
    assert any(m.text == "P-0001 edited a photo:" for m in staff_chat(diary))

    await ben.edit_caption(photo, "")
    await diary.wait_until(lambda: sum(m.copied_from is not None for m in staff_chat(diary)) == 3)
    assert [m for m in staff_chat(diary) if m.copied_from is not None][-1].caption is None


@SQLITE_ONLY
async def test_an_edit_that_only_formats_the_words_under_a_photo_or_file_is_not_passed_on_again(diary: Diary) -> None:
    """Telegram sends an edit when a patient only formats the words under a photo or a file (bold, a spoiler), as
    it does for typed words: nothing staff would see has changed. It is not copied to staff again, the patient is
    not told of a change, and words of crisis so formatted are no second crisis (no second card and escalation,
    no second crisis text). A file replaced under the same words is still copied again."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = ben.expect_reply()
    photo = ben.send_photo("I want to die")
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    reply = ben.expect_reply()
    document = ben.send_document(caption="my scan from the hospital")
    await reply
    await all_sent(diary)

    def copies() -> int:
        return sum(m.copied_from is not None for m in staff_chat(diary))

    assert (copies(), len(cards(diary))) == (2, 1)
    told = len(ben.messages)
    processed = len(await diary.inbox_processed())
    diary.standin.edit_user_message(
        photo, caption="I want to die", entities=[{"type": "bold", "offset": 10, "length": 3}]
    )
    diary.standin.edit_user_message(
        document, caption="my scan from the hospital", entities=[{"type": "spoiler", "offset": 0, "length": 7}]
    )
    await diary.inbox_processed(at_least=processed + 2)
    await all_sent(diary)
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"], "formatting is no new crisis"
    assert (copies(), len(cards(diary))) == (2, 1)
    assert len(ben.messages) == told, "the patient changed nothing staff would see"

    reply = await ben.replace_media(document, "document")
    assert reply is not None and reply.text == "Your change was passed on to your care team."
    await diary.wait_until(lambda: copies() == 3)


async def test_a_sentence_sent_in_two_messages_is_read_as_one(diary: Diary) -> None:
    """On a phone, Enter often sends: "I just want to" and "die" come as two messages."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("Could I")
    reply = await ben.send("dye my hair before the infusion?")
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    await ben.send("honestly i just want to")
    reply = await ben.send("die")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "honestly i just want to\ndie" in (cards(diary)[-1].caption or "")
    reply = await ben.send("sorry")
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or ""), "the crisis was heard once"
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"]


@SQLITE_ONLY
async def test_a_sentence_sent_in_three_or_more_messages_is_read_as_one(diary: Diary) -> None:
    """Some type a few words a message: "i want", "to", "die" each send, and no two of them read as crisis
    language. The messages typed within a short while are read together, also when one is put right."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    sentences = [["i want", "to", "die"], ["ya no", "quiero", "vivir"], ["i'm gonna", "take", "all my pills"]]
    for number, words in enumerate(sentences, 1):
        diary.clock.advance(minutes=10)  # each sentence read alone
        for word in words[:-1]:
            reply = await ben.send(word)
            assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or ""), word
        reply = await ben.send(words[-1])
        assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or ""), words
        await diary.wait_until(lambda: len(cards(diary)) == number)  # noqa: B023 - waited for at once
        assert "\n".join(words) in (cards(diary)[-1].caption or ""), words

    # Its middle message put right: "i don't", "want to", "leave anymore", then "live" for "leave".
    diary.clock.advance(minutes=10)
    for word in ["i don't", "want to"]:
        await ben.send(word)
    await ben.send("leave anymore")
    said = [m for m in diary.standin.chat(ben.id) if m.text == "leave anymore"][-1]
    assert len(cards(diary)) == 3
    reply = await ben.edit(said, "live anymore")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 4)
    assert "i don't\nwant to\nlive anymore" in (cards(diary)[-1].caption or "")

    # Words typed after a crisis was heard are not read with it again, nor with what came before it.
    reply = await ben.send("sorry")
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    # Nor are messages typed long apart.
    for word in ["i want", "to"]:
        await ben.send(word)
        diary.clock.advance(minutes=4)
    reply = await ben.send("die")
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"] * 4


@SQLITE_ONLY
async def test_a_sentence_finished_by_correcting_its_second_message_is_read_as_one(diary: Diary) -> None:
    """ "I just want to" and then "dine" (the phone's correction), put right to "die" a moment later: the edit
    is read with the message typed just before it, as the message itself was."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("honestly i just want to")
    await ben.send("dine")
    said = [m for m in diary.standin.chat(ben.id) if m.text == "dine"][-1]
    assert not cards(diary)
    reply = await ben.edit(said, "die")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "honestly i just want to\ndie" in (cards(diary)[-1].caption or "")
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"]

    # A message typed long after the one before it is read alone, as it was when it came.
    await ben.send("sometimes i want to")
    diary.clock.advance(minutes=10)
    await ben.send("dine")
    said = [m for m in diary.standin.chat(ben.id) if m.text == "dine"][-1]
    reply = await ben.edit(said, "die")
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"]


@SQLITE_ONLY
@pytest.mark.parametrize("setting", ["enabled: false\n  tier: urgent", "tier: digest"])
async def test_crisis_words_reach_staff_when_the_clinic_has_no_crisis_card_sent_at_once(
    database_url: str, tmp_path: Path, setting: str
) -> None:
    """A clinic may turn the crisis_text rule off in its rules, or send it to the daily digest (the console's
    Rules page saves either): the patient still gets the crisis text, and staff the message (or the PHQ-9
    answer), urgently, since no card shows it now."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(TEST_RULES.read_text() + f"crisis_text:\n  {setting}\n")
    async with running_diary(database_url, tmp_path / "files", rules_file=rules, instruments="phq2") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        reply = await ben.send("I want to kill myself")
        assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
        await diary.wait_until(lambda: any("I want to kill myself" in (m.text or "") for m in staff_chat(diary)))
        shown = next(m for m in staff_chat(diary) if "I want to kill myself" in (m.text or ""))
        assert (shown.text or "").startswith("Urgent: the whole message from P-0001:")
        assert [b for b, _ in shown.buttons] == ["Reply", "Seen"]

        offer = await offered(diary, ben)
        await answer_with_item_9_several_days(diary, ben, offer)
        await ben.wait_for(lambda: sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 2)
        await diary.wait_until(lambda: any("PHQ-9 question 9" in (m.text or "") for m in staff_chat(diary)))
        shown = next(m for m in staff_chat(diary) if "PHQ-9 question 9" in (m.text or ""))
        assert (shown.text or "").startswith("Urgent: the whole message from P-0001:") and "Several days" in shown.text
        assert not cards(diary)
        assert [a.rule for a in await alerts(diary)] == (["crisis_text"] * 2 if "digest" in setting else [])


@SQLITE_ONLY
async def test_crisis_words_the_diary_fails_to_store_still_get_the_crisis_text(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database down, or a bug, while a patient's message is stored: the kind error for ordinary
    words, but words of suicide or self-harm get the clinic's crisis text all the same."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)

    async def failing(**_: object) -> None:  # a bug (the database away is tried again: test_delivery_faults.py)
        raise RuntimeError("the message could not be stored")

    monkeypatch.setattr(patient_messages, "add", failing)
    reply = await ben.send("my hand is purple")
    assert reply is not None and (reply.text or "").startswith("Sorry, something went wrong")
    reply = await ben.send("I want to kill myself")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    reply = ben.expect_reply()  # a poll's words are its question and answers, as when it is stored
    diary.standin.user_media(ben.json, "poll", {"poll": CRISIS_POLL})
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    reply = ben.expect_reply()  # words quoted from another chat are his, as when stored
    his_own = {"type": "user", "sender_user": ben.json, "date": diary.standin.now() - 60}
    diary.standin.user_message(ben.json, "see?", quote="I want to kill myself", elsewhere=his_own)
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    monkeypatch.undo()

    # Stored, with its crisis text and card queued, and then something after fails: the text goes once.
    async def fails_after(*_: object) -> None:
        raise RuntimeError("showing the check-in failed")

    monkeypatch.setattr("bot.handlers.patient_messages._after_checkin_change", fails_after)
    ben.say("I want to kill myself")
    await ben.wait_for(lambda: any((m.text or "").startswith("Sorry, something went wrong") for m in ben.messages))
    await ben.wait_for(lambda: sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 4)
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    await diary.inbox_processed()
    crisis_texts = [m for m in ben.messages if BERLIN_CRISIS_LINE in (m.text or "")]
    assert len(crisis_texts) == 4, "one for each message: the three unstored ones and the stored one"


@SQLITE_ONLY
async def test_crisis_words_a_fault_keeps_from_being_stored_reach_the_admins_and_the_crisis_text_goes(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben's words of crisis meet a fault of the diary's own as they are stored (not the database away: they are not
    tried again), and Telegram answers 502 to the crisis text sent straight away. He got nothing, and nor did staff:
    no card was made, and the log alone had the update's number. Ada, the admin, is told to contact him, and the
    crisis text goes through the outbox, which tries again."""
    ben, ada = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 900, "Ada")
    await diary.enrol(ben)

    async def failing(**_: object) -> None:
        raise RuntimeError("the message could not be stored")

    monkeypatch.setattr(patient_messages, "add", failing)
    diary.standin.fail_next("sendMessage", 502, "Bad Gateway", chat_id=ben.id)
    ben.say("I want to kill myself")
    told = "P-0001 wrote words of suicide or self-harm"
    await ada.wait_for(lambda: any(told in (m.text or "") for m in ada.messages))
    await ben.wait_for(lambda: any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages))
    await diary.inbox_processed()
    await all_sent(diary)
    assert sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 1


@SQLITE_ONLY
async def test_after_a_relink_an_edit_is_read_with_the_new_accounts_message_before_it(diary: Diary) -> None:
    """Telegram numbers messages per chat: the new account's "dine", put right to "die", carries the number of
    an old account's message. The edit is of the new account's message, read with "i just want to" before it."""
    old = SimulatedUser(diary.standin, 301, "Ana")
    await diary.enrol(old)
    for n in range(12):
        await old.send(f"old phone message {n}")
        diary.clock.advance(minutes=10)  # each old message read alone
        if n == 5:  # an album: two messages and one reply, so that the old numbers are odd and even
            reply = old.expect_reply()
            for _ in range(2):
                photo = diary.standin.new_file("photo", 180_000) | {"media_group_id": "2468"}
                diary.standin.user_media(old.json, "photo", photo, caption="old phone photo")
            await reply
    diary.clock.advance(days=2)
    token = await diary.invite(relink=True)
    new = SimulatedUser(diary.standin, 311, "Ana")
    screen = await new.send(f"/start {token}")
    await new.press(data=f"cs:y:{token}", message=screen)
    stored = [m for m in diary.standin.chat(301) if (m.text or m.caption or "").startswith("old phone")]
    old_numbers = {m.message_id for m in stored}
    while max(m.message_id for m in diary.standin.chat(311)) + 3 not in old_numbers:
        await new.send("hello")
    await new.send("honestly i just want to")
    await new.send("dine")
    said = [m for m in diary.standin.chat(311) if m.text == "dine"][-1]
    assert said.message_id in old_numbers, "the edited message carries an old account's message number"
    assert not cards(diary)
    reply = await new.edit(said, "die")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "honestly i just want to\ndie" in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_a_sentence_finished_by_correcting_its_first_message_is_read_as_one(diary: Diary) -> None:
    """ "I want to kiss" (the phone's correction) and "myself", then the first put right to "I want to kill": the
    edit is read with the message typed just after it too, as that message was read with the one before."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("I want to kiss")
    await ben.send("myself")
    said = [m for m in diary.standin.chat(ben.id) if m.text == "I want to kiss"][-1]
    assert not cards(diary)
    reply = await ben.edit(said, "I want to kill")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "I want to kill\nmyself" in (cards(diary)[-1].caption or "")
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"]

    # A message typed long after is not read with the one before it.
    diary.clock.advance(minutes=10)
    await ben.send("I'm going to kiss")
    diary.clock.advance(minutes=10)
    await ben.send("myself")
    said = [m for m in diary.standin.chat(ben.id) if m.text == "I'm going to kiss"][-1]
    reply = await ben.edit(said, "I'm going to kill")
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"]


@SQLITE_ONLY
async def test_a_sentence_whose_first_message_was_put_right_before_the_second_came_is_read_as_one(
    diary: Diary,
) -> None:
    """ "I want to kiss" put right to "I want to kill", and then "myself": read with the first as it now is."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ben.send("I want to kiss")
    said = [m for m in diary.standin.chat(ben.id) if m.text == "I want to kiss"][-1]
    await ben.edit(said, "I want to kill")
    assert not cards(diary)
    reply = await ben.send("myself")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "I want to kill\nmyself" in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_a_sentence_whose_first_message_came_last_is_read_as_one(database_url: str, tmp_path: Path) -> None:
    """By webhook Telegram may deliver "honestly i just want to" after the "die" typed next (its POST failed
    and was tried again): the two are read in the order they were typed."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        diary.standin.hold_back_next()
        ben.say("honestly i just want to")
        reply = await ben.send("die")
        assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or ""), "alone, it is not crisis language"
        diary.standin.deliver_held()
        await ben.wait_for(lambda: any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages))
        await diary.wait_until(lambda: bool(cards(diary)))
        assert "honestly i just want to\ndie" in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_a_long_reply_telegram_will_not_deliver_reaches_the_staff_chat_whole_when_given_up(
    diary: Diary,
) -> None:
    """Telegram answers 502 for Ben's chat alone for over an hour: the reply owed to him is given up and the
    staff chat is told, with its words, to reach him another way. A long reply (near Telegram's 4096) with
    the notice above it is longer than one message may be: it must still arrive, in parts, not be refused
    and dropped, leaving staff sure that Ben has their answer."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    diary.standin.fail_chat(ben.id, 502, "Bad Gateway")
    reply = ("Please rest the hand 🙏 and keep it warm; ring us if the colour changes. " * 60)[:4000]
    await sam.send(reply, chat_id=STAFF_CHAT, reply_to=forwarded)

    def reply_row(rows: list[OutboxMessage]) -> OutboxMessage | None:
        return next((r for r in rows if r.chat_id == ben.id and (r.text or "").startswith("Your care team")), None)

    def given_up(rows: list[OutboxMessage]) -> bool:
        row = reply_row(rows)
        return row is not None and row.status == "failed"

    await every_five_minutes_until(diary, sam, given_up, minutes=80)
    async with diary.database.session() as session:
        rows = list((await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all())
    row = reply_row(rows)
    assert row is not None and row.status == "failed" and row.text == f"Your care team: {reply}"
    opening = "Telegram would not deliver the bot's message to P-0001"

    def told() -> str:
        parts = [m.text or "" for m in staff_chat(diary)]
        start = next((i for i, part in enumerate(parts) if part.startswith(opening)), None)
        return "" if start is None else "".join(parts[start:])

    await diary.wait_until(lambda: told().endswith(reply))
    assert all(units(m.text or "") <= 4096 for m in staff_chat(diary))


@SQLITE_ONLY
async def test_a_long_message_the_staff_chat_will_not_take_reaches_the_admins_whole_when_given_up(
    diary: Diary,
) -> None:
    """The same for the staff chat: a patient's long message owed there, given up after an hour of 502s
    while other chats' messages went through, reaches the admins in their own chats whole, in parts."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin in the test settings
    await diary.enrol(ben)
    diary.standin.fail_chat(STAFF_CHAT, 502, "Bad Gateway")
    text = ("The burning came back in the night 😣 and the fingers are stiff and shiny. " * 60)[:4000]
    await ben.send(text)

    def given_up(rows: list[OutboxMessage]) -> bool:
        return any(r.chat_id == STAFF_CHAT and r.status == "failed" for r in rows)

    await every_five_minutes_until(diary, sam, given_up, minutes=80)
    await ada.wait_for(lambda: "".join(m.text or "" for m in ada.messages).endswith(text))
    assert all(units(m.text or "") <= 4096 for m in ada.messages)


@SQLITE_ONLY
async def test_a_staff_member_who_is_also_a_patient_editing_a_reply_is_told_the_patient_has_it_as_first_sent(
    diary: Diary,
) -> None:
    """Ada, an admin, keeps a diary herself (trying it out) and answers Ben from her own chat with the bot
    (Reply under the escalation). Her correction of that reply is not her own diary's words: it must not
    reach the staff chat as her patient record's edited message, and she must hear that Ben keeps the
    reply as first sent."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin: the crisis escalates to her direct chat
    await diary.enrol(ben)
    await diary.enrol(ada, "P-0002")
    await ben.send("i wish i was dead")
    await diary.wait_until(lambda: bool(cards(diary)))
    diary.clock.advance(minutes=16)
    await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock())
    await ada.wait_for(lambda: any(m.buttons for m in ada.messages))
    await ada.press("Reply", message=next(m for m in ada.messages if m.buttons))
    reply = await ada.send("We are calling you in ten minutes.")
    assert reply is not None and reply.text == "Your reply is on its way to P-0001."
    await ben.wait_for(lambda: ben.last.text == "Your care team: We are calling you in ten minutes.")
    mine = next(m for m in diary.standin.chat(ada.id) if m.text == "We are calling you in ten minutes.")
    answer = await ada.edit(mine, "We are calling you in five minutes.")
    assert answer is not None and (answer.text or "").startswith("Edits do not reach P-0001"), answer
    assert not any("five minutes" in m.text for m in await stored_messages(diary)), "not her diary's words"
    assert ben.last.text == "Your care team: We are calling you in ten minutes."
    # A reply of hers that begins with a patient's command is her reply too, not her own diary's check-in.
    await ada.press("Reply", message=next(m for m in ada.messages if m.buttons))
    words = "/checkin tonight, please, so that we see how the swelling goes."
    reply = await ada.send(words)
    assert reply is not None and reply.text == "Your reply is on its way to P-0001.", reply
    await ben.wait_for(lambda: ben.last.text == f"Your care team: {words}")
    assert not any("swelling" in m.text for m in await stored_messages(diary)), "not her diary's words"


@SQLITE_ONLY
async def test_a_reply_in_a_group_that_is_no_longer_the_staff_chat_says_it_reached_no_one(diary: Diary) -> None:
    """An admin made another group the staff chat; the old one still holds Ben's question, and the bot. Sam
    answers it there out of habit: nothing from that group reaches a patient, and Sam must hear so, not be
    left to think that Ben has his answer."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin
    new_group = -4001
    diary.standin.add_group(new_group, "Clinic staff", [ada.id, sam.id])
    await ada.send("/staffchat", chat_id=new_group)
    answer = await sam.send("Yes, one more is fine.", chat_id=STAFF_CHAT, reply_to=forwarded)
    assert answer is not None and (answer.text or "").startswith("This group is no longer the staff chat"), answer
    assert "P-0001" not in (answer.text or ""), "no patient named in a group that is not the staff chat"
    assert not any((m.text or "").startswith("Your care team") for m in ben.messages)


@SQLITE_ONLY
async def test_a_staff_reply_that_begins_with_a_patients_command_reaches_the_patient(diary: Diary) -> None:
    """A nurse who starts a reply ("/checkin tonight, please") with the command the patient should use wrote to
    the patient. No staff command has that name, so nothing else takes it: it must not be dropped without a
    word, in the staff chat or after Reply in the nurse's own chat with the bot."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    words = "/checkin tonight, please, so that we see how the swelling goes."
    answer = await sam.send(words, chat_id=STAFF_CHAT, reply_to=forwarded)
    assert answer is not None and answer.text == "Your reply is on its way to P-0001.", answer
    await ben.wait_for(lambda: ben.last.text == f"Your care team: {words}")
    await sam.press("Reply", message=forwarded)
    reply = await sam.send("/history shows you the last 30 days.", chat_id=STAFF_CHAT)
    assert reply is not None and reply.text == "Your reply is on its way to P-0001.", reply
    await ben.wait_for(lambda: ben.last.text == "Your care team: /history shows you the last 30 days.")
    answer = await sam.send("/patients")
    assert answer is not None and "P-0001" in (answer.text or ""), "a staff command still runs"
    # A staff command mistyped after Reply is no patient's command: never sent to the patient.
    await sam.press("Reply", message=forwarded)
    sam.say("/pateint P-0002", chat_id=STAFF_CHAT)
    answer = await sam.send("/patients", chat_id=STAFF_CHAT)
    assert answer is not None and "P-0001" in (answer.text or "")
    async with diary.database.session() as session:
        queued = (await session.exec(select(OutboxMessage.text))).all()
    assert not any("pateint" in (text or "") for text in queued)


@SQLITE_ONLY
async def test_a_staff_reply_that_begins_with_a_patients_command_edited_afterwards_says_the_patient_has_it_as_sent(
    diary: Diary,
) -> None:
    """ "/history shows you the last 30 days" put right after it went: the patient keeps it as first sent, and its
    writer is told so, in their own chat with the bot and in the staff chat, as for any reply edited. The edit was
    taken for a command's edit (a command no staff member uses) and dropped without a word: they were left sure the
    patient read the correction."""
    ben, ada = await admin_pressed_reply_on_an_escalation(diary)
    words = "/history shows you the last 30 days."
    answer = await ada.send(words)
    assert answer is not None and answer.text == "Your reply is on its way to P-0001.", answer
    await ben.wait_for(lambda: ben.last.text == f"Your care team: {words}")
    mine = next(m for m in diary.standin.chat(ada.id) if m.text == words)
    told = await ada.edit(mine, "/history shows you the last 14 days.")
    assert told is not None and (told.text or "").startswith("Edits do not reach P-0001"), told

    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    words = "/checkin tonight, please, so that we see how the swelling goes."
    answer = await sam.send(words, chat_id=STAFF_CHAT, reply_to=cards(diary)[-1])
    assert answer is not None and answer.text == "Your reply is on its way to P-0001."
    await ben.wait_for(lambda: ben.last.text == f"Your care team: {words}")
    mine = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == words)
    told = await sam.edit(mine, words.replace("tonight", "tomorrow"))
    assert told is not None and (told.text or "").startswith("Edits do not reach P-0001"), told
    await all_sent(diary)
    assert ben.last.text == f"Your care team: {words}", "the patient has it as first sent"


@SQLITE_ONLY
async def test_a_card_pressed_in_a_group_that_is_no_longer_the_staff_chat_says_nothing_was_done(diary: Diary) -> None:
    """Sam presses Acknowledge on Ben's crisis card where it was posted, in a group an admin has since replaced
    as the staff chat. The bot leaves that group, as it leaves any other group asking it for something, but
    Sam must hear that the alert was not acknowledged (it goes on escalating), not be left with a silent
    button."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin
    await register_staff(diary, sam)
    await diary.enrol(ben)
    await ben.send("I want to kill myself")
    await diary.wait_until(lambda: bool(cards(diary)))
    new_group = -4001
    diary.standin.add_group(new_group, "Clinic staff", [ada.id, sam.id])
    await ada.send("/staffchat", chat_id=new_group)
    pressed = await sam.press("Acknowledge", message=cards(diary)[0])
    assert (pressed.answer or "").startswith("This group is no longer the staff chat"), pressed.answer
    assert [a.status for a in await alerts(diary)] == ["open"]


def staff_text_with(diary: Diary, words: str) -> str:
    """The staff chat's message that holds these words ("" while there is none)."""
    return next((m.text or "" for m in staff_chat(diary) if words in (m.text or "")), "")


@SQLITE_ONLY
async def test_words_quoted_from_another_chat_reach_staff_and_are_read_for_crisis(diary: Diary) -> None:
    """Telegram's "Reply in another chat": Ben quotes what he wrote to his sister elsewhere and adds a line. The
    quote holds the words that matter; it had been dropped, so staff read only "this is what I told my sister"
    and no one heard the crisis. It is part of what he sent: stored, read for crisis language, shown on the card
    and to staff marked as quoted, with whose message it was (never a name)."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    his_own = {"type": "user", "sender_user": ben.json, "date": diary.standin.now() - 3600}
    reply = ben.expect_reply()
    diary.standin.user_message(
        ben.json, "this is what I told my sister", quote="I am going to kill myself this weekend", elsewhere=his_own
    )
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    said = "> I am going to kill myself this weekend\nthis is what I told my sister"
    assert f"Message: ↪ In reply to their own message in another chat:\n{said}" in (cards(diary)[-1].caption or "")
    (stored,) = await stored_messages(diary)
    assert stored.text == said and stored.crisis

    # Someone else's words quoted, no crisis: a message for staff, with the quote and whose it was.
    hidden = {"type": "hidden_user", "sender_user_name": "Dr Lee", "date": diary.standin.now() - 60}
    reply = ben.expect_reply()
    diary.standin.user_message(ben.json, "is this right?", quote="Take two at night", elsewhere=hidden)
    assert ((await reply).text or "").startswith("I can't give medical advice")
    await diary.wait_until(lambda: any("is this right?" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "is this right?") == (
        "Message from P-0001:\n↪ In reply to a message whose author is hidden in another chat:\n"
        "> Take two at night\nis this right?"
    )
    assert "Dr Lee" not in " ".join(m.text or m.caption or "" for m in staff_chat(diary))

    # Quoted with a command: the quote is his words all the same.
    reply = ben.expect_reply()
    diary.standin.user_message(ben.json, "/help", quote="I'm going to end it all tonight", elsewhere=his_own)
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 2)


@SQLITE_ONLY
async def test_callme_as_a_reply_in_another_chat_asks_staff_to_call_and_passes_the_quote_on(diary: Diary) -> None:
    """Ben quotes his sister's "you should ask them to call you" from another chat and types /callme. The quote
    was passed on as his message, stored under the update, and the request then found that update stored and
    did nothing: no card, no word to Ben that anyone would call."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    sister = {"type": "user", "sender_user": {"id": 556, "is_bot": False, "first_name": "Ana"}, "date": 1}
    diary.standin.user_message(ben.json, "/callme", quote="you should ask them to call you", elsewhere=sister)
    await ben.wait_for(lambda: any("asked to contact you" in (m.text or "") for m in ben.messages))
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "The patient asks to be contacted" in (cards(diary)[0].caption or "")
    await diary.wait_until(lambda: any("you should ask them" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "you should ask them") == (
        "Message from P-0001:\n↪ In reply to someone else's message in another chat:\n> you should ask them to call you"
    )


@SQLITE_ONLY
async def test_a_forwarded_message_reaches_staff_saying_whose_words_they_are(diary: Diary) -> None:
    """A forward reached staff, and a crisis card, as if Ben had written it: a friend's "I want to die" read as
    his own, a channel's photo as his. Staff see that it was forwarded and whose it was (never a name); the
    diary's own PHQ-9 question forwarded back is the diary's words, no crisis of his."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    tom = {"id": 555, "is_bot": False, "first_name": "Tom"}
    reply = ben.expect_reply()
    friend = {"type": "user", "sender_user": tom, "date": diary.standin.now() - 600}
    diary.standin.user_message(ben.json, "I want to die, nobody would miss me", forwarded=friend)
    assert BERLIN_CRISIS_LINE in ((await reply).text or ""), "still heard: staff judge whose crisis it is"
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "Message: ↪ Forwarded: someone else's message.\nI want to die" in (cards(diary)[-1].caption or "")

    channel = {"type": "channel", "chat": {"id": -1007, "type": "channel", "title": "CRPS news"}, "message_id": 4}
    photo = diary.standin.new_file("photo", 180_000)
    diary.standin.user_media(ben.json, "photo", photo, caption="new trial", forwarded=channel | {"date": 1})
    await diary.wait_until(lambda: any(m.copied_from is not None for m in staff_chat(diary)))
    assert "P-0001 sent a photo:\n↪ Forwarded: a message of a group or channel." in [m.text for m in staff_chat(diary)]

    question = Catalog.load("en").text("en", "items.phq_self_harm.question")
    from_the_diary = {"type": "user", "sender_user": diary.standin.bot, "date": diary.standin.now() - 60}
    reply = ben.expect_reply()
    diary.standin.user_message(ben.json, question, forwarded=from_the_diary)
    assert ((await reply).text or "").startswith("I can't give medical advice")
    await diary.wait_until(lambda: any(question in (m.text or "") for m in staff_chat(diary)))
    forwarded = staff_text_with(diary, question)
    assert forwarded == f"Message from P-0001:\n↪ Forwarded: a message from the diary.\n{question}"
    # Nor is it read as the start of a sentence he goes on typing: a forward is not what he typed.
    reply = await ben.send("what does this question mean?")
    assert reply is not None and (reply.text or "").startswith("I can't give medical advice")
    assert len(await alerts(diary)) == 1
    shown = " ".join(m.text or m.caption or "" for m in staff_chat(diary))
    assert "Tom" not in shown and "CRPS news" not in shown


@SQLITE_ONLY
async def test_a_forward_at_the_note_question_reaches_staff_and_is_not_the_patients_note(diary: Diary) -> None:
    """A friend's words forwarded while the check-in asks for a note are the friend's, for staff to read: they
    were stored as Ben's note, and staff never saw them."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await up_to_the_note(ben, "5")
    friend = {"type": "user", "sender_user": {"id": 555, "is_bot": False, "first_name": "Tom"}, "date": 1}
    reply = ben.expect_reply()
    diary.standin.user_message(ben.json, "my knee is killing me, can't walk", forwarded=friend)
    await reply
    await diary.wait_until(lambda: any("my knee is killing me" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "my knee is killing me").startswith(
        "Message from P-0001:\n↪ Forwarded: someone else's message."
    )
    await ben.send("slept badly")  # the check-in still waits for his own note
    async with diary.database.session() as session:
        rows = (await session.exec(select(PatientMessage).order_by(col(PatientMessage.id)))).all()
    assert [(r.kind, r.filed_as) for r in rows] == [("forwarded", "message"), ("text", "note")]


@SQLITE_ONLY
async def test_a_follow_up_after_a_crisis_caption_or_many_lines_is_a_crisis_card(diary: Diary) -> None:
    """ "Already took them" after crisis words in a photo's caption, and after twenty lines typed since."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = ben.expect_reply()
    ben.send_photo("going to take all of these tonight, I want to die")
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    for n in range(21):
        await ben.send(f"line {n}")
    await crisis(diary, ben, "already took them")
    reply = ben.expect_reply()
    ben.send_photo("tonight")  # a follow-up in a caption
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 3)
    assert "already took them\ntonight" in (cards(diary)[-1].caption or "")

    # A friend's words forwarded are no crisis of Ben's to follow up ("tonight" may be the friend's plan: staff
    # have the forward's own card).
    diary.clock.advance(minutes=31)
    friend = {"type": "user", "sender_user": {"id": 555, "is_bot": False, "first_name": "Tom"}, "date": 1}
    reply = ben.expect_reply()
    diary.standin.user_message(ben.json, "I am going to kill myself", forwarded=friend)
    await reply
    await diary.wait_until(lambda: len(cards(diary)) == 4)
    reply = await ben.send("tonight")
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")


@SQLITE_ONLY
async def test_a_reply_to_an_earlier_message_reaches_staff_with_what_it_answers(diary: Diary) -> None:
    """Ben answers the care team's question with a Telegram reply: "no". Staff, who may have asked him several
    things, read "no" alone. They see what it answers; a part of it he quoted is theirs, not his words (the
    question speaks of dying, his answer does not: no crisis)."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    asked = "Are you sleeping? Any thoughts that you would be better off dead?"
    await sam.send(asked, chat_id=STAFF_CHAT, reply_to=forwarded)
    await ben.wait_for(lambda: ben.last.text == f"Your care team: {asked}")
    question = ben.last
    await ben.send("not much", reply_to=question)
    await diary.wait_until(lambda: any("not much" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "not much") == (
        f"Message from P-0001:\n↪ In reply to a message from the diary:\n> Your care team: {asked}\nnot much"
    )
    diary.standin.user_message(
        ben.json, "no, never", reply_to=question, quote="thoughts that you would be better off dead"
    )
    await diary.wait_until(lambda: any("no, never" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "no, never") == (
        "Message from P-0001:\n↪ In reply to a message from the diary:\n"
        "> thoughts that you would be better off dead\nno, never"
    )
    photo = ben.send_photo()
    await ben.send("this one is from this morning", reply_to=photo)
    await diary.wait_until(lambda: any("this morning" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "this morning") == (
        "Message from P-0001:\n↪ In reply to their own message: a photo.\nthis one is from this morning"
    )
    await all_sent(diary)
    assert not await alerts(diary)


async def test_a_reply_to_the_care_team_during_a_checkin_reaches_staff(diary: Diary) -> None:
    """Sam asked Ben how many tablets he took; Ben, in the middle of a check-in, answered with a Telegram reply to
    Sam's message. His "2" became the check-in's pain, and his words its note: Sam never saw an answer in the staff
    chat. A reply to what the care team (or the diary for them) wrote him is for them; what he types without one
    still answers the check-in."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await sam.send("How many tablets did you take today?", chat_id=STAFF_CHAT, reply_to=forwarded)
    await ben.wait_for(lambda: ben.last.text == "Your care team: How many tablets did you take today?")
    asked = ben.last
    checkin = await ben.send("/checkin")
    reply = await ben.send("2", reply_to=asked)
    assert reply is not None and (reply.text or "").startswith("I can't give medical advice"), reply
    await diary.wait_until(lambda: staff_text_with(diary, "\n2") != "")
    assert not await diary.answers(), "not the check-in's pain"
    await ben.press("7", message=checkin)
    reply = await ben.send("only two, the second at lunch", reply_to=asked)
    assert reply is not None and (reply.text or "").startswith("I can't give medical advice"), reply
    await diary.wait_until(lambda: any("second at lunch" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "second at lunch").startswith(
        "Message from P-0001:\n↪ In reply to a message from the diary:\n> Your care team: How many tablets"
    )
    received = next(m for m in reversed(ben.messages) if (m.text or "").startswith("I can't give medical advice"))
    await ben.send("it is about the same as yesterday", reply_to=received)
    await diary.wait_until(lambda: any("same as yesterday" in (m.text or "") for m in staff_chat(diary)))
    for label in ["The same", "The same", "Not swollen", "4 Good"]:
        await ben.press(label, message=checkin)
    ben.send_photo("this is it now", reply_to=asked)  # at the note question, a photo would answer it
    await diary.wait_until(lambda: any(m.copied_from is not None for m in staff_chat(diary)))
    await all_sent(diary)
    assert [c.step for c in await diary.checkins()] == ["note"], "not the note"
    await ben.send("the hand is stiff")  # no reply: the check-in's
    await ben.wait_for(lambda: ben.last.text == "Thank you, your note is saved.")
    await all_sent(diary)
    answers = {a.item: a.value for a in await diary.answers()}
    assert answers["pain"] == "7" and answers["note"] == "the hand is stiff", answers
    assert [m.filed_as for m in await stored_messages(diary)] == ["message"] * 5 + ["note"]


@SQLITE_ONLY
async def test_a_long_reply_to_the_care_team_during_a_checkin_reaches_staff_whole(diary: Diary) -> None:
    """Ben's answer to Sam, a Telegram reply typed during a check-in, is longer than a message may be: Telegram's app
    sends it as two messages a moment apart, and only the first is a reply. The first reached staff; the rest was
    taken for the check-in's note, and staff read half an answer."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await sam.send("Can you tell me how the last week went?", chat_id=STAFF_CHAT, reply_to=forwarded)
    await ben.wait_for(lambda: ben.last.text == "Your care team: Can you tell me how the last week went?")
    asked = ben.last
    checkin = await ben.send("/checkin")
    await ben.press("7", message=checkin)
    first, second = split(
        "The hand burned most nights and the fingers were stiff. " * 80 + "Ring me, Paul.", TEXT_LIMIT
    )
    assert units(first) > 4000 and "Ring me, Paul." in second
    handled = len(await diary.inbox_processed())
    ben.say(first, reply_to=asked)
    ben.say(second)
    await diary.inbox_processed(at_least=handled + 2)
    await all_sent(diary)
    assert any("Ring me, Paul." in (m.text or "") for m in staff_chat(diary)), "the rest reaches staff"
    assert [m.filed_as for m in await stored_messages(diary)] == ["message", "message", "message"]
    assert {a.item for a in await diary.answers()} == {"pain"}, "no note"


@SQLITE_ONLY
async def test_words_typed_in_a_topic_of_the_patients_chat_reach_staff_as_typed_not_as_a_reply(diary: Diary) -> None:
    """A bot whose owner turned on threaded mode has topics in its private chats (Bot API 9.3). Ben writes in a
    topic of his chat with the diary: Telegram gives every message typed there, not as a reply to another, as a
    reply to the topic's first message, the service message "topic created". Staff read each of his messages, and
    the crisis card, under "In reply to their own message: a message.", a reply to nothing they could see; and an
    edit as well. Typed in a topic, words are typed words; a reply he makes there is still a reply. The crisis text, and
    what he is told of his messages, went to the chat's main view, not the topic he was reading."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    topic = diary.standin.open_topic(ben.id, "My hand", by=ben)
    swollen = diary.standin.user_message(ben.json, "my hand is swollen today", topic=topic)
    await diary.wait_until(lambda: any("swollen today" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "swollen today") == "Message from P-0001:\nmy hand is swollen today"

    diary.standin.edit_user_message(swollen, text="my left hand is swollen today")
    await diary.wait_until(lambda: any("my left hand" in (m.text or "") for m in staff_chat(diary)))
    assert "In reply" not in staff_text_with(diary, "my left hand")

    diary.standin.user_message(ben.json, "and now it is purple", topic=topic, reply_to=swollen)
    await diary.wait_until(lambda: any("now it is purple" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "now it is purple") == (
        "Message from P-0001:\n↪ In reply to their own message:\n> my left hand is swollen today\nand now it is purple"
    )
    await all_sent(diary)  # what Ben is told of these first

    reply = ben.expect_reply()
    diary.standin.user_message(ben.json, "i want to die", topic=topic)
    told = await reply
    assert BERLIN_CRISIS_LINE in (told.text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "Message: i want to die\n" in (cards(diary)[-1].caption or "")
    # What he is told goes to the topic he wrote in, the crisis text first: in the chat's main view he may not see it.
    assert told.thread == topic.thread
    told_of = (
        "Thank you, your care team",
        "I can't give medical advice",
        "Your change",
    )  # its name, 2 messages, an edit
    acknowledged = [m for m in ben.messages[1:] if (m.text or "").startswith(told_of)]
    assert len(acknowledged) == 4 and all(m.thread == topic.thread for m in acknowledged), acknowledged
    # The topic deleted since (Telegram: "message thread not found"): what he is told goes to the chat's main view.
    await all_sent(diary)
    diary.clock.advance(hours=2)
    diary.standin.fail_next("sendMessage", 400, "Bad Request: message thread not found", chat_id=ben.id)
    reply = ben.expect_reply()
    diary.standin.user_message(ben.json, "my fingers are stiff", topic=topic)
    told = await reply
    assert (told.text or "").startswith("I can't give medical advice") and told.thread is None, told


@SQLITE_ONLY
async def test_a_name_a_patient_gives_a_topic_of_their_chat_reaches_staff_and_is_read(diary: Diary) -> None:
    """In threaded mode a patient may open topics in his chat with the diary and name them, or rename them: the name
    is words he wrote, which Telegram gives only as a service message ("topic created", "topic edited"). They were
    dropped with the chat's service messages: staff never read them, and no one heard the crisis in a topic named
    "I want to end my life". A name Telegram gave a topic he opened without naming it is not his: nothing for staff."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    unnamed = diary.standin.open_topic(ben.id, "New Chat", by=ben, implicit=True)
    diary.standin.user_message(ben.json, "my hand is swollen today", topic=unnamed)
    await diary.wait_until(lambda: any("swollen today" in (m.text or "") for m in staff_chat(diary)))
    await all_sent(diary)

    reply = ben.expect_reply()
    flares = diary.standin.open_topic(ben.id, "flares at night", by=ben)
    assert ((await reply).text or "").startswith("Thank you, your care team will see what you sent")
    await diary.wait_until(lambda: any("flares at night" in (m.text or "") for m in staff_chat(diary)))
    assert staff_text_with(diary, "flares at night") == (
        "P-0001 sent a name for a new topic in their chat:\nflares at night"
    )
    await all_sent(diary)

    reply = ben.expect_reply()
    diary.standin.rename_topic(flares, "I want to end my life", by=ben)
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert "I want to end my life" in (cards(diary)[-1].caption or "")
    await all_sent(diary)
    assert "New Chat" not in " ".join(m.text or m.caption or "" for m in staff_chat(diary))
    assert [m.kind for m in await stored_messages(diary)] == ["text", "forum_topic_created", "forum_topic_edited"]


@SQLITE_ONLY
async def test_a_worrying_answer_typed_in_reply_to_the_questionnaires_self_harm_question_is_a_crisis(
    database_url: str, tmp_path: Path
) -> None:
    """The PHQ-9 asks how often Ben has had "thoughts that you would be better off dead, or of hurting yourself in some
    way". He does not press a button: he replies to the question, quoting "better off dead", "yes, every day now". A
    press of any answer but "Not at all" is a crisis; his words reached staff as a message among others, with no
    crisis text for him and no urgent card. Replied to that question, a worrying answer is heard as crisis language
    (as it is to a care team's screening question); a reassuring one is not."""
    async with running_diary(database_url, tmp_path / "files", instruments="phq2") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        shown = await up_to_the_self_harm_question(diary, ben)
        assert "better off dead" in (shown.text or "")
        diary.standin.user_message(ben.json, "no, never", reply_to=shown, quote="better off dead")
        await diary.wait_until(lambda: any("no, never" in (m.text or "") for m in staff_chat(diary)))
        await all_sent(diary)
        assert not cards(diary)

        reply = ben.expect_reply()
        diary.standin.user_message(ben.json, "yes, every day now", reply_to=shown, quote="better off dead")
        assert BERLIN_CRISIS_LINE in ((await reply).text or "")
        await diary.wait_until(lambda: bool(cards(diary)))
        caption = cards(diary)[-1].caption or ""
        question = "Thoughts that you would be better off dead or of hurting yourself in some way"
        assert f"In answer to the diary's question “{question}”:\nyes, every day now" in caption


@SQLITE_ONLY
async def test_a_worrying_answer_typed_without_a_reply_at_the_self_harm_question_is_a_crisis(
    database_url: str, tmp_path: Path
) -> None:
    """The PHQ-9 shows its self-harm question and Ben types "yes, most days" instead of pressing, not as a Telegram
    reply: what a press of it would be, a crisis. Typed long after the question was shown, "yes" may answer anything,
    and is an ordinary message."""
    async with running_diary(database_url, tmp_path / "files", instruments="phq2") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        assert "better off dead" in ((await up_to_the_self_harm_question(diary, ben)).text or "")
        diary.clock.advance(minutes=31)
        await ben.send("yes, the physio was good")
        await all_sent(diary)
        assert not cards(diary)

        diary.clock.advance(minutes=-30)  # back to a minute after the question was shown
        reply = ben.expect_reply()
        ben.say("yes, most days")
        assert BERLIN_CRISIS_LINE in ((await reply).text or "")
        await diary.wait_until(lambda: bool(cards(diary)))
        assert "In answer to the diary's question" in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_an_answer_of_the_self_harm_question_typed_as_its_button_reads_is_a_crisis(
    database_url: str, tmp_path: Path
) -> None:
    """Hands that hurt type rather than press: at the PHQ-9's self-harm question Ben types the answer as its button
    reads ("Nearly every day") or its number. A press of it is a crisis; typed, it reached staff as a bare "Nearly
    every day" among his messages, with no crisis text and no card. "Not at all" typed stays a message."""
    async with running_diary(database_url, tmp_path / "files", instruments="phq2") as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await up_to_the_self_harm_question(diary, ben)
        for ordinary in ("Not at all", "0"):
            reply = await ben.send(ordinary)
            assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or ""), ordinary
        await all_sent(diary)
        assert not cards(diary)

        for number, typed in enumerate(["nearly every day.", "2"], 1):
            reply = await ben.send(typed)
            assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or ""), typed
            await diary.wait_until(lambda: len(cards(diary)) == number)  # noqa: B023 - waited for at once
            caption = cards(diary)[-1].caption or ""
            assert caption.startswith("🔴 URGENT") and "In answer to the diary's question" in caption, typed
            assert typed in caption
