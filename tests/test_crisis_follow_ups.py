"""Words that follow up a crisis ("already took them", "tonight") are a crisis card of their own after every kind of
crisis, counted from when they were written, read as crisis words are read, and shown whole: the real bot over HTTP
against the stand-in.

The window opens after a crisis answer pressed in the PHQ-9 as after crisis words typed, and not after a friend's
crisis words forwarded in a photo's caption. An edit is counted from when it was made, a caption's edit too, or from
when its message first came. A follow-up in disguise ("t0night", "d o n e") is heard. One typed in several messages,
or in a text Telegram split, reaches staff whole; the messages are read together only near where they meet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.alerts.crisis import CrisisLanguage, Finding
from bot.sandbox import SimulatedUser
from storage import patient_messages
from storage.models import PatientMessage
from tests.harness import SQLITE_ONLY, Diary, running_diary
from tests.test_alerts import register_staff, staff_chat
from tests.test_care_team import BERLIN_CRISIS_LINE, alerts, all_sent, an_acknowledged_crisis, cards, crisis
from tests.test_instruments import NEARLY_EVERY_DAY, NOT_AT_ALL, answer_with_item_9_several_days, offered
from tests.test_webhook import behind_a_webhook


@pytest.fixture
async def diary(database_url: str, tmp_path: Path) -> AsyncIterator[Diary]:
    """With the mood questionnaire offered after a check-in (the PHQ-9 follows a positive PHQ-2)."""
    async with running_diary(database_url, tmp_path / "files", instruments="phq2") as running:
        yield running


FRIEND = {"type": "user", "sender_user": {"id": 555, "is_bot": False, "first_name": "Tom"}, "date": 1}


async def ordinary(user: SimulatedUser, text: str) -> None:
    """The patient writes it; it is answered as an ordinary message, not with the crisis text."""
    reply = await user.send(text)
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or ""), text


@SQLITE_ONLY
async def test_a_follow_up_after_a_crisis_answer_pressed_in_the_phq9_is_a_crisis_card(diary: Diary) -> None:
    """PHQ-9 item 9 answered "several days" by a button is a crisis, as typed words are: "already took them" five
    minutes later is news, and staff see it with the answer it follows up."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    offer = await offered(diary, ben)
    await answer_with_item_9_several_days(diary, ben, offer)
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    diary.clock.advance(minutes=5)
    card = await crisis(diary, ben, "already took them")
    assert "PHQ-9 question 9" in (card.caption or "") and "Several days" in (card.caption or "")
    assert "already took them" in (card.caption or "")
    diary.clock.advance(minutes=31)
    await ordinary(ben, "tonight")
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"] * 2
    async with diary.database.session() as session:
        kept = select(PatientMessage.filed_as).where(PatientMessage.kind == "crisis_answer")
        shown = (await session.exec(kept)).all()
    assert list(shown) == ["answer"], "kept as the answer it is: not a message in the digest or the console"


@SQLITE_ONLY
async def test_no_window_after_a_phq9_whose_item_9_is_not_at_all(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    offer = await offered(diary, ben)
    for answer in [NEARLY_EVERY_DAY] * 2 + [NOT_AT_ALL] * 7:  # a positive PHQ-2, item 9 not at all
        await ben.press(answer, message=diary.standin.messages[ben.id][offer.message_id])
    await ordinary(ben, "already took them")
    assert not await alerts(diary)


@SQLITE_ONLY
async def test_an_edit_into_a_follow_up_is_counted_from_the_edit(diary: Diary) -> None:
    """A message sent long before the crisis, edited after it into a follow-up, is news as if sent then; so is a
    photo's caption edited so. An edit more than half an hour after the crisis is ordinary, and so is one whose
    neighbour, typed with it long before, holds words that would follow up a crisis."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ordinary(ben, "my knee is swollen")
    old = [m for m in diary.standin.chat(ben.id) if m.text == "my knee is swollen"][-1]
    await ordinary(ben, "the pills are ready at the pharmacy")
    photo_reply = ben.expect_reply()
    photo = ben.send_photo("the swelling")
    await photo_reply
    diary.clock.advance(minutes=45)
    await crisis(diary, ben, "I want to overdose")
    diary.clock.advance(minutes=5)
    reply = await ben.edit(old, "my knee is very swollen")
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")

    reply = await ben.edit(old, "already took them")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 2)
    caption = cards(diary)[-1].caption or ""
    assert "I want to overdose" in caption and "already took them" in caption

    reply = await ben.edit_caption(photo, "tonight")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 3)
    assert "already took them\ntonight" in (cards(diary)[-1].caption or "")

    diary.clock.advance(minutes=31)
    reply = await ben.edit(old, "took them")
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"] * 3


@SQLITE_ONLY
async def test_an_edit_of_a_message_typed_in_the_half_hour_is_heard_after_it(diary: Diary) -> None:
    """ "ok", typed five minutes after the crisis, edited into "already took them" half an hour later: the message
    came within the half hour, and its words are read as they now are. Counted from the edit alone, it was lost."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await crisis(diary, ben, "I want to overdose")
    diary.clock.advance(minutes=5)
    await ordinary(ben, "ok")
    ok = [m for m in diary.standin.chat(ben.id) if m.text == "ok"][-1]
    diary.clock.advance(minutes=30)
    reply = await ben.edit(ok, "already took them")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 2)
    assert "I want to overdose\nalready took them" in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_an_ordinary_edit_beside_a_message_whose_words_cannot_be_placed_is_no_follow_up(diary: Diary) -> None:
    """An old message's neighbour, typed with it long before the crisis, holds "look after my dog" and a "½", whose
    words cannot be lined up with the text as written: where the follow-up stands is unknown, so it is not taken to be
    in the edit ("my knee is very swollen"), which alone follows nothing up."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ordinary(ben, "my knee is swollen")
    old = [m for m in diary.standin.chat(ben.id) if m.text == "my knee is swollen"][-1]
    await ordinary(ben, "mum will look after my dog on Friday, I'm down to ½ a tablet")
    diary.clock.advance(minutes=45)
    await crisis(diary, ben, "I want to overdose")
    diary.clock.advance(minutes=5)
    reply = await ben.edit(old, "my knee is very swollen")
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"]


@SQLITE_ONLY
async def test_ordinary_chat_typed_close_together_needs_no_look_for_a_crisis(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages a minute apart, none with words that could follow a crisis up: the database is not asked for a crisis
    before them."""
    asked: list[object] = []
    look = patient_messages.crisis_between

    async def counted(**kwargs: object) -> object:
        asked.append(kwargs)
        return await look(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(patient_messages, "crisis_between", counted)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    for words in ["my knee hurts", "and my foot", "slept badly", "going to rest now"]:
        await ordinary(ben, words)
        diary.clock.advance(minutes=1)
    assert asked == []


@SQLITE_ONLY
async def test_a_long_text_split_is_read_for_a_follow_up_only_where_its_parts_meet(
    diary: Diary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text Telegram split in three parts of 4,000 characters, within the half hour: each part is read alone, and
    with its neighbours only near where they meet (a follow-up is a few words), not joined whole, many times over.
    "and I" / "have saved enough", across two parts, is still heard."""
    read: list[int] = []
    find = CrisisLanguage.follow_up_finding

    def measured(self: CrisisLanguage, text: str) -> Finding | None:
        read.append(len(text))
        return find(self, text)

    monkeypatch.setattr(CrisisLanguage, "follow_up_finding", measured)
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await crisis(diary, ben, "I want to overdose")
    diary.clock.advance(minutes=5)
    filler = " ".join(f"word{n}" for n in range(700))[:3990]
    await ordinary(ben, filler)
    await ordinary(ben, filler + " and I")
    read.clear()
    card = await crisis(diary, ben, "have saved enough " + filler)
    assert "and I\nhave saved enough" in (card.caption or "")
    parts = sorted(read)
    assert parts[-1] == len("have saved enough " + filler), "the part itself, read alone"
    assert parts[-2] < 2000, f"with its neighbour, only the words near where they meet: {parts}"


async def test_a_friends_crisis_words_forwarded_in_a_caption_open_no_window(diary: Diary) -> None:
    """A friend's photo forwarded with "I am going to kill myself" under it: heard (staff judge whose crisis it is,
    on its own card), but "tonight" typed next is not Ben's follow-up of it. His own crisis caption still opens the
    window. On SQLite and PostgreSQL: the forward is told apart in storage."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    reply = ben.expect_reply()
    photo = diary.standin.new_file("photo", 180_000)
    diary.standin.user_media(ben.json, "photo", photo, caption="I am going to kill myself", forwarded=FRIEND)
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    await ordinary(ben, "tonight")

    diary.clock.advance(minutes=5)
    reply = ben.expect_reply()
    ben.send_photo("I am going to kill myself")
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 2)
    card = await crisis(diary, ben, "tonight")
    assert "I am going to kill myself\ntonight" in (card.caption or "")


@SQLITE_ONLY
async def test_a_follow_up_in_disguise_is_heard(diary: Diary) -> None:
    """Digits and signs for letters, letters spelt out: read a second way, as crisis words are."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await ordinary(ben, "t0night")  # no crisis before: nothing to follow up
    await crisis(diary, ben, "I want to overdose")
    diary.clock.advance(minutes=5)
    card = await crisis(diary, ben, "t0night")
    assert "t0night" in (card.caption or "")
    diary.clock.advance(minutes=5)
    card = await crisis(diary, ben, "d o n e")
    assert "t0night\nd o n e" in (card.caption or "")


@SQLITE_ONLY
async def test_a_follow_up_typed_in_several_messages_reaches_staff_whole(diary: Diary) -> None:
    """ "already" and "took them" sent apart: the card shows both. A long text Telegram split in two, the follow-up
    in its second part: the card shows the follow-up words, and the whole text follows it."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await crisis(diary, ben, "I want to overdose")
    diary.clock.advance(minutes=5)
    await ordinary(ben, "already")
    card = await crisis(diary, ben, "took them")
    assert "I want to overdose\nalready\ntook them" in (card.caption or "")

    diary.clock.advance(minutes=10)
    first = " ".join(f"word{n}" for n in range(700))[:4000] + " and I"
    await ordinary(ben, first)
    card = await crisis(diary, ben, "have saved enough")  # "I have saved enough": across the two parts
    caption = card.caption or ""
    assert "took them" in caption and "and I\nhave saved enough" in caption, "the follow-up itself is on the card"
    await diary.wait_until(lambda: any("Urgent: the whole message" in (m.text or "") for m in staff_chat(diary)))
    whole = "".join(
        (m.text or "").split(":\n", 1)[1] for m in staff_chat(diary) if "Urgent: the whole message" in (m.text or "")
    )
    assert f"{first}\nhave saved enough" in whole


@SQLITE_ONLY
async def test_a_follow_up_typed_after_a_command_is_a_crisis_card_not_a_request_to_be_called(diary: Diary) -> None:
    """ "/callme i already took them" five minutes after "I want to overdose": the words after the command are the
    patient's, read as any typed words are, with the crisis before them. Read alone, they were a request to be
    called: an amber card, folded into the request still waiting for staff ("asked 2 times"), and no crisis text.
    So for a command's words edited in, and words that end a sentence begun in the message before, or begin one."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    reply = await ben.send("/callme")
    assert reply is not None and (reply.text or "").startswith("Thank you. Your care team has been asked")
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    first = await crisis(diary, ben, "I want to overdose")
    await sam.press("Acknowledge", message=first)
    await diary.wait_until(lambda: ben.last.text == "Your care team has seen your message.")

    diary.clock.advance(minutes=5)
    card = await crisis(diary, ben, "/callme please, i already took them")
    assert "I want to overdose" in (card.caption or "") and "i already took them" in (card.caption or "")
    request, acknowledged, urgent = await alerts(diary)
    assert (request.rule, request.details) == ("contact_request", '{"times": 1}'), "nothing folded into the request"
    assert (acknowledged.status, urgent.rule, urgent.status) == ("acknowledged", "crisis_text", "open")

    diary.clock.advance(minutes=5)
    asked = ben.say("/callme")
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Thank you. Your care team has been asked"))
    reply = await ben.edit(asked, "/callme I already took them")
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 4)
    assert "/callme I already took them" in (cards(diary)[-1].caption or "")

    diary.clock.advance(minutes=45)
    await ordinary(ben, "honestly I just want to")
    card = await crisis(diary, ben, "/help die")
    assert "honestly I just want to\n/help die" in (card.caption or "")
    assert [a.rule for a in await alerts(diary)] == ["contact_request"] + ["crisis_text"] * 4

    diary.clock.advance(minutes=45)
    reply = await ben.send("/callme please, i just want to")
    assert reply is not None and (reply.text or "").startswith("Thank you. Your care team has been asked")
    await all_sent(diary)  # the request's card, sent anew (over an hour since it last changed)
    card = await crisis(diary, ben, "die")
    assert "please, i just want to\ndie" in (card.caption or ""), "the words of /callme begin a sentence too"

    diary.clock.advance(minutes=45)
    await ordinary(ben, "honestly i just want to")
    await ben.send("/callme")
    await all_sent(diary)
    card = await crisis(diary, ben, "die")
    assert "honestly i just want to\ndie" in (card.caption or ""), "a /callme between is no blank line"


@SQLITE_ONLY
async def test_a_commands_words_are_read_without_the_command(diary: Diary) -> None:
    """ "/callme its too late" five minutes after "I want to overdose": "its too late" follows it up only as the whole
    of what is said, and read with the command word in front it was a request to be called, no crisis. The command's
    words are read as typed words are; the card shows them after the command, as sent. So is "/callme myself" after
    "honestly i want to kill": it ends the sentence."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await crisis(diary, ben, "I want to overdose")
    diary.clock.advance(minutes=5)
    card = await crisis(diary, ben, "/callme its too late")
    assert "I want to overdose\n/callme its too late" in (card.caption or "")
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"] * 2, "no request to be called besides"

    diary.clock.advance(minutes=45)
    await ordinary(ben, "honestly i want to kill")
    card = await crisis(diary, ben, "/callme myself")
    assert "honestly i want to kill\n/callme myself" in (card.caption or "")


@SQLITE_ONLY
async def test_a_follow_up_delivered_before_the_crisis_it_follows_up_is_a_crisis_card(
    database_url: str, tmp_path: Path
) -> None:
    """By webhook Telegram may deliver "I want to overdose" after the "already took them" typed next (its POST failed
    and was tried again). Read when it came, "already took them" had no crisis before it: an ordinary message, and
    "I want to overdose" was then a card alone, which staff acknowledge as all there is. Read in the order typed, the
    follow-up is a crisis card of its own, with its crisis text and escalation."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        diary.standin.hold_back_next()
        ben.say("I want to overdose")
        diary.clock.advance(minutes=2)
        await ordinary(ben, "already took them")  # nothing before it yet
        diary.standin.deliver_held()
        await diary.wait_until(lambda: len(cards(diary)) == 2)
        first, second = cards(diary)
        assert "I want to overdose" in (first.caption or "") and "already took them" not in (first.caption or "")
        assert "I want to overdose\nalready took them" in (second.caption or "")
        assert [(a.rule, a.status) for a in await alerts(diary)] == [("crisis_text", "open")] * 2
        await ben.wait_for(lambda: sum(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages) == 2)
        async with diary.database.session() as session:
            kept = (await session.exec(select(PatientMessage).order_by(PatientMessage.id))).all()
        assert [(m.text, m.crisis) for m in kept] == [("already took them", True), ("I want to overdose", True)]
        # Seen under the follow-up as it first came, an ordinary message, is no look at its card: read there, it
        # was read without the crisis it follows up.
        sam = SimulatedUser(diary.standin, 800, "Sam")
        await register_staff(diary, sam)
        plain = next(m for m in staff_chat(diary) if "already took them" in (m.text or "") and m.buttons)
        await sam.press("Seen", message=plain)
        assert [a.status for a in await alerts(diary)] == ["open", "open"]


@SQLITE_ONLY
async def test_a_follow_up_replied_to_the_crisis_it_follows_up_is_a_crisis_card_however_late(diary: Diary) -> None:
    """ "I am going to take all my pills tonight" at six, acknowledged; at eleven Ben answers that very message, with
    Telegram's Reply on it, "done". Past the half hour, "done" was read alone: an ordinary message at the hour nobody
    reads the staff chat. A reply says what it follows up, however late. A reply to an ordinary message of his, or
    to a friend's crisis words he forwarded, follows nothing up."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    sam = SimulatedUser(diary.standin, 800, "Sam")
    await register_staff(diary, sam)
    await diary.enrol(ben)
    first = await crisis(diary, ben, "I am going to take all my pills tonight")
    said = [m for m in diary.standin.chat(ben.id) if m.text == "I am going to take all my pills tonight"][-1]
    await sam.press("Acknowledge", message=first)
    await ben.wait_for(lambda: ben.last.text == "Your care team has seen your message.")

    diary.clock.advance(hours=5)
    before = len(cards(diary))
    reply = await ben.send("done", reply_to=said)
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) > before)
    assert "I am going to take all my pills tonight\ndone" in (cards(diary)[-1].caption or "")
    assert [a.status for a in await alerts(diary)] == ["acknowledged", "open"]

    diary.clock.advance(hours=1)
    await ordinary(ben, "my hand is purple")
    purple = [m for m in diary.standin.chat(ben.id) if m.text == "my hand is purple"][-1]
    diary.clock.advance(hours=1)
    reply = ben.expect_reply()
    diary.standin.user_message(ben.json, "I am going to kill myself", forwarded=FRIEND)
    assert BERLIN_CRISIS_LINE in ((await reply).text or "")
    friends = [m for m in diary.standin.chat(ben.id) if m.text == "I am going to kill myself"][-1]
    diary.clock.advance(hours=1)
    reply = await ben.send("done", reply_to=purple)
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    reply = await ben.send("done", reply_to=friends)
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")


@SQLITE_ONLY
async def test_a_follow_up_in_two_messages_delivered_before_the_crisis_is_a_crisis_card(
    database_url: str, tmp_path: Path
) -> None:
    """ "ive taken" and "them all": neither part alone follows up a crisis, the two together do. When "I want to
    overdose", typed before them, comes after them (a webhook POST tried again), they are read again in the order
    typed, together, on the same side of it: a card of their own. Which side a message is on is the order typed, not
    the order stored (the crisis stored last would have every part on the other side of it)."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        diary.standin.hold_back_next()
        ben.say("I want to overdose")
        diary.clock.advance(minutes=2)
        await ordinary(ben, "ive taken")
        await ordinary(ben, "them all")
        processed = len(await diary.inbox_processed())
        diary.standin.deliver_held()
        await diary.inbox_processed(at_least=processed + 1)
        await all_sent(diary)
        assert len(cards(diary)) == 2, [c.caption for c in cards(diary)]
        assert "I want to overdose\nive taken\nthem all" in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_a_reply_to_a_crisis_from_before_a_link_opened_again_on_the_same_account_follows_it_up(
    diary: Diary,
) -> None:
    """A second link of Ben's record opened on his own account (a readmission, a re-link asked for a new phone that
    keeps the account) moves nothing: his messages before it are still his, and "done" with Reply on his crisis
    message is a card. Cut off at the link's consent, it was an ordinary message."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await crisis(diary, ben, "I am going to take all my pills tonight")
    said = [m for m in diary.standin.chat(ben.id) if m.text == "I am going to take all my pills tonight"][-1]
    diary.clock.advance(minutes=40)
    token = await diary.invite(relink=True)
    screen = await ben.send(f"/start {token}")
    await ben.press(data=f"cs:y:{token}", message=screen)
    diary.clock.advance(hours=2)
    before = len(cards(diary))
    reply = await ben.send("done", reply_to=said)
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or ""), reply
    await diary.wait_until(lambda: len(cards(diary)) > before)


@SQLITE_ONLY
async def test_after_a_relink_a_reply_to_the_new_accounts_message_follows_up_no_old_crisis(diary: Diary) -> None:
    """Telegram numbers a chat's messages from 1: after a re-link the new account's ordinary message "I need to book
    my physio appointment" carries the number of the old account's "I am going to take all my pills tonight". "done",
    replied to the physio message, answers that, not the old account's crisis: an ordinary message."""
    old = SimulatedUser(diary.standin, 301, "Ana")
    await diary.enrol(old)
    await crisis(diary, old, "I am going to take all my pills tonight")
    said = [m for m in diary.standin.chat(old.id) if m.text == "I am going to take all my pills tonight"][-1]
    diary.clock.advance(days=3)
    token = await diary.invite(relink=True)
    new = SimulatedUser(diary.standin, 311, "Ana")
    screen = await new.send(f"/start {token}")
    await new.press(data=f"cs:y:{token}", message=screen)
    while max(m.message_id for m in diary.standin.chat(new.id)) + 1 < said.message_id:
        await new.send("hello")
    await ordinary(new, "I need to book my physio appointment")
    physio = [m for m in diary.standin.chat(new.id) if m.text == "I need to book my physio appointment"][-1]
    assert physio.message_id == said.message_id, "the new account's message has the old crisis message's number"
    diary.clock.advance(hours=2)
    before = len(cards(diary))
    reply = await new.send("done", reply_to=physio)
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    assert len(cards(diary)) == before


@SQLITE_ONLY
async def test_a_reply_to_a_crisis_message_put_right_follows_its_words_as_they_now_read(diary: Diary) -> None:
    """ "I want to die", put right at once to "I want to dine out tonight" (a slip of the thumb; the crisis card stays):
    hours later Ben answers that message, as it now reads, with Reply: "done". It follows up the dinner, not a
    crisis: an ordinary message."""
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    await crisis(diary, ben, "I want to die")
    said = [m for m in diary.standin.chat(ben.id) if m.text == "I want to die"][-1]
    diary.clock.advance(minutes=1)
    await ben.edit(said, "I want to dine out tonight")
    diary.clock.advance(hours=5)
    before = len(cards(diary))
    reply = await ben.send("done", reply_to=said)
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or "")
    assert len(cards(diary)) == before


@SQLITE_ONLY
async def test_an_edit_after_a_crisis_that_came_late_is_read_with_what_was_typed_after_the_crisis(
    database_url: str, tmp_path: Path
) -> None:
    """ "I want to overdose" comes after the "ive taken" typed next (webhook); then Ben types "the bus" and puts it
    right to "them all". The edit is read with "ive taken", typed on the same side of the crisis as "the bus" was,
    though stored before the crisis: "ive taken\\nthem all" is a card."""
    async with behind_a_webhook(database_url, tmp_path) as diary:
        ben = SimulatedUser(diary.standin, 301, "Ben")
        await diary.enrol(ben)
        diary.standin.hold_back_next()
        ben.say("I want to overdose")
        diary.clock.advance(minutes=1)
        await ordinary(ben, "ive taken")
        processed = len(await diary.inbox_processed())
        diary.standin.deliver_held()
        await diary.inbox_processed(at_least=processed + 1)
        await all_sent(diary)  # its crisis text, before the next message's answer
        diary.clock.advance(minutes=1)
        await ordinary(ben, "the bus")
        bus = [m for m in diary.standin.chat(ben.id) if m.text == "the bus"][-1]
        diary.clock.advance(minutes=1)
        reply = await ben.edit(bus, "them all")
        assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
        await diary.wait_until(lambda: len(cards(diary)) == 2)
        assert "ive taken\nthem all" in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_a_voice_message_after_a_crisis_is_an_urgent_card_of_its_own(diary: Diary) -> None:
    """Minutes after "I want to overdose", its card acknowledged, Ben sends a voice message: the diary cannot hear
    what he said ("I took them"). It reached staff as any voice message does, with no card and no escalation. In the
    half hour after his crisis, a voice or video message, or a photo with no words, is an urgent card of its own saying
    so; he is not sent the crisis text again. A photo with words is read as its words; after the half hour, ordinary."""
    ben = await an_acknowledged_crisis(diary)
    diary.clock.advance(minutes=4)
    for n, send in enumerate((ben.send_voice, ben.send_video_note, ben.send_photo)):
        reply = ben.expect_reply()
        send()
        assert BERLIN_CRISIS_LINE not in ((await reply).text or "")
        await diary.wait_until(lambda: len(cards(diary)) == 2 + n)  # noqa: B023 (awaited in this round)
        caption = cards(diary)[-1].caption or ""
        assert caption.startswith("🔴 URGENT") and "cannot read or hear" in caption, caption
        assert "I want to overdose" in caption, "what it came after"
    reply = ben.expect_reply()
    ben.send_photo("my hand this morning")  # its words are read: what it shows is said
    await reply
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"] * 4
    handled = len(await diary.inbox_processed())
    for _photo in range(3):  # an album: a message per photo, one card
        diary.standin.user_media(ben.json, "photo", diary.standin.new_file("photo", 1000) | {"media_group_id": "7"})
    await diary.inbox_processed(at_least=handled + 3)
    await all_sent(diary)
    assert len(await alerts(diary)) == 5

    diary.clock.advance(minutes=31)
    reply = ben.expect_reply()
    ben.send_voice()
    await reply
    await all_sent(diary)
    assert len(await alerts(diary)) == 5, "past the half hour: an ordinary voice message"


@SQLITE_ONLY
async def test_an_album_after_a_crisis_with_words_under_its_first_photo_only_is_an_urgent_card(diary: Diary) -> None:
    """Minutes after "I want to overdose", Ben sends three photos at once, "look" under the first (Telegram gives an
    album as a message per photo): the words are read, and say nothing; the two photos without words the diary cannot
    see, and they may show what he took. The album's first photo had been told to him, so no card was made for the
    rest: they reached staff as any photo does. One urgent card for the album, saying so; none for an album whose
    photos all have words, and none more for one whose first photo's words are heard as crisis language."""
    ben = await an_acknowledged_crisis(diary)
    diary.clock.advance(minutes=4)
    handled = len(await diary.inbox_processed())
    told = len(ben.messages)
    for caption in ["look", None, None]:
        photo = diary.standin.new_file("photo", 1000) | {"media_group_id": "8"}
        diary.standin.user_media(ben.json, "photo", photo, caption=caption)
    await diary.inbox_processed(at_least=handled + 3)
    await all_sent(diary)
    assert len(await alerts(diary)) == 2, "one card for the album"
    caption = cards(diary)[-1].caption or ""
    assert "cannot read or hear" in caption and "I want to overdose" in caption, caption
    assert not any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages[told:]), "no crisis text again"

    handled = len(await diary.inbox_processed())
    for caption in ["my hand", "and the other one"]:
        photo = diary.standin.new_file("photo", 1000) | {"media_group_id": "9"}
        diary.standin.user_media(ben.json, "photo", photo, caption=caption)
    await diary.inbox_processed(at_least=handled + 2)
    await all_sent(diary)
    assert len(await alerts(diary)) == 2, "words under every photo: each is read"

    # Words of crisis under its first photo: that card is the album's.
    handled = len(await diary.inbox_processed())
    for caption in ["I am going to take all of these tonight", None]:
        photo = diary.standin.new_file("photo", 1000) | {"media_group_id": "10"}
        diary.standin.user_media(ben.json, "photo", photo, caption=caption)
    await diary.inbox_processed(at_least=handled + 2)
    await all_sent(diary)
    assert len(await alerts(diary)) == 3 and "cannot read" not in (cards(diary)[-1].caption or "")
